#!/usr/bin/env bash
# Gate: ansible-lint, production profile (.ansible-lint: no skip list), on the content users run: roles/ and
# playbooks/. git keeps no empty directories, so in a checkout without roles or playbooks yet there is nothing to
# lint; that is said, not hidden. (galaxy-importer's gate also runs ansible-lint over the whole built collection.)
set -euo pipefail
export PATH="$(pwd)/${GATES_VENV:-.venv/gates}/bin:$PATH"
targets=()
for dir in roles playbooks; do
    if [ -d "$dir" ] && [ -n "$(find "$dir" -type f -print -quit)" ]; then
        targets+=("$dir/")
    else
        echo "ansible-lint: $dir/ has no files yet; nothing to lint there"
    fi
done
if [ "${#targets[@]}" -eq 0 ]; then
    exit 0
fi
# The collection's own content (winsec.wmi.*) must resolve without Galaxy: a one-symlink collections path.
links=$(mktemp -d "${TMPDIR:-/tmp}/winsec-wmi-lint.XXXXXX")
trap 'rm -rf "$links"' EXIT
mkdir -p "$links/ansible_collections/winsec"
ln -s "$(pwd)" "$links/ansible_collections/winsec/wmi"
export ANSIBLE_COLLECTIONS_PATH="$links"
ansible-lint --profile production --nocolor "${targets[@]}"
