#!/usr/bin/env bash
# Measurements of the streaming job on the multi-process cluster (issue 10). Needs `./robustflow-cluster up 2`.
#
#   tools/measure-streaming.sh scaling [IMAGES]   # p=1 then p=2: seconds for IMAGES (1000) x 10 eps, crown + PGD,
#                                                  # checkpoint end-to-end durations (p50/p99/max) from REST
#   tools/measure-streaming.sh state [RUNS] [IMAGES]  # RUNS (10) consecutive runs of IMAGES (100) over 3 model
#                                                  # versions; size of the last completed checkpoint per operator
#
# MEASURE_JOB_ARGS adds arguments to the job's submission, e.g.
#   MEASURE_JOB_ARGS="-D robustflow.models.retention-ms=20000" tools/measure-streaming.sh state
#   MEASURE_JOB_ARGS="--milp-max-unstable -1" tools/measure-streaming.sh scaling   # crown + PGD only
#
# Each measurement uses fresh topics (--topic-suffix) and cancels its job at the end. Output: one line per
# figure, also appended to .cache/measure/results.txt.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
RF="$ROOT/robustflow"
REST=http://localhost:8081
OUT="$ROOT/.cache/measure"
mkdir -p "$OUT"
export OMP_NUM_THREADS=1

log() { echo "$*" | tee -a "$OUT/results.txt"; }

running_job() { # the id of the running job
  curl -s "$REST/jobs/overview" | python3 -c 'import json,sys; print(next(j["jid"] for j in json.load(sys.stdin)["jobs"] if j["state"]=="RUNNING"))'
}

await_running() { # waits until every vertex of the running job is RUNNING
  for _ in $(seq 1 120); do
    if curl -s "$REST/jobs/overview" | python3 -c '
import json,sys
jobs=[j for j in json.load(sys.stdin)["jobs"] if j["state"]=="RUNNING"]
sys.exit(0 if jobs and jobs[0]["tasks"]["running"]==jobs[0]["tasks"]["total"] else 1)'; then return 0; fi
    sleep 1
  done
  echo "job did not start" >&2; exit 1
}

checkpoint_stats() { # $1 = job id: end-to-end duration percentiles and counts
  curl -s "$REST/jobs/$1/checkpoints" | python3 -c '
import json,sys
c=json.load(sys.stdin); d=c["summary"]["end_to_end_duration"]; s=c["summary"]["checkpointed_size"]
print("checkpoints completed=%d failed=%d  end-to-end ms: p50=%s p99=%s max=%s  checkpointed size bytes: p50=%s max=%s" % (
  c["counts"]["completed"], c["counts"]["failed"], d.get("p50"), d.get("p99"), d.get("max"), s.get("p50"), s.get("max")))'
}

cancel() { curl -s -X PATCH "$REST/jobs/$1?mode=cancel" >/dev/null; sleep 3; }

cpu_seconds() { # CPU seconds so far: the whole machine, then the cluster's processes by role
  awk '/^cpu /{printf "machine=%.1f", ($2+$3+$4+$7+$8)/100}' /proc/stat
  for role in TaskManagerRunner StandaloneSessionClusterEntrypoint kafka.Kafka; do
    local total=0
    for pid in $(pgrep -f "$role" || true); do
      total=$(awk -v t="$total" '{print t + ($14 + $15) / 100}' "/proc/$pid/stat" 2>/dev/null || echo "$total")
    done
    printf " %s=%s" "$role" "$total"
  done
  echo
}

cpu_used() { # $1, $2 = two cpu_seconds lines: CPU seconds used in between, per role
  python3 -c '
import sys
a=dict(kv.split("=") for kv in sys.argv[1].split()); b=dict(kv.split("=") for kv in sys.argv[2].split())
print("CPU s: " + ", ".join("%s %.0f" % (k.split(".")[-1], float(b[k]) - float(a[k])) for k in a))' "$1" "$2"
}

