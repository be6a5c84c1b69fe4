# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""galaxy.yml and the built tarball promise only what ships: the description names no feature whose module is
missing, no plugin is dated after the release, and development files stay out of the tarball."""

from __future__ import annotations

import pathlib
import re
import subprocess
import sys
import tarfile
from collections import Counter

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
GALAXY = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))

# Words in the description -> the module that must ship before the description may say them.
FEATURE_MODULES = {
    r"script audit|ADSI|async-WMI script": "script_audit",
    r"event subscription|event-subscription": "event_subscription_info",
    r"moniker": "wmi_moniker",
}
# Development files of this repository: tool configurations and everything only tests, gates and the demo use.
DEVELOPMENT_FILES = (
    ".ansible-lint",
    ".yamllint",
    ".yamllint-docs",
    ".gitignore",
    ".nox/",
    "noxfile.py",
    "antsibull-nox.toml",
    "Makefile",
    "pyproject.toml",
    "simulator/",
    "tools/",
    "benchmarks/",
    "tests/unit/",
    "tests/e2e/",
    "tests/requirements/",
)


def _shipped_plugin_names() -> set[str]:
    names = set()
    for folder in ("modules", "action", "filter"):
        for path in (ROOT / "plugins" / folder).glob("*"):
            names.add(path.stem)
    for filter_doc in (ROOT / "plugins" / "filter").glob("*.yml"):
        names.add(filter_doc.stem)
    return names


@pytest.mark.parametrize(("words", "module"), sorted(FEATURE_MODULES.items()))
def test_description_names_only_what_ships(words: str, module: str) -> None:
    description = GALAXY["description"]
    if module not in _shipped_plugin_names():
        assert not re.search(words, description, re.IGNORECASE), f"galaxy.yml advertises {module}, which does not ship"


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in str(text).split("."))


def _documented_versions() -> list[tuple[str, str]]:
    found = []
    for path in sorted((ROOT / "plugins").rglob("*")):
        if path.suffix not in (".yml", ".py") or "plugin_utils" in path.parts:
            continue
        for match in re.finditer(r"^\s*version_added:\s*['\"]?([0-9.]+)", path.read_text(encoding="utf-8"), re.M):
            found.append((str(path.relative_to(ROOT)), match.group(1)))
    return found


def test_no_plugin_is_dated_after_this_release() -> None:
    release = _version(GALAXY["version"])
    versions = _documented_versions()
    assert any(path.startswith("plugins/filter/") for path, _version_text in versions)
    late = [(path, text) for path, text in versions if _version(text) > release]
    assert late == [], f"version_added above the collection's version {GALAXY['version']}"


def test_tarball_leaves_development_files_out(tmp_path: pathlib.Path) -> None:
    ansible_galaxy = pathlib.Path(sys.executable).parent / "ansible-galaxy"
    if not ansible_galaxy.exists():
        pytest.skip(f"needs {ansible_galaxy}")
    subprocess.run(
        [str(ansible_galaxy), "collection", "build", "--output-path", str(tmp_path), str(ROOT)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    )
    (tarball,) = tmp_path.glob("*.tar.gz")
    with tarfile.open(tarball) as archive:
        names = archive.getnames()
    shipped_development = [name for name in names if name.startswith(DEVELOPMENT_FILES) or name in DEVELOPMENT_FILES]
    assert shipped_development == []
    # What a user needs does ship.
    needed_files = ("MANIFEST.json", "README.md", "plugins/modules/wmi_state.ps1", "meta/runtime.yml")
    licensing = ("COPYING", "REUSE.toml", "LICENSES/GPL-3.0-or-later.txt")  # REUSE: the licence travels with the code
    for needed in (*needed_files, *licensing):
        assert needed in names, needed


def test_test_modules_have_unique_names() -> None:
    # The test directories are not packages: pytest imports each file by its basename, so two files of the same name
    # (one in tests/unit, one in tests/e2e) stop the whole session at collection - only when both are collected.
    tests = pathlib.Path(__file__).resolve().parents[1]
    names = Counter(path.name for path in tests.rglob("test_*.py"))
    assert [name for name, count in names.items() if count > 1] == []
