"""End-to-end fixtures: a simulated Windows fleet (a separate process) and real ``ansible-playbook`` runs against it.

Interface (kept stable for every e2e test):

* ``fleet`` - function-scoped, a fresh simulator serving ``simulator/fleets/small.yml``, stopped after the test.
* ``fleet_factory(fleet_file_or_name)`` - start another fleet (``"demo"``, ``"small"`` or a path); all stopped after.
* ``fleet_from_text(text, name="fleet")`` - start a fleet described by YAML text (written to ``tmp_path/<name>.yml``,
  simulator/README.md describes the format); stopped after the test like ``fleet_factory``'s.
* ``Fleet``: ``.inventory`` (Path), ``.hosts`` (list[str]), ``.state(host)``, ``.counters(host)``,
  ``.reset_counters()``, ``.set_fault(host, **fault)``, ``.clear_faults()``, ``.control_url``.
* ``run_playbook(fleet, tasks, *, hosts="all", check=False, diff=False, extra_vars=None, gather_facts=False)``
  -> ``PlaybookRun`` with ``.rc``, ``.stdout``, ``.stderr``, ``.result(host, task_index_or_name)``,
  ``.status(host, task)``, ``.results(task)``.
* ``run_adhoc(fleet, module, args="", *, hosts="all")`` -> ``subprocess.CompletedProcess`` of ``ansible -m``.

The machinery lives in ``simulator/harness.py`` (also ``run_playbook_file`` for existing playbooks,
``PlaybookRun.has_result`` and ``.recap()``), so tools can drive a fleet without pytest.

The simulator never runs inside the pytest process: Ansible forks workers, and forking a process that runs a
threaded HTTP server is unsafe (notes §2.4).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
if str(REPO_ROOT) not in sys.path:  # `pytest` (not `python -m pytest`) does not put the repo root on sys.path
    sys.path.insert(0, str(REPO_ROOT))

from simulator.harness import Fleet, PlaybookRun, run_adhoc, run_playbook  # noqa: E402

__all__ = ["Fleet", "PlaybookRun", "run_adhoc", "run_playbook"]


@pytest.fixture
def fleet_factory(tmp_path: Path) -> Iterator[Callable[[str | Path], Fleet]]:
    started: list[Fleet] = []

    def start(fleet_file_or_name: str | Path) -> Fleet:
        fleet = Fleet(fleet_file_or_name, tmp_path / f"fleet-{len(started)}")
        started.append(fleet)
        return fleet

    yield start
    for fleet in started:
        fleet.stop()


@pytest.fixture
def fleet_from_text(fleet_factory: Callable[[str | Path], Fleet], tmp_path: Path) -> Callable[..., Fleet]:
    def start(text: str, name: str = "fleet") -> Fleet:
        path = tmp_path / f"{name}.yml"
        path.write_text(text, encoding="utf-8")
        return fleet_factory(path)

    return start


@pytest.fixture
def fleet(fleet_factory: Callable[[str | Path], Fleet]) -> Fleet:
    return fleet_factory("small")


@pytest.fixture(name="run_adhoc")
def run_adhoc_fixture() -> Callable[..., subprocess.CompletedProcess[str]]:
    return run_adhoc


@pytest.fixture(name="run_playbook")
def run_playbook_fixture() -> Callable[..., PlaybookRun]:
    return run_playbook
