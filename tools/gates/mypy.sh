#!/usr/bin/env bash
# Gate: mypy (config in pyproject.toml). plugins/ is checked as the package ansible_collections.winsec.wmi.plugins,
# through a one-symlink collection tree, so `from ansible_collections.winsec.wmi.plugins... import ...` is resolved
# and type-checked rather than silently Any; simulator/ and tools/ are checked as they are.
set -euo pipefail
mypy=$(pwd)/${GATES_VENV:-.venv/gates}/bin/mypy
# Outside the repository: pyproject's mypy `exclude` (build/, collections/) must not hide the link tree.
links=$(mktemp -d "${TMPDIR:-/tmp}/winsec-wmi-mypy.XXXXXX")
trap 'rm -rf "$links"' EXIT
mkdir -p "$links/ansible_collections/winsec"
ln -s "$(pwd)" "$links/ansible_collections/winsec/wmi"
rc=0
echo "--- mypy -p ansible_collections.winsec.wmi.plugins"
MYPYPATH=$links "$mypy" --cache-dir "$links/.mypy_cache" -p ansible_collections.winsec.wmi.plugins || rc=1
echo "--- mypy simulator tools"
"$mypy" --cache-dir "$links/.mypy_cache" simulator tools || rc=1
exit "$rc"
