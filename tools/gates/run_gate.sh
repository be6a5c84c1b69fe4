#!/usr/bin/env bash
# Run one gate and record its outcome for the CI summary (tools/gates/summary.py).
#   tools/gates/run_gate.sh <name> <command> [args...]
# Writes build/gates/results/<name>.tsv ("name<TAB>exit code<TAB>seconds") and exits with the command's code.
set -uo pipefail
name=$1
shift
results=${GATE_RESULTS:-build/gates/results}
mkdir -p "$results"
echo "=== gate ${name}: $*"
start=$(date +%s.%N)
"$@"
rc=$?
end=$(date +%s.%N)
seconds=$(awk -v s="$start" -v e="$end" 'BEGIN { printf "%.0f", e - s }')
printf '%s\t%s\t%s\n' "$name" "$rc" "$seconds" > "$results/${name}.tsv"
if [ "$rc" -eq 0 ]; then
    echo "=== gate ${name}: passed in ${seconds}s"
else
    echo "=== gate ${name}: FAILED (exit ${rc}) in ${seconds}s"
fi
exit "$rc"
