#!/usr/bin/env bash
# Gate: the collection's docs lint clean and the docsite renders.
#   1. antsibull-docs lint-collection-docs --plugin-docs: plugin docs (through ansible-doc), docs/docsite/links.yml,
#      extra-docs.yml and the rst guides, including their cross-references.
#   2. antsibull-docs sphinx-init + build.sh: the same pages Ansible's docsite would publish, built with
#      `sphinx-build -W --keep-going` (any warning fails). Offline, the intersphinx inventories of
#      docs.python.org/docs.ansible.com cannot be fetched, so the generated conf.py gets `intersphinx_mapping = {}`:
#      links into those sites are not resolved here, every reference inside the collection still is.
set -euo pipefail
root=$(pwd)
export PATH="$root/${GATES_VENV:-.venv/gates}/bin:$PATH"
work=$root/build/gates/docsite
rm -rf "$work"
mkdir -p "$work"
chmod 700 "$work"

echo "--- antsibull-docs lint-collection-docs --plugin-docs"
lint_rc=0
antsibull-docs lint-collection-docs --plugin-docs . || lint_rc=$?  # recorded; the build below still runs

echo "--- docsite build (antsibull-docs sphinx-init --use-current + sphinx-build -W)"
python tools/gates/build_tree.py --dest "$work/collections" >/dev/null
export ANSIBLE_COLLECTIONS_PATH="$work/collections"
mkdir -m 700 "$work/site"
antsibull-docs sphinx-init --use-current --fail-on-error --dest-dir "$work/site" winsec.wmi >/dev/null
printf '\n# Offline build (tools/gates/docsite.sh): no intersphinx inventories can be fetched.\nintersphinx_mapping = {}\n' \
    >> "$work/site/conf.py"
"$work/site/build.sh"
echo "docsite rendered: $work/site/build/html/index.html"
if [ "$lint_rc" -ne 0 ]; then
    echo "antsibull-docs lint-collection-docs failed (exit $lint_rc)"
    exit "$lint_rc"
fi
