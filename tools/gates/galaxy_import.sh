#!/usr/bin/env bash
# Gate: build the collection tarball exactly as a release would, then import it with galaxy-importer (the checks
# Galaxy and Automation Hub run on upload: metadata, docs via ansible-doc, ansible-lint on the content).
# galaxy-importer exits 0 on warnings; this gate fails on any WARNING or ERROR line, since every warning it has
# given so far is one we can fix (a missing changelog, a lint finding, a doc that does not load).
# Then the tarball is installed and ansible-builder reads its execution-environment dependencies, as an EE build
# would: they must be exactly meta/ee-requirements.txt (pywinrm), nothing lost in the tarball, nothing extra.
set -euo pipefail
gates_venv=$(pwd)/${GATES_VENV:-.venv/gates}
out=build/gates/galaxy
rm -rf "$out"
mkdir -p "$out"
export PATH="$gates_venv/bin:$PATH"  # galaxy-importer runs ansible-doc and ansible-lint from PATH
ansible-galaxy collection build --output-path "$out" .
tarball=$(ls "$out"/*.tar.gz)
tar -tzf "$tarball" | sed 's/^/  shipped: /'
cd "$out"
set +e
python -m galaxy_importer.main "$(basename "$tarball")" 2>&1 | tee importer.log
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" -ne 0 ]; then
    echo "galaxy-importer failed (exit $rc)"
    exit "$rc"
fi
if grep -E '^(WARNING|ERROR)' importer.log; then
    echo "galaxy-importer reported the warnings/errors above"
    exit 1
fi

echo "--- execution environment dependencies (ansible-builder introspect on the installed tarball)"
ansible-galaxy collection install --offline -p ee "$(basename "$tarball")" >/dev/null 2>&1
ansible-builder introspect --sanitize ee | tee introspect.yml
python - <<'PY'
import pathlib, yaml
found = yaml.safe_load(pathlib.Path("introspect.yml").read_text())
python = [line.split("#")[0].strip() for line in found.get("python") or []]
expected = [line.split("#")[0].strip() for line in pathlib.Path("../../../meta/ee-requirements.txt").read_text().splitlines()
            if line.split("#")[0].strip()]
if python != expected or found.get("system"):
    raise SystemExit(f"EE dependencies {found} differ from meta/ee-requirements.txt {expected}")
print("EE python dependencies as declared:", ", ".join(python))
PY
