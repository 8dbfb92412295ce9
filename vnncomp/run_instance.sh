#!/usr/bin/env bash
# VNN-COMP entry point: run_instance.sh v1 CATEGORY ONNX VNNLIB RESULTS_FILE TIMEOUT
# Writes unsat, sat (with the counterexample), timeout or unknown to RESULTS_FILE.
set -euo pipefail
[[ "${1:-}" == "v1" ]] || { echo "expected version v1, got ${1:-}" >&2; exit 1; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
exec "$ROOT/robustflow" verify --onnx "$3" --vnnlib "$4" --out "$5" --timeout "$6"
