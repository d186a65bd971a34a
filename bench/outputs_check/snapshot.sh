#!/usr/bin/env bash
# Run the `dq` CLI of REPO on fixed inputs and write every output under OUTDIR, so that compare.py can
# tell whether two commits produce the same outputs.
#
#   bash bench/outputs_check/snapshot.sh REPO OUTDIR
#   e.g. git worktree add --detach /tmp/base <commit>
#        bash bench/outputs_check/snapshot.sh /tmp/base OUT_BEFORE
#        bash bench/outputs_check/snapshot.sh .         OUT_AFTER
#        python bench/outputs_check/compare.py OUT_BEFORE OUT_AFTER
#
# Python: $DQ_CHECK_PYTHON, else the .venv of the checkout this script lives in, else python3. It needs
# dq_core's dependencies; REPO's dq_core is imported through PYTHONPATH=REPO (which shadows an editable
# install of another checkout; META.json records the dq_core file actually imported). Use the same
# python for both snapshots, so that only the code differs.
#
# Inputs: $DQ_CHECK_INPUTS, else .dq-outputs-check/inputs under the current folder. When that folder has
# no MANIFEST.json, make_inputs.py first writes the inputs there (with REPO's dq_core, which reads the
# tweets demo). From then on they are fixed: two snapshots are only comparable on the same inputs, so a
# snapshot refuses to run when a file no longer matches its sha256 in MANIFEST.json. The SMS demo is
# loaded by name (demo:sms_spam).
#
# OUTDIR must not exist (or be empty). Each snapshot has its own DQ_HOME (OUTDIR/home), so every
# embedding, signal, holdout split and cache is computed fresh by REPO's code.
#
# Determinism (both snapshots run under the same settings): one thread for embedding, BLAS/OpenMP and
# training (DQ_EMBED_THREADS=1: by default the embedder picks 1 or 2 threads by timing them against the
# load average, which can change float rounding run to run), DQ_ANN_THREADS=1, offline Hugging Face.
# Precision is left at `auto`, which is the same for both snapshots on one machine.
#
# Layout: OUTDIR/<dataset>/<step>.json (stdout), <step>.stderr.txt, exported files, runs/<run>/;
# OUTDIR/rc.tsv (exit status per step), OUTDIR/timings.tsv (seconds per step), OUTDIR/META.json.
set -u
if [ $# -ne 2 ]; then echo "usage: $0 REPO OUTDIR" >&2; exit 2; fi
REPO=$(cd "$1" && pwd) || exit 2
mkdir -p "$2" || exit 2
OUT=$(cd "$2" && pwd)
if [ -n "$(ls -A "$OUT")" ]; then echo "error: $OUT is not empty; give a new folder" >&2; exit 2; fi
CHECK=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
RC="$CHECK/recipes"
# Paths are made absolute here because the steps below run inside OUTDIR.
IN=${DQ_CHECK_INPUTS:-.dq-outputs-check/inputs}
mkdir -p "$IN" || exit 2
IN=$(cd "$IN" && pwd) || exit 2
if [ -n "${DQ_CHECK_PYTHON:-}" ]; then
  PY=$DQ_CHECK_PYTHON
elif [ -x "$CHECK/../../.venv/bin/python" ]; then
  PY="$(cd "$CHECK/../.." && pwd)/.venv/bin/python"
else
  PY=python3
fi
case "$PY" in /*) ;; */*) PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")" || exit 2;; esac
command -v "$PY" > /dev/null || { echo "error: no python '$PY'; set DQ_CHECK_PYTHON" >&2; exit 2; }

export PYTHONPATH="$REPO"
export DQ_HOME="$OUT/home"
export DQ_DATA_DIR="$OUT/data"
export DQ_EMBED_THREADS=1 DQ_ANN_THREADS=1 DQ_TORCH_THREADS=1
export OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 TOKENIZERS_PARALLELISM=false
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 HF_DATASETS_OFFLINE=1 HF_DATASETS_DISABLE_PROGRESS_BARS=1
export PYTHONHASHSEED=0
unset DQ_EMBED_PRECISION DQ_LONG_TEXTS DQ_MAX_ROWS DQ_MAX_BYTES DQ_MAX_COLUMNS DQ_MODELS_DIR
# `python -c` and `python -m` put the current folder first on sys.path: from inside the empty OUTDIR they
# cannot pick up the dq_core of the checkout the script was started from.
cd "$OUT" || exit 2

