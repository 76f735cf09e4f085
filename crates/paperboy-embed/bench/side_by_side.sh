#!/usr/bin/env bash
# Times the Rust embedder and sentence-transformers (PyTorch, CPU) on the same
# texts, alternately, ROUNDS times each, and prints one table with the load
# average before each run (the machine may be shared: compare within a round).
#
#   crates/paperboy-embed/bench/side_by_side.sh MODEL_DIR [N] [BATCH] [ROUNDS]
#
# PYTHON names the interpreter that has sentence-transformers and torch
# (default python3); THREADS, if set, caps both sides' threads (rayon and
# PyTorch/OpenMP), e.g. THREADS=1 to compare one core each, which a busy
# machine disturbs less. The Rust example is built first (release).
set -euo pipefail

model_dir=${1:?usage: side_by_side.sh MODEL_DIR [N] [BATCH] [ROUNDS]}
n=${2:-128}
batch=${3:-16}
rounds=${4:-2}
python=${PYTHON:-python3}
here=$(cd "$(dirname "$0")" && pwd)
if [ -n "${THREADS:-}" ]; then
    export RAYON_NUM_THREADS=$THREADS OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS
fi

cargo build --release -q -p paperboy-embed --example throughput
target_dir=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
rust_bin="$target_dir/release/examples/throughput"

rate() { sed -n 's/.*: \([0-9.]*\) abstracts\/s.*/\1/p'; }
load() { cut -d' ' -f1 /proc/loadavg; }

echo "| round | engine | load before | abstracts/s |"
echo "|---|---|---|---|"
for round in $(seq "$rounds"); do
    # Alternate which side goes first, so neither always gets the quieter slot.
    if [ $((round % 2)) -eq 1 ]; then order="rust pytorch"; else order="pytorch rust"; fi
    for engine in $order; do
        l=$(load)
        if [ "$engine" = rust ]; then
            line=$(PAPERBOY_MODEL_DIR="$model_dir" "$rust_bin" "$n" "$batch")
        else
            line=$(HF_HUB_OFFLINE=1 "$python" "$here/st_throughput.py" "$model_dir" "$n" "$batch" 2>/dev/null)
        fi
        echo "| $round | $engine | $l | $(echo "$line" | rate) |"
        echo "$line" >&2
    done
done
