#!/usr/bin/env bash
# Train an experiment on every worker of a Cloud TPU VM slice; rerun the same command after a
# preemption and the run continues from its latest checkpoint (--resume). The slice is created
# when absent (or recreated when preempted), the checkout is installed on every worker, and
# jaxdl joins the workers with jax.distributed, which reads the TPU runtime's environment.
#   PROJECT=my-project WORKDIR=/mnt/shared/runs/cnn bash scripts/tpu_pod.sh mnist_cnn [--set KEY=VALUE ...]
# WORKDIR must be a folder every worker sees (NFS, Filestore, a GCS FUSE mount): orbax
# checkpoints are written by all workers together. SPOT=1 asks for a spot (preemptible) slice.
set -euo pipefail
PROJECT=${PROJECT:?set PROJECT to your Google Cloud project}
WORKDIR=${WORKDIR:?set WORKDIR to a folder every worker sees}
ZONE=${ZONE:-us-central2-b}
NAME=${NAME:-jaxdl-pod}
TYPE=${TYPE:-v4-32}
VERSION=${VERSION:-tpu-ubuntu2204-base}
EXPERIMENT=${1:?usage: scripts/tpu_pod.sh EXPERIMENT [jaxdl train options]}
shift

tpu() { gcloud compute tpus tpu-vm "$@" --project="$PROJECT" --zone="$ZONE"; }

state=$(tpu describe "$NAME" --format='value(state)' 2>/dev/null || echo ABSENT)
if [ "$state" = PREEMPTED ]; then tpu delete "$NAME" --quiet; state=ABSENT; fi
if [ "$state" = ABSENT ]; then
  tpu create "$NAME" --accelerator-type="$TYPE" --version="$VERSION" ${SPOT:+--spot}
fi

# This checkout (committed files) on every worker; `make setup` is a no-op once installed.
archive=$(mktemp --suffix=.tar.gz)
git -C "$(dirname "$0")/.." archive --format=tar.gz -o "$archive" HEAD
tpu scp "$archive" "$NAME":jaxdl.tar.gz --worker=all
# TPU VM images lack python3-venv (and may lack make), which `make setup` needs.
tpu ssh "$NAME" --worker=all --command "(python3 -m ensurepip --version && command -v make) >/dev/null ||
  (sudo apt-get update -qq && sudo apt-get install -y -qq python3-venv make) &&
  mkdir -p jaxdl && tar -xzf jaxdl.tar.gz -C jaxdl && cd jaxdl && make setup && .venv/bin/pip install --quiet -e '.[tpu]'"

args=$(printf ' %q' "$EXPERIMENT" --workdir "$WORKDIR" --resume "$@")
tpu ssh "$NAME" --worker=all --command "cd jaxdl && .venv/bin/jaxdl train$args"
