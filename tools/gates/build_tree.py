"""Lay the collection out as <dest>/ansible_collections/<namespace>/<name>/ for ansible-test and friends.

ansible-test only runs inside an ``ansible_collections/<namespace>/<name>`` directory. The repository root is the
collection root, so the gates copy the collection's content into a temporary tree under build/.

What is copied: the files git knows or would know (tracked, plus untracked ones that .gitignore does not exclude),
minus galaxy.yml's build_ignore patterns, with the same fnmatch rules ``ansible-galaxy collection build`` applies
to each path and each of its parent directories. ``--keep`` re-admits paths that build_ignore drops from the
tarball but ansible-test must see (tests/unit: ansible-test lints the unit tests that ship with a collection).

``--drop`` removes a part of a kept path again (tests/unit/simulator tests the simulator, which is not collection
content and is not in the tree).

Usage: python tools/gates/build_tree.py --dest DIR [--keep tests/unit] [--drop tests/unit/simulator] ...
Prints the collection directory it created.
"""

from __future__ import annotations

import argparse
import fnmatch
import os
import pathlib
import shutil
import subprocess
import sys

import yaml

# ansible-galaxy's own exclusions (ansible/galaxy/collection/__init__.py, _build_files_manifest_walk).
GALAXY_DEFAULT_IGNORE = (".git", "*.pyc", "*.retry", "tests/output")


def candidate_files(root: pathlib.Path) -> list[str]:
    """Return the repository's files, relative to root: tracked and untracked-but-not-ignored."""
    try:
        out = subprocess.run(
            ["git", "-C", str(root), "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            check=True,
            capture_output=True,
        ).stdout
    except (OSError, subprocess.CalledProcessError):
        files = []
        for dirpath, dirnames, filenames in os.walk(root):
            dirnames[:] = [d for d in dirnames if d != ".git"]
            files += [os.path.relpath(os.path.join(dirpath, f), root) for f in filenames]
        return sorted(files)
    # ls-files lists deleted-but-tracked files too; copy only what exists.
    return sorted({p for p in out.decode().split("\0") if p and (root / p).is_file()})


def _under(rel: str, paths: list[str]) -> bool:
    return any(rel == p or rel.startswith(p.rstrip("/") + "/") for p in paths)


def is_ignored(rel: str, patterns: list[str], keep: list[str], drop: list[str] | None = None) -> bool:
    """True when rel or one of its parents matches an ignore pattern (and no --keep covers it), or --drop covers it."""
    if drop and _under(rel, drop):
        return True
    if _under(rel, keep):
        return False
    parts = rel.split("/")
    prefixes = ["/".join(parts[: i + 1]) for i in range(len(parts))]
    return any(fnmatch.fnmatch(p, pat) for p in prefixes for pat in patterns)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--src", default=".", type=pathlib.Path, help="collection root (default: .)")
    parser.add_argument("--dest", required=True, type=pathlib.Path, help="directory to hold ansible_collections/")
    parser.add_argument("--keep", action="append", default=[], help="path to copy even if build_ignore drops it")
    parser.add_argument("--drop", action="append", default=[], help="path inside a --keep path not to copy")
    args = parser.parse_args()

    root = args.src.resolve()
    galaxy = yaml.safe_load((root / "galaxy.yml").read_text())
    patterns = [*GALAXY_DEFAULT_IGNORE, *(galaxy.get("build_ignore") or [])]
    dest_root = args.dest.resolve()
    if dest_root == root or (
        root in dest_root.parents and not is_ignored(str(dest_root.relative_to(root)), patterns, [])
    ):
        raise SystemExit(f"{dest_root} is inside the collection and not build-ignored: it would copy itself")
    target = dest_root / "ansible_collections" / galaxy["namespace"] / galaxy["name"]
    if target.exists():
        shutil.rmtree(target)
    target.mkdir(parents=True)

    copied = 0
    for rel in candidate_files(root):
        if is_ignored(rel, patterns, args.keep, args.drop):
            continue
        (target / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(root / rel, target / rel)
        copied += 1
    print(target)
    print(f"{copied} files copied to {target}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
