#!/usr/bin/env bash
# The adding problem at the source assignment's seven lengths, one 100-unit LSTM per T.
# Usage: bash scripts/adding_source_study.sh T [T ...]   (one worker; run two for two cores)
# Each T trains into results/adding-source-T$T. With NO_EARLY_STOP=1 the same runs train
# all 20 epochs, the control for early stopping, into results/adding-source-nostop-T$T.
# A run cut short resumes from its last epoch's checkpoint when the script is run again,
# and a finished run is skipped.
set -euo pipefail
cd "$(dirname "$0")/.."
name=adding-source stop=(--patience 5)
if [ "${NO_EARLY_STOP:-0}" = 1 ]; then name=adding-source-nostop stop=(); fi
for T in "$@"; do
  out="results/$name-T$T"
  if [ -f "$out/metrics.json" ]; then echo "T=$T: finished, skipped"; continue; fi
  resume=()
  if [ -d "results/.$name-T$T.partial" ]; then resume=(--resume); fi
  .venv/bin/rnnbook train adding --out "$out" "${resume[@]}" \
    --seq-len "$T" --markers anywhere --cell torch-lstm --hidden-size 100 --forget-bias 1 \
    --train-samples 10000 --val-samples 1000 --test-samples 1000 \
    --epochs 20 "${stop[@]}" --batch-size 32 --lr 0.01 --clip 1 \
    --seed 0 --threads 1 --quiet
done
