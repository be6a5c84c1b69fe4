"""nox sessions: antsibull-nox's (configured in antsibull-nox.toml) plus the checks it has no session for.

`nox --list` shows them all; README.md, "Checks" says what each checks. Every package a session installs is pinned by
tests/requirements/nox-sessions.txt, handed to pip as a constraints file (PIP_CONSTRAINT), so a session's tools are
the same on every machine. `nox -R` reuses the session venvs (no reinstall) once they exist.

Sessions defined here (antsibull-nox cannot run them, or not offline):

* ``ansible-test-sanity`` - ansible-test sanity of ansible-core 2.21 (the strictest rules we support), with no
  ignore file, without containers: antsibull-nox's own sanity sessions always pass ``--docker``. ansible-test runs
  in this session's venv (``--python``), on the collection as ``ansible-galaxy collection build`` would ship it plus
  tests/unit (tools/gates/build_tree.py), offline (tools/gates/get_pip_shim.py) and with a static stand-in for
  ``pwsh`` when none is installed (tools/gates/pwsh_argspec.py).
* ``ps-argspec`` - every PowerShell module's ``$spec`` equals its documentation (tools/gates/ps_argspec_check.py).
* ``changelog`` - antsibull-changelog lint of the fragments and of changelogs/changelog.yaml.
* ``docsite`` - the collection docsite renders with Sphinx (tools/gates/docsite.sh).
* ``ee-requirements`` - the execution-environment dependencies ansible-builder reads from the shipped collection are
  exactly meta/ee-requirements.txt.
"""

from __future__ import annotations

import fcntl
import os
import shutil
import sys
import tempfile
import zlib
from pathlib import Path

import nox
import yaml

try:
    import antsibull_nox
except ImportError:
    print("You need to install antsibull-nox in the same Python environment as nox (tests/requirements/nox.txt).")
    raise

