#!/usr/bin/env bash
# VNN-COMP entry point: prepare_instance.sh v1 CATEGORY ONNX VNNLIB
# Nothing to prepare: the network and property are read when the instance runs. Checks that both exist.
set -euo pipefail
[[ "${1:-}" == "v1" ]] || { echo "expected version v1, got ${1:-}" >&2; exit 1; }
for f in "$3" "$4"; do
  [[ -f "$f" || -f "$f.gz" ]] || { echo "missing $f" >&2; exit 1; }
done
exit 0
