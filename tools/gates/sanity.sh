#!/usr/bin/env bash
# Gate: ansible-test sanity on a copy of the collection laid out as ansible_collections/winsec/wmi.
#
# * ansible-core comes from $SANITY_VENV (tests/requirements/gates-sanity.txt: 2.21, the newest we support, whose
#   rules are the strictest); the tests run on that venv's Python only (--python X.Y).
# * The copy lives outside the git work tree ($SANITY_WORK): inside it, ansible-test lists files with git and would
#   see none (build/ is git-ignored). It holds what `ansible-galaxy collection build` ships plus tests/unit and
#   tests/sanity, which ansible-test checks too (tools/gates/build_tree.py) - but not tests/unit/simulator: those
#   test the simulator, which is no more collection content than simulator/ itself (galaxy.yml build_ignore).
# * Offline: ansible-test bootstraps pip in each per-test venv with a script from ~/.ansible/test/cache, which
#   tools/gates/get_pip_shim.py writes when missing.
# * Without pwsh, validate-modules cannot read a .ps1 arg spec and crashes. A `pwsh` stand-in on PATH answers that one
#   question from the $spec literal (tools/gates/pwsh_argspec.py), so validate-modules' own doc-vs-spec rules run
#   with no ignore line; pslint, which needs the real PSScriptAnalyzer, is then skipped explicitly (it would be
#   skipped with a warning anyway). With a real pwsh on PATH, neither the stand-in nor the skip is used.
set -euo pipefail
root=$(pwd)
sanity_venv=$root/${SANITY_VENV:-.venv/sanity}
gates_venv=$root/${GATES_VENV:-.venv/gates}
work=${SANITY_WORK:?set SANITY_WORK to a directory outside the git work tree}

# Ignore files are empty or justified line by line: every entry carries its reason as a trailing "# ..." comment.
unjustified=$(grep -HnEv '^\s*(#.*)?$|\s#\s*\S' tests/sanity/ignore-*.txt 2>/dev/null || true)
if [ -n "$unjustified" ]; then
    printf 'sanity ignore entries without a "# reason" comment:\n%s\n' "$unjustified"
    exit 1
fi

# ansible-test caches its per-test venvs (and looks for get-pip) under ~/.ansible/test. Shared between checkouts,
# a venv another run was still creating, or that a killed run left without pip, is reused and fails ("does not have
# pip available"). So each checkout gets its own HOME for ansible-test; pip keeps the real config and cache dirs.
export XDG_CONFIG_HOME=${XDG_CONFIG_HOME:-$HOME/.config}
export XDG_CACHE_HOME=${XDG_CACHE_HOME:-$HOME/.cache}
export HOME=$work/home
mkdir -p "$HOME/.ansible/test/venv"
find "$HOME/.ansible/test/venv" -mindepth 3 -maxdepth 3 -type d \
    ! -exec test -x '{}/bin/pip' ';' -print -prune -exec rm -rf '{}' + | sed 's/^/sanity: removed incomplete venv /'

"$sanity_venv/bin/python" tools/gates/get_pip_shim.py
tree=$("$gates_venv/bin/python" tools/gates/build_tree.py --dest "$work/tree" --keep tests/unit --keep tests/sanity \
    --drop tests/unit/simulator)

extra=()
if command -v pwsh >/dev/null 2>&1; then
    echo "sanity: using the real pwsh at $(command -v pwsh)"
    bin_path=""
else
    mkdir -p "$work/bin"
    printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$gates_venv/bin/python" "$root/tools/gates/pwsh_argspec.py" > "$work/bin/pwsh"
    chmod +x "$work/bin/pwsh"
    bin_path="$work/bin:"
    extra+=(--skip-test pslint)
    echo "sanity: no pwsh; .ps1 arg specs read statically by tools/gates/pwsh_argspec.py; pslint skipped"
fi

python_version=$("$sanity_venv/bin/python" -c 'import sys; print("%d.%d" % sys.version_info[:2])')
cd "$tree"
PATH="${bin_path}$sanity_venv/bin:$PATH" ansible-test sanity --python "$python_version" --color no "${extra[@]}" "$@"
