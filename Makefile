# lossbook: two commands set everything up on a fresh clone.
#   make serve   build the environment if needed, then serve the site on http://127.0.0.1:8000
#   make test    build the environment if needed, then run every check (pages, package, site)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The environment is rebuilt when any of these change.
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1
# An extra package index for torch, handed to pip as --extra-index-url. Empty here: this
# machine has the CPU wheel on disk. On Linux without a GPU elsewhere (CI, a reader's laptop)
# set it to PyTorch's CPU index, or pip takes the CUDA build (several GB):
#   make test TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
TORCH_INDEX_URL ?=
PIP_INSTALL := $(BIN)/python -m pip install --quiet --disable-pip-version-check \
	$(if $(TORCH_INDEX_URL),--extra-index-url $(TORCH_INDEX_URL))

.PHONY: serve test build dist bench bench-build audit constraints clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(PIP_INSTALL) -c constraints.txt -e ".[docs,test]"
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000 --livereload

test: $(STAMP)
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# The package as a reader installs it: sdist and wheel in dist/, checked by twine (metadata,
# README rendering) and check-wheel-contents (the wheel holds the package and nothing else).
# tests/test_dist.py builds the same wheel and installs it into a fresh virtual environment.
dist: $(STAMP)
	rm -rf dist
	$(BIN)/python -m build --no-isolation --outdir dist .
	$(BIN)/twine check --strict dist/*
	$(BIN)/check-wheel-contents dist/*.whl

# Loss speed and memory: the book's focal loss against the common formulation, eager and
# under torch.compile (four variants); adaptive softmax against a full softmax; the peak memory
# of LinearCrossEntropyLoss against Linear + CrossEntropyLoss. Each prints ratios or peaks
# measured in one run; no test times anything.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_focal.py
	$(BIN)/python benchmarks/bench_adaptive_softmax.py
	$(BIN)/python benchmarks/bench_linear_ce.py

# Cold `mkdocs build` time, and the rebuild after touching one chapter: benchmarks/bench_build.py.
bench-build: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

# Lighthouse over every page (benchmarks/audit.py), after a control page: Material as it comes
# (benchmarks/control/), audited in the same minutes. Lighthouse is pinned in tools/audit/ and
# installed only here, never by `make test`; it drives Debian's Chromium (CHROME_PATH).
audit: $(STAMP)
	npm ci --prefix tools/audit --no-audit --no-fund --loglevel=error
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python benchmarks/audit.py

# Re-pin every Python package to what is installed now (after changing pyproject.toml).
constraints: $(STAMP)
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) node_modules tools/audit/node_modules site .cache dist build lossbook.egg-info
