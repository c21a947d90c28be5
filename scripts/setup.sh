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

# The tests run a throwaway PostgreSQL server for a study shared by several
# machines (tests/conftest.py: postgres_url): Debian's postgresql package.
if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && ! command -v initdb >/dev/null; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing postgresql (the tests' throwaway database server)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql) >/dev/null \
      || echo "setup: could not install postgresql; its test will be skipped"
  else
    echo "setup: no PostgreSQL server: sudo apt-get install postgresql (else its test is skipped)"
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

# Theano's GPU backend: pygpu is not on PyPI; Debian's python3-pygpu 0.7.6
# (with libgpuarray-dev, the headers Theano's GPU ops compile against) is.
# Only the pygpu package is linked into .venv, never Debian's numpy.
pygpu_dir=/usr/lib/python3/dist-packages/pygpu
if [ ! -d "$pygpu_dir" ] || [ ! -f /usr/include/gpuarray/types.h ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "setup: installing python3-pygpu and libgpuarray-dev (Theano's GPU backend)"
    (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-pygpu libgpuarray-dev) >/dev/null \
      || echo "setup: could not install python3-pygpu; GPU devices stay unavailable (CPU unaffected)"
  else
    echo "setup: no GPU backend: as root, apt-get install python3-pygpu libgpuarray-dev, then rerun scripts/setup.sh"
  fi
fi
site=$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
if [ -d "$pygpu_dir" ] && [ ! -e "$site/pygpu" ]; then
  ln -s "$pygpu_dir" "$site/pygpu"
fi
