#!/usr/bin/env bash
# Lasagne 0.1's own test suite, run against kfkd.compat (README: Tests).
#
#   scripts/upstream_tests.sh [pytest args...]
#
# Fetches the Lasagne 0.1 sdist from PyPI into .upstream/ (git-ignored) once,
# checks its sha256, unpacks it, installs the tests' own dependency (mock,
# tests/upstream/requirements.txt, hash-pinned) into .upstream/site, and runs its lasagne/tests/ with this
# checkout's .venv pytest and the harness plugin tests/upstream/lasagne_upstream.py
# (kfkd.compat first; known failures from tests/upstream/expected_failures.txt
# as strict xfails).  Arguments go to pytest; test paths are relative to
# lasagne/tests, e.g.
#   scripts/upstream_tests.sh layers/test_recurrent.py -x
# Without arguments (as in CI) it runs two passes: the whole suite, then
# upstream's pooling and dropout tests against kfkd's C-op layers
# (kfkd.layers.ArgmaxPool2DLayer, PhiloxDropoutLayer) in place of Lasagne's.
#   scripts/upstream_tests.sh layers/test_dense.py \
#       --lasagne-layer DenseLayer=some.module:DenseLayer
# Theano's compile cache is kfkd's (KFKD_THEANO_CACHE overrides it).  The
# suite compiles ~220 tiny C modules that each run for milliseconds, so they
# are built with g++ -O1 -g0 instead of Theano's -O3 -g: a quarter less CPU
# cold (README: Tests).  The flags are part of Theano's cache key, so these
# modules never stand in for the project's -O3 ones.  THEANO_FLAGS wins.
# Exit status: pytest's (without arguments: 0 only if both passes pass).
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
version=0.1
sha256=3c634ecab67e43e4f18520932bfd88bd3c678ec723c48177f18799dab2411233
dir=$repo/.upstream
sdist=$dir/Lasagne-$version.tar.gz
src=$dir/Lasagne-$version
py=$repo/.venv/bin/python

verified() { echo "$sha256  $sdist" | sha256sum --check --status; }
mkdir -p "$dir"
if [ ! -f "$sdist" ] || ! verified; then
  rm -rf "$sdist" "$src"
  echo "upstream: fetching Lasagne==$version (sdist) from PyPI"
  "$py" -m pip download --quiet --no-binary :all: --no-deps \
    "Lasagne==$version" --dest "$dir"
  if ! verified; then
    echo "upstream: FAIL: $sdist does not have the pinned sha256 $sha256" >&2
    rm -f "$sdist"
    exit 1
  fi
fi
# The tests' own dependency (mock), hash-pinned, beside the sdist.
site=$dir/site
reqs=$repo/tests/upstream/requirements.txt
if [ ! -f "$site/.kfkd-installed" ] || [ "$reqs" -nt "$site/.kfkd-installed" ]; then
  rm -rf "$site"
  "$py" -m pip install --quiet --no-deps --require-hashes --target "$site" -r "$reqs"
  touch "$site/.kfkd-installed"
fi
if [ ! -f "$src/.kfkd-unpacked" ]; then
  rm -rf "$src"
  tar -xzf "$sdist" -C "$dir"
  touch "$src/.kfkd-unpacked"
fi

# The tests' folder is the working directory (so pytest's test ids and the
# expected-failure list read layers/test_pool.py::...), but neither it nor
# the sdist's root is on sys.path: `lasagne` is the installed one.
export THEANO_FLAGS="gcc__cxxflags=-O1 -g0${THEANO_FLAGS:+,$THEANO_FLAGS}"
export PYTHONPATH="$repo:$repo/tests/upstream:$site${PYTHONPATH:+:$PYTHONPATH}"
cd "$src/lasagne/tests"
upstream_pytest() {
  "$py" -m pytest -c "$repo/tests/upstream/pytest-upstream.ini" \
    --rootdir "$src/lasagne/tests" --confcutdir "$src/lasagne/tests" "$@"
}
[ $# -eq 0 ] || { upstream_pytest "$@"; exit $?; }

# No arguments (CI): pass 1, the whole suite with Lasagne's layers; pass 2,
# upstream's pooling and dropout tests with kfkd's C-op layers in their place.
set +e
upstream_pytest .
one=$?
echo "upstream: pass 1 (all of lasagne/tests): exit $one"
upstream_pytest layers/test_pool.py layers/test_noise.py \
  --lasagne-layer MaxPool2DLayer=kfkd.layers:ArgmaxPool2DLayer \
  --lasagne-layer DropoutLayer=kfkd.layers:PhiloxDropoutLayer
two=$?
echo "upstream: pass 2 (pooling, dropout tests on kfkd's C-op layers): exit $two"
[ $one = 0 ] && [ $two = 0 ]
