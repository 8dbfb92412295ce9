#!/usr/bin/env bash
# VNN-COMP entry point: install_tool.sh v1 -- builds robustflow (Java 17 and Maven Central needed).
set -euo pipefail
[[ "${1:-v1}" == "v1" ]] || { echo "expected version v1, got $1" >&2; exit 1; }
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT" && ./mvnw -B -q package -DskipTests
