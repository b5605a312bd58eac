#!/usr/bin/env bash
# Issue #25's measurements on this machine, into results/sru-perf/: run on a quiet machine.
# Usage: bash scripts/perf_record.sh [OUT]   (OUT defaults to results/sru-perf)
#
# For each instruction-set path (the default, and ATEN_CPU_CAPABILITY=avx2) and each
# thread count (1, 2): rnnbook bench at the SRU chapter's shape (T 128, N 32, d 256;
# training, no-grad forward, per-token generation at batch 1 in a separate call), and the
# SRU authors' CPU script's shape (batch 1, T 32, 256 -> 512, no grad) with their package
# beside ours where it is installed (rnnbook[peer]); then scripts/gemm_paths.py. All of
# these on this process's CPU clock; then scripts/thread_gains.py, on the wall clock, what
# a second thread gains each part of a training step (the CPU clock adds the threads'
# times up, so it cannot show a gain).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-results/sru-perf}
mkdir -p "$out"
models_peer="torch-gru sru-fast"
if .venv/bin/python -c "import sru" 2>/dev/null; then models_peer="$models_peer sru-authors"; fi
run() {  # run NAME ARGS...: one bench record, its command beside it
  local name=$1
  shift
  echo "$(date -u +%H:%M:%S) $name"
  .venv/bin/rnnbook bench --repeats 15 --no-progress "$@" --out "$out/$name" > /dev/null
}
for cap in default avx2; do
  for threads in 1 2; do
    export ATEN_CPU_CAPABILITY=$cap
    [ "$cap" = default ] && unset ATEN_CPU_CAPABILITY
    run "$cap-t$threads" --clock cpu --threads "$threads" --modes train infer \
      --models torch-lstm lstm sru-fast
    run "$cap-t$threads-batch1" --clock cpu --threads "$threads" --batch-size 1 \
      --modes generate --models torch-lstm sru-fast
    # shellcheck disable=SC2086
    run "$cap-t$threads-authors" --clock cpu --threads "$threads" --batch-size 1 --seq-len 32 \
      --input-size 256 --hidden-size 512 --modes infer --models $models_peer
  done
  echo "$(date -u +%H:%M:%S) thread gains, $cap"
  .venv/bin/python scripts/thread_gains.py --out "$out"
  .venv/bin/python scripts/gemm_paths.py --out "$out" --threads 1,2
done
echo "$(date -u +%H:%M:%S) done"
