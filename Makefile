# lossbook: two commands set everything up on a fresh clone.
#   make serve   build the environment if needed, then serve the site on http://127.0.0.1:8000
#   make test    build the environment if needed, then run every check (pages, package, site)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
# The environment is rebuilt when any of these change.
STAMP := $(VENV)/.installed
export NO_MKDOCS_2_WARNING := 1

.PHONY: serve test build bench bench-build audit constraints clean

$(STAMP): pyproject.toml constraints.txt package.json package-lock.json
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check -c constraints.txt -e ".[docs,test]"
	npm ci --no-audit --no-fund --loglevel=error
	touch $(STAMP)

serve: $(STAMP)
	$(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000 --livereload

test: $(STAMP)
	$(BIN)/python -m pytest

build: $(STAMP)
	$(BIN)/mkdocs build --strict --site-dir site

# Loss speed: the book's focal loss against the common formulation, eager and under
# torch.compile (four variants); adaptive softmax against a full softmax. Each prints ratios
# measured in one run; no test times anything.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench_focal.py
	$(BIN)/python benchmarks/bench_adaptive_softmax.py

# Cold `mkdocs build` time, and the rebuild after touching one chapter: benchmarks/bench_build.py.
bench-build: $(STAMP)
	$(BIN)/python benchmarks/bench_build.py

# Lighthouse over every page (benchmarks/audit.py). Lighthouse is pinned in tools/audit/ and
# installed only here, never by `make test`; it drives Debian's Chromium (CHROME_PATH).
audit: $(STAMP)
	npm ci --prefix tools/audit --no-audit --no-fund --loglevel=error
	CHROME_PATH=$${CHROME_PATH:-/usr/bin/chromium} $(BIN)/python benchmarks/audit.py

# Re-pin every Python package to what is installed now (after changing pyproject.toml).
constraints: $(STAMP)
	{ sed -n '1,3p' constraints.txt; $(BIN)/python -m pip freeze --exclude-editable | sed 's/+cpu$$//'; } > constraints.new
	mv constraints.new constraints.txt

clean:
	rm -rf $(VENV) node_modules tools/audit/node_modules site .cache