scaling() {
  local images="${1:-1000}"
  for p in 1 2; do
    local suffix=".scale-p$p-$(date +%s)"
    # shellcheck disable=SC2086 # word splitting of MEASURE_JOB_ARGS is wanted
    "$RF" job --remote localhost:8081 --jar "$ROOT/target/robustflow.jar" --parallelism "$p" --topic-suffix "$suffix" \
      ${MEASURE_JOB_ARGS:-} > "$OUT/job-p$p.out" 2>&1
    await_running
    local jid; jid="$(running_job)"
    "$RF" publish-model --topic-suffix "$suffix" > "$OUT/publish-p$p.out" 2>&1
    local start; start=$(date +%s.%N)
    local cpu0; cpu0="$(cpu_seconds)"
    "$RF" produce --limit "$images" --run-id "scale-p$p" --topic-suffix "$suffix" > "$OUT/produce-p$p.out" 2>&1
    "$RF" results --run "scale-p$p" --once --timeout 1800 --topic-suffix "$suffix" \
      --json "$OUT/scale-p$p.json" > "$OUT/results-p$p.out" 2>&1
    local end; end=$(date +%s.%N)
    local cpu1; cpu1="$(cpu_seconds)"
    log "p=$p task-thread time per pair: $(java -cp "$ROOT/target/classes:$(cat "$ROOT/target/classpath.txt")" \
      "$ROOT/tools/VerdictTimes.java" "$suffix" 2>/dev/null | tr '\n' ';')"
    log "p=$p: $images images x 10 eps (crown + PGD ${MEASURE_JOB_ARGS:-}) in $(python3 -c "print(round($end-$start,1))") s; $(cpu_used "$cpu0" "$cpu1"); $(checkpoint_stats "$jid")"
    cancel "$jid"
  done
}

state() {
  local runs="${1:-10}" images="${2:-100}"
  local suffix=".state-$(date +%s)"
  local models=("" "$OUT/m-h20.avro" "$OUT/m-h30.avro")
  [[ -f "$OUT/m-h20.avro" ]] || "$RF" train --hidden 20 --epochs 1 --out "$OUT/m-h20.avro" > "$OUT/train-h20.out" 2>&1
  [[ -f "$OUT/m-h30.avro" ]] || "$RF" train --hidden 30 --epochs 1 --out "$OUT/m-h30.avro" > "$OUT/train-h30.out" 2>&1
  # shellcheck disable=SC2086 # word splitting of MEASURE_JOB_ARGS is wanted
  "$RF" job --remote localhost:8081 --jar "$ROOT/target/robustflow.jar" --parallelism 2 --topic-suffix "$suffix" \
    ${MEASURE_JOB_ARGS:-} > "$OUT/job-state.out" 2>&1
  await_running
  local jid; jid="$(running_job)"
  for r in $(seq 1 "$runs"); do
    local m="${models[$(( (r - 1) % 3 ))]}"
    if [[ -n "$m" ]]; then "$RF" publish-model --model "$m" --topic-suffix "$suffix" >/dev/null 2>&1
    else "$RF" publish-model --topic-suffix "$suffix" >/dev/null 2>&1; fi
    "$RF" produce --limit "$images" --run-id "state-$r" --topic-suffix "$suffix" >/dev/null 2>&1
    "$RF" results --run "state-$r" --once --timeout 900 --topic-suffix "$suffix" > "$OUT/results-state-$r.out" 2>&1
  done
  sleep 6 # a few more checkpoints after the last run
  log "state after $runs runs x $images images over 3 model versions ${MEASURE_JOB_ARGS:-}: $(checkpoint_stats "$jid")"
  local cid; cid="$(curl -s "$REST/jobs/$jid/checkpoints" | python3 -c 'import json,sys; print(json.load(sys.stdin)["latest"]["completed"]["id"])')"
  curl -s "$REST/jobs/$jid/checkpoints/details/$cid" | python3 -c '
import json,sys
d=json.load(sys.stdin)
print("latest checkpoint %d: state_size=%d checkpointed_size=%d bytes" % (d["id"], d["state_size"], d["checkpointed_size"]))
vs=json.load(open(sys.argv[1]))["vertices"]
names={v["id"]: v["name"] for v in vs}
for vid,t in d["tasks"].items():
  print("  %-60s state_size=%d" % (names.get(vid, vid)[:60], t["state_size"]))' <(curl -s "$REST/jobs/$jid") | tee -a "$OUT/results.txt"
  cancel "$jid"
}

"$@"
