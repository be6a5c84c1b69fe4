#!/usr/bin/env bash
# Make DIR a virtual environment of PYTHON with pinned requirement files installed: venv.sh DIR PYTHON REQUIREMENTS...
#
# With VENV_CACHE set (the Makefile sets ~/.cache/winsec-wmi/venvs), each environment is installed once per
# interpreter and content of its requirement files, into VENV_CACHE/<name>-<key>, and DIR becomes a link to it: the
# way CI systems cache environments by lock file, so a fresh clone reuses what an earlier run installed from the same
# pins and installs only what no run has installed yet. A changed pin is a new key, hence a fresh install. flock makes
# a second checkout that needs the same environment wait for the first instead of installing over it; an install that
# did not finish leaves no .installed marker and is redone. VENV_CACHE empty: DIR itself is the environment.
# A linked environment is shared by every checkout with the same pins: change a pin, never pip install into it.
set -euo pipefail
dir=$1
python=$2
shift 2
requirements=()
for file in "$@"; do requirements+=(-r "$file"); done

install() {
    rm -rf "$1"
    "$python" -m venv "$1"
    # This machine's pip config lists extra local indexes that are often absent; pip warns once per package about them.
    "$1/bin/python" -m pip install -q --disable-pip-version-check "${requirements[@]}" 2>&1 |
        { grep -v "^WARNING: Location 'file:///.*' is ignored" || true; }
    touch "$1/.installed"
}

rm -rf "$dir"
mkdir -p "$(dirname "$dir")"
if [ -z "${VENV_CACHE:-}" ]; then
    install "$dir"
    exit 0
fi
key=$({ "$python" -c 'import sys; print(sys.version)'; cat "$@"; } | sha256sum | cut -c1-16)
cached="$VENV_CACHE/$(basename "$dir")-$key"
mkdir -p "$VENV_CACHE"
exec 9>"$cached.lock"
flock 9
if [ -f "$cached/.installed" ]; then
    echo "$dir: the environment installed from the same pins ($cached)"
else
    install "$cached"
fi
ln -s "$cached" "$dir"
# The marker is newer than the requirement files of this checkout, so make does not ask for it again.
touch "$cached/.installed"
