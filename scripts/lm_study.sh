#!/usr/bin/env bash
# Chapter 07's language-model study on Tiny Shakespeare: one job at a time, in order.
# Usage: nohup bash scripts/lm_study.sh > runs/lm-study.log 2>&1 &
# Two queues, one per core: LM_ARMS="transformer gru" ... & LM_ARMS="sru rnn" LM_CARRY=0 ... &
# LM_PARTS picks the parts (default "arms carry dropout"); LM_SEEDS the controls' seeds, e.g.
# LM_PARTS=dropout LM_SEEDS="0 2" ... & LM_PARTS=dropout LM_SEEDS=1 ... &
#
# Per arm: a learning-rate grid (LRS, each trial TRIAL CPU seconds, into runs/lm-lr/,
# summarised in results/lm-lr-grid/ARM.json), then seeds 0, 1, 2 at the best rate, each
# BUDGET CPU seconds of one thread, into results/lm-ARM-sS. Every run checkpoints after
# each epoch (one pass over the training text); running the script again resumes the run
# cut short (kill -9 included) and skips finished ones.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMP_NUM_THREADS=1
BUDGET=${LM_BUDGET:-900}
TRIAL=${LM_TRIAL:-60}
LRS=(1e-3 3e-3 1e-2)
common=(--seq-len 128 --layout contiguous --fresh-data --train-samples 7392
  --val-samples 256 --test-samples 1024 --batch-size 32 --epochs 1000 --threads 1 --quiet)

declare -A model
model[lstm]="--cell torch-lstm --hidden-size 256 --num-layers 2 --embedding-size 64"
model[gru]="--cell torch-gru --hidden-size 296 --num-layers 2 --embedding-size 64"
model[rnn]="--cell torch-rnn --hidden-size 512 --num-layers 2 --embedding-size 64"
model[sru]="--cell sru --hidden-size 480 --num-layers 2 --embedding-size 64"
model[transformer]="--cell transformer --hidden-size 128 --num-layers 4"

train() {  # train OUT ARGS...: skip if finished, resume if cut short
  local out=$1
  shift
  if [ -f "$out/metrics.json" ]; then echo "$out: finished, skipped"; return; fi
  local name resume=()
  name=$(basename "$out")
  if [ -d "$(dirname "$out")/.$name.partial" ]; then resume=(--resume); fi
  echo "$(date -u +%H:%M:%S) $out: start ${resume[*]}"
  .venv/bin/rnnbook train shakespeare --out "$out" "${resume[@]}" "$@" "${common[@]}"
}

pick_lr() {  # pick_lr ARM: the grid's trials, then the best rate on stdout
  local arm=$1 lr
  for lr in "${LRS[@]}"; do
    # shellcheck disable=SC2086
    train "runs/lm-lr/$arm-lr$lr" ${model[$arm]} --lr "$lr" --seed 0 --max-cpu-seconds "$TRIAL" >&2
  done
  .venv/bin/python scripts/lm_lr_pick.py "$arm" "${LRS[@]}"
}

parts=" ${LM_PARTS:-arms carry dropout} "
seeds=${LM_SEEDS:-0 1 2}
part() { [[ $parts == *" $1 "* ]]; }

for arm in ${LM_ARMS:-lstm transformer gru sru rnn}; do
  part arms || break
  lr=$(pick_lr "$arm")
  echo "$arm: learning rate $lr"
  for seed in 0 1 2; do
    # shellcheck disable=SC2086
    train "results/lm-$arm-s$seed" ${model[$arm]} --lr "$lr" --seed "$seed" \
      --max-cpu-seconds "$BUDGET"
  done
done
lr=$(.venv/bin/python -c "import json; print(json.load(open('results/lm-lr-grid/lstm.json'))['best_lr'])")
# the control for truncated BPTT: the LSTM with its state carried from window to window
# (LM_CARRY=0 leaves it out, so that two queues can share the arms without both running it)
if part carry && [ "${LM_CARRY:-1}" != 0 ]; then
  for seed in $seeds; do
    # shellcheck disable=SC2086
    train "results/lm-lstm-carry-s$seed" ${model[lstm]} --carry-state --lr "$lr" --seed "$seed" \
      --max-cpu-seconds "$BUDGET"
  done
fi
# the control for overfitting: the LSTM with dropout 0.2 (nanoGPT's shakespeare_char
# setting, not tuned here) on each layer's output, at the rate the grid picked without it
if part dropout; then
  for seed in $seeds; do
    # shellcheck disable=SC2086
    train "results/lm-lstm-dropout-s$seed" ${model[lstm]} --dropout 0.2 --lr "$lr" \
      --seed "$seed" --max-cpu-seconds "$BUDGET"
  done
fi
echo "$(date -u +%H:%M:%S) queue finished"
