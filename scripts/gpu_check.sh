#!/usr/bin/env bash
# One command on a fresh GPU machine: a venv with the `cuda` extra (and PyTorch for the comparison
# columns), the GPU-only tests (pytest -m gpu), then benchmarks.run, which prints the GPU table
# with model FLOP/s as % of the measured peak and writes benchmarks/results/bench_gpu.{json,md}.
#   bash scripts/gpu_check.sh [benchmarks.run options, e.g. --rows mlp,gpt]
# VENV picks the venv (default .venv); TORCH=0 skips PyTorch (its columns then say so).
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VENV:-.venv}

make setup VENV="$VENV"  # the venv, the test extra and the offline datasets, as for `make test`
"$VENV/bin/pip" install --quiet -e '.[cuda]'
if [ "${TORCH:-1}" = 1 ]; then "$VENV/bin/pip" install --quiet -e '.[bench]'; fi

# The tests default to CPU (tests/conftest.py); here JAX must see the GPU, or nothing is checked.
export JAX_PLATFORMS=cuda
"$VENV/bin/jaxdl" list >/dev/null  # fails here, in one line, if the CUDA plugin cannot start
"$VENV/bin/pytest" -m gpu -n 0 -q -rs -p no:cacheprovider
"$VENV/bin/python" -m benchmarks.run "$@"
