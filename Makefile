# The two commands of the README's quick start.  Each creates .venv when missing.
#   make search   set up, then run the main job (the random grid search)
#   make test     set up, then run the test suite
#   make test-lasagne  set up, then run Lasagne 0.1's own tests against kfkd.compat
KFKD_DATA_DIR ?= $(abspath ../shared/data/kfkd)
export KFKD_DATA_DIR
ARGS ?=

.PHONY: setup search test test-lasagne benchmark figures
setup:
	bash scripts/setup.sh

search: setup
	.venv/bin/python experiments/grid_search.py $(ARGS)

test: setup
	.venv/bin/python -m pytest $(ARGS)

test-lasagne: setup
	bash scripts/upstream_tests.sh $(ARGS)

benchmark: setup
	.venv/bin/python experiments/benchmark.py $(ARGS)

figures: setup
	.venv/bin/python experiments/reproduce_figures.py $(ARGS)