DQ_FILE=$("$PY" -c "import dq_core; print(dq_core.__file__)")
case "$DQ_FILE" in
  "$REPO"/*) ;;
  *) echo "error: dq_core imported from $DQ_FILE, not from $REPO" >&2; exit 2;;
esac

if [ ! -e "$IN/MANIFEST.json" ]; then
  echo "writing the fixed inputs to $IN (once: later snapshots reuse them)" >&2
  "$PY" "$CHECK/make_inputs.py" "$IN" > /dev/null || exit 2
fi
"$PY" - "$IN" <<'PYEOF' || exit 2
import hashlib, json, os, sys
folder = sys.argv[1]
m = json.load(open(os.path.join(folder, "MANIFEST.json")))
def sha(f):
    try:
        return hashlib.sha256(open(os.path.join(folder, f), "rb").read()).hexdigest()
    except OSError:
        return None
bad = [f for f, h in m.items() if sha(f) != h]
sys.exit(f"error: inputs in {folder} changed or missing since make_inputs.py wrote them: {bad}. Restore them "
         "(snapshots of other inputs are not comparable), or delete the folder and take every snapshot again"
         if bad else 0)
PYEOF

mkdir -p "$DQ_HOME" "$DQ_DATA_DIR"
"$PY" - "$REPO" "$OUT" "$DQ_FILE" "$IN" "$CHECK" > "$OUT/META.json" <<'PYEOF'
import json, subprocess, sys, time
repo, out, dq_file, inputs, check = sys.argv[1:6]
def git(*a):
    try:
        return subprocess.run(["git", "-C", repo, *a], capture_output=True, text=True).stdout.strip()
    except OSError:
        return None
print(json.dumps({"repo": repo, "outdir": out, "inputs": inputs, "check": check, "dq_core_file": dq_file,
                  "commit": git("rev-parse", "HEAD"),
                  "dirty": git("status", "--porcelain", "--untracked-files=no"),
                  "started": time.strftime("%Y-%m-%d %H:%M:%S")}, indent=2))
PYEOF
mkdir -p "$OUT/recipes_used" && cp "$RC"/*.json "$OUT/recipes_used/"   # compared: a recipe edit shows up
printf 'step\trc\n' > "$OUT/rc.tsv"
printf 'step\tseconds\n' > "$OUT/timings.tsv"
T0=$(date +%s.%N)

# run NAME DIR -- dq args...: stdout to DIR/NAME.json, stderr to DIR/NAME.stderr.txt
run() {
  local name=$1 dir=$2; shift 2
  mkdir -p "$OUT/$dir"
  local t=$(date +%s.%N)
  "$PY" -m dq_core "$@" > "$OUT/$dir/$name.json" 2> "$OUT/$dir/$name.stderr.txt"
  local rc=$?
  local dt=$(echo "$(date +%s.%N) - $t" | bc)
  printf '%s/%s\t%s\n' "$dir" "$name" "$rc" >> "$OUT/rc.tsv"
  printf '%s/%s\t%.1f\n' "$dir" "$name" "$dt" >> "$OUT/timings.tsv"
  echo "[$(date +%H:%M:%S)] $dir/$name rc=$rc ${dt%.*}s" >&2
}

# ---------------------------------------------------------------- (a) SMS spam demo, loaded by name
D=sms; A=(demo:sms_spam)
run embed $D embed "${A[@]}" --out "$OUT/$D/embeddings.npy"
run profile $D profile "${A[@]}"
run signals $D signals "${A[@]}" --out "$OUT/$D/signals.parquet"
run filter_default $D filter "${A[@]}" --recipe default --out "$OUT/$D/clean_default.parquet" \
    --log "$OUT/$D/log_default.jsonl" --save-recipe "$OUT/$D/recipe_default.json"
run filter_wide $D filter "${A[@]}" --recipe "$RC/sms_wide.json" --out "$OUT/$D/clean_wide.csv" \
    --log "$OUT/$D/log_wide.csv" --save-recipe "$OUT/$D/recipe_wide.json"
run filter_default_ds $D filter "${A[@]}" --recipe default --out "$OUT/$D/clean_default_ds"
run train_baseline $D train "${A[@]}" --trainer baseline --out "$OUT/$D/runs/baseline" --quiet
run train_baseline_default $D train "${A[@]}" --trainer baseline --recipe default \
    --out "$OUT/$D/runs/baseline_default" --quiet

# ---------------------------------------------------------------- (b) tweets demo subset + a reference
D=tweets; A=("$IN/tweets_3k.csv" --id-col id --text-col text --label-col sentiment)
R=("--reference" "$IN/tweets_ref_1k.parquet")
run embed $D embed "${A[@]}" --out "$OUT/$D/embeddings.npy"
run embed_ref $D embed "$IN/tweets_ref_1k.parquet" --id-col id --text-col text --label-col sentiment \
    --out "$OUT/$D/embeddings_ref.npy"
run profile $D profile "${A[@]}"
run profile_ref $D profile "${A[@]}" "${R[@]}"
run signals $D signals "${A[@]}" "${R[@]}" --out "$OUT/$D/signals.parquet"
run filter_default $D filter "${A[@]}" "${R[@]}" --recipe default --out "$OUT/$D/clean_default.csv" \
    --log "$OUT/$D/log_default.parquet" --save-recipe "$OUT/$D/recipe_default.json"
run filter_wide $D filter "${A[@]}" "${R[@]}" --recipe "$RC/tweets_wide.json" \
    --out "$OUT/$D/clean_wide.jsonl" --log "$OUT/$D/log_wide.jsonl" --save-recipe "$OUT/$D/recipe_wide.json"
run train_baseline $D train "${A[@]}" --trainer baseline --out "$OUT/$D/runs/baseline" --quiet
run train_baseline_test $D train "${A[@]}" --trainer baseline --test "$IN/tweets_ref_1k.parquet" \
    --recipe default --out "$OUT/$D/runs/baseline_test" --quiet

# ---------------------------------------------------------------- (c) held-out generated file (not a demo)
D=heldout; A=("$IN/heldout_tickets.csv" --id-col ticket_id)   # text/label/agreement columns guessed
run embed $D embed "${A[@]}" --out "$OUT/$D/embeddings.npy"
run profile $D profile "${A[@]}"
run signals $D signals "${A[@]}" --out "$OUT/$D/signals.parquet"
run signals_csv_safe $D signals "${A[@]}" --out "$OUT/$D/signals_safe.csv" --spreadsheet-safe
run filter_default $D filter "${A[@]}" --recipe default --out "$OUT/$D/clean_default.csv" \
    --log "$OUT/$D/log_default.csv" --save-recipe "$OUT/$D/recipe_default.json"
run filter_wide $D filter "${A[@]}" --recipe "$RC/heldout_wide.json" --out "$OUT/$D/clean_wide.parquet" \
    --log "$OUT/$D/log_wide.parquet" --save-recipe "$OUT/$D/recipe_wide.json"
run filter_wide_safe $D filter "${A[@]}" --recipe "$RC/heldout_wide.json" \
    --out "$OUT/$D/clean_wide_safe.csv" --spreadsheet-safe
run train_baseline $D train "${A[@]}" --trainer baseline --out "$OUT/$D/runs/baseline" --quiet
run train_baseline_wide $D train "${A[@]}" --trainer baseline --recipe "$RC/heldout_wide.json" \
    --class-weights --balance oversample --out "$OUT/$D/runs/baseline_wide" --quiet

T=$(echo "$(date +%s.%N) - $T0" | bc)
printf 'TOTAL\t%.1f\n' "$T" >> "$OUT/timings.tsv"
FAILED=$(awk -F'\t' 'NR>1 && $2!=0' "$OUT/rc.tsv" | wc -l)
echo "snapshot of $REPO in $OUT: ${T%.*}s, $FAILED failed step(s) (see rc.tsv)" >&2
