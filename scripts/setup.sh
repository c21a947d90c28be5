#!/usr/bin/env bash
# Create .venv (when missing) with everything kfkd needs; idempotent.
# Used by `make search` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}

# Theano's BLAS: Debian's OpenBLAS (numpy's bundled one cannot serve).
if ! ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so '; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing libopenblas-dev (Theano's BLAS)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libopenblas-dev) >/dev/null \
      || echo "setup: could not install libopenblas-dev; Theano falls back to numpy's gemm (slower)"
  else
    echo "setup: libopenblas-dev missing (sudo apt-get install libopenblas-dev for speed); using numpy's gemm"
  fi
fi

stamp=.venv/.kfkd-installed
if [ ! -f "$stamp" ] || [ requirements.txt -nt "$stamp" ] || [ setup.py -nt "$stamp" ]; then
  [ -x .venv/bin/python ] || "$PY" -m venv .venv
  .venv/bin/python -m pip install -q --upgrade pip wheel "setuptools<82"
  .venv/bin/python -m pip install -q -r requirements.txt
  .venv/bin/python -m pip install -q --no-deps --no-build-isolation -e .
  .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
  touch "$stamp"
fi