ROOT = Path(__file__).resolve().parent
SESSION_PINS = ROOT / "tests" / "requirements" / "nox-sessions.txt"
os.environ.setdefault("PIP_CONSTRAINT", str(SESSION_PINS))
# antsibull-nox runs `ansible-galaxy collection list` from PATH: the ansible-core installed beside nox
# (tests/requirements/nox.txt), also when nox is started as .venv/nox/bin/nox without activating the venv.
os.environ["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
# This machine's pip config lists local indexes that may be absent; pip says so once per package.
os.environ.setdefault("PIP_DISABLE_PIP_VERSION_CHECK", "1")

antsibull_nox.load_antsibull_nox_toml()


def _warnings_fail(session_name: str) -> None:
    """Make every warning of an antsibull-nox session fail it.

    antsibull-nox 1.10's build-import-check turns the ``ERROR:`` lines of galaxy-importer's log into one
    ``session.warn`` and passes, and galaxy-importer itself exits 0 even when the import failed
    (``galaxy_importer.main`` logs "The import failed for the following reason" and returns). Galaxy would refuse or
    flag such a tarball, so here the session fails with the importer's errors instead. nox runs sessions one at a time
    in this process, so the class-level hook is in place only while this session runs.
    """
    registered = nox.registry.get()[session_name]
    run_session = registered.func

    def strict(session: nox.Session, *args: object, **kwargs: object) -> None:
        warnings: list[str] = []
        warn = nox.Session.warn

        def record(self: nox.Session, message: object, *rest: object, **options: object) -> None:
            warnings.append(str(message) % rest if rest else str(message))
            warn(self, message, *rest, **options)

        nox.Session.warn = record
        try:
            run_session(session, *args, **kwargs)
        finally:
            nox.Session.warn = warn
        if warnings:
            session.error(f"{session_name} warned, which fails it here:\n" + "\n".join(warnings))

    registered.func = strict


_warnings_fail("build-import-check")

SANITY_CORE = "2.21"
SANITY_PYTHON = "3.13"
# The tree-sitter PowerShell grammar reads a module's $spec without PowerShell (tools/gates/ps_spec.py).
PS_READER = ["tree-sitter", "tree-sitter-powershell", "PyYAML"]


def _work_dir(session: nox.Session, name: str) -> Path:
    """A fresh directory for this session outside the git work tree: ansible-test lists files with git, and
    inside the work tree (where .nox/ is ignored) it would see none of the copy."""
    checkout = zlib.crc32(str(ROOT).encode())
    work = Path(tempfile.gettempdir()) / f"winsec-wmi-{name}-{checkout:08x}"
    work.mkdir(parents=True, exist_ok=True)
    return work


@nox.session(name="ansible-test-sanity", python=SANITY_PYTHON, default=True)
def ansible_test_sanity(session: nox.Session) -> None:
    """Run ansible-test sanity (ansible-core 2.21, no ignore file) offline, without containers."""
    if list(ROOT.glob("tests/sanity/ignore-*.txt")):
        session.error("tests/sanity holds an ignore file: fix the finding instead")
    session.install(f"ansible-core=={SANITY_CORE}.*", *PS_READER)
    work = _work_dir(session, "sanity")
    # ansible-test installs one venv per sanity test (ten; about a minute) under ~/.ansible/test/venv, keyed by a hash
    # of its pip commands, reuses one that has its marker.txt and recreates one without (a run killed while installing;
    # ansible_test/_internal/commands/sanity/__init__.py, create_sanity_virtualenv), and looks for get-pip there. Its
    # own HOME, shared by every checkout of this collection (a fresh clone reuses the venvs an earlier run installed, as
    # CI caches them), locked while ansible-test runs: a venv another checkout is still creating has no marker yet and
    # would be removed under it. pip keeps the real config and cache directories.
    home = (
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "winsec-wmi" / f"ansible-test-{SANITY_CORE}"
    )
    home.mkdir(parents=True, exist_ok=True)
    lock = (home / "lock").open("w")
    session.log(f"ansible-test's HOME is {home}; waiting for any other checkout's sanity run there")
    fcntl.flock(lock, fcntl.LOCK_EX)
    env = {
        "HOME": str(home),
        "XDG_CONFIG_HOME": os.environ.get("XDG_CONFIG_HOME", str(Path.home() / ".config")),
        "XDG_CACHE_HOME": os.environ.get("XDG_CACHE_HOME", str(Path.home() / ".cache")),
    }
    session.run("python", str(ROOT / "tools/gates/get_pip_shim.py"), env=env)
    session.run(
        "python",
        str(ROOT / "tools/gates/build_tree.py"),
        "--dest",
        str(work / "tree"),
        "--keep",
        "tests/unit",
        "--keep",
        "tests/sanity",
        "--drop",
        "tests/unit/simulator",  # tests of the simulator and the benchmarks, which are no collection content
        "--drop",
        "tests/unit/benchmarks",  # (galaxy.yml build_ignore)
    )
    args = ["--python", SANITY_PYTHON, "--color", "no"]
    if shutil.which("pwsh"):
        session.log(f"using the real pwsh at {shutil.which('pwsh')}")
    else:
        # validate-modules asks pwsh for each .ps1's arg spec and crashes without it. The stand-in answers that one
        # question from the $spec literal, so the doc-vs-spec rules run; pslint needs the real PSScriptAnalyzer.
        bin_dir = work / "bin"
        bin_dir.mkdir(exist_ok=True)
        pwsh = bin_dir / "pwsh"
        pwsh.write_text(f'#!/bin/sh\nexec "{session.bin}/python" "{ROOT / "tools/gates/pwsh_argspec.py"}" "$@"\n')
        pwsh.chmod(0o755)
        env["PATH"] = f"{bin_dir}{os.pathsep}{session.bin}{os.pathsep}{os.environ['PATH']}"
        args += ["--skip-test", "pslint"]
        session.log("no pwsh: .ps1 arg specs read statically by tools/gates/pwsh_argspec.py; pslint skipped")
    try:
        with session.chdir(work / "tree" / "ansible_collections" / "winsec" / "wmi"):
            session.run("ansible-test", "sanity", *args, *session.posargs, env=env)
    finally:
        lock.close()  # releases the flock


@nox.session(name="ps-argspec", default=True)
def ps_argspec(session: nox.Session) -> None:
    """Check that every PowerShell module's $spec matches its documentation, option by option."""
    session.install(*PS_READER)
    session.run("python", "tools/gates/ps_argspec_check.py")


@nox.session(name="changelog", default=True)
def changelog(session: nox.Session) -> None:
    """Lint the changelog fragments and changelogs/changelog.yaml (antsibull-changelog)."""
    session.install("antsibull-changelog")
    session.run("antsibull-changelog", "lint")
    session.run("antsibull-changelog", "lint-changelog-yaml", "changelogs/changelog.yaml")


@nox.session(name="docsite", default=True)
def docsite(session: nox.Session) -> None:
    """Build the collection docsite with Sphinx, as docs.ansible.com would (offline: no intersphinx)."""
    session.install("antsibull-docs", "ansible-core", "sphinx", "sphinx-ansible-theme", "PyYAML")
    session.run("bash", "tools/gates/docsite.sh", external=True)


@nox.session(name="ee-requirements", default=True)
def ee_requirements(session: nox.Session) -> None:
    """Check that ansible-builder reads exactly meta/ee-requirements.txt from the shipped collection."""
    session.install("ansible-builder", "PyYAML")
    work = _work_dir(session, "ee")
    shutil.rmtree(work / "tree", ignore_errors=True)
    session.run("python", "tools/gates/build_tree.py", "--dest", str(work / "tree"), silent=True)
    introspected = session.run("ansible-builder", "introspect", "--sanitize", str(work / "tree"), silent=True)
    assert isinstance(introspected, str)
    found = yaml.safe_load(introspected) or {}
    python = [line.split("#")[0].strip() for line in found.get("python") or []]
    declared = [
        line.split("#")[0].strip()
        for line in (ROOT / "meta/ee-requirements.txt").read_text().splitlines()
        if line.split("#")[0].strip()
    ]
    if python != declared or found.get("system"):
        session.error(f"EE dependencies {found} differ from meta/ee-requirements.txt {declared}")
    session.log(f"EE python dependencies as declared: {', '.join(python)}")
