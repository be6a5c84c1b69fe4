"""Where the collection lives, and making ``ansible_collections.winsec.wmi`` importable.

The controller side (pytest-ansible) imports the collection from ``<repo>/collections/ansible_collections/winsec/wmi``,
a directory of one symlink per top-level repository entry. The simulator imports the SD codec from the very same
tree, so ``python -m simulator`` works from the Makefile (no pytest) exactly as it does from pytest.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import yaml

REPO_ROOT = Path(__file__).resolve().parent.parent
SIMULATOR_DIR = Path(__file__).resolve().parent


def collection_name(repo_root: Path = REPO_ROOT) -> tuple[str, str]:
    """Return (namespace, name) from galaxy.yml."""
    galaxy = yaml.safe_load((repo_root / "galaxy.yml").read_text(encoding="utf-8"))
    return str(galaxy["namespace"]), str(galaxy["name"])


def collections_dir(repo_root: Path = REPO_ROOT) -> Path:
    """The directory that contains ``ansible_collections/`` (what goes on ANSIBLE_COLLECTIONS_PATH)."""
    return repo_root / "collections"


def ensure_collection_tree(repo_root: Path = REPO_ROOT) -> Path:
    """Create ``collections/ansible_collections/<ns>/<name>`` like pytest-ansible does, if missing.

    pytest-ansible (units.py ``_resolve_collections_dir``) creates one symlink per top-level entry of the repository,
    skipping ``collections`` itself. We use the same layout, and also add links for entries created after the tree
    was made (a new top-level directory would otherwise be invisible until someone deletes the tree).
    Returns the collection directory.
    """
    namespace, name = collection_name(repo_root)
    name_dir = collections_dir(repo_root) / "ansible_collections" / namespace / name
    name_dir.mkdir(parents=True, exist_ok=True)
    for entry in repo_root.iterdir():
        if entry.name == "collections":
            continue
        link = name_dir / entry.name
        if not link.exists() and not link.is_symlink():
            # Another process (pytest, a second simulator) may win the race.
            with contextlib.suppress(FileExistsError):
                link.symlink_to(entry)
    return name_dir


def install_collection_path(repo_root: Path = REPO_ROOT) -> Path:
    """Ensure the tree exists and put its parent on ``sys.path``; returns the collection directory."""
    name_dir = ensure_collection_tree(repo_root)
    path = str(collections_dir(repo_root))
    if path not in sys.path:
        sys.path.insert(0, path)
    return name_dir
