#!/usr/bin/env bash
# Create .venv (when missing) with everything kfkd needs; idempotent.
# Used by `make search` and `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-$(command -v python3.11 || command -v python3)}

# Theano compiles C++ (g++) and links a BLAS: Debian's OpenBLAS (numpy's
# bundled one cannot serve).  Installed via apt when root, else named.
need=()
command -v g++ >/dev/null || need+=(g++)
ldconfig -p 2>/dev/null | grep -q 'libopenblas\.so ' || need+=(libopenblas-dev)
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing ${need[*]} (Theano's compiler / BLAS)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}") >/dev/null \
      || echo "setup: could not install ${need[*]}"
  else
    echo "setup: missing ${need[*]}: sudo apt-get install ${need[*]}"
  fi
  command -v g++ >/dev/null || { echo "setup: Theano needs g++" >&2; exit 1; }
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
