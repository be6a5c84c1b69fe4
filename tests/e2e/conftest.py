"""End-to-end fixtures: a simulated Windows fleet (a separate process) and real ``ansible-playbook`` runs against it.

Interface (kept stable for every e2e test):

* ``fleet`` - the simulator serving ``simulator/fleets/small.yml``, as the test starts: unchanged since it started.
* ``fleet_factory(fleet_file_or_name)`` - another fleet (``"demo"``, ``"small"`` or a path), as it started. After the
  test the fleet is reset through the control API and kept for the next test that asks for the same one
  (``FleetPool``), so a session starts each distinct fleet about once.
* ``module_fleet_factory(fleet_file_or_name)`` - ``fleet_factory`` for module-scoped fixtures: a scenario run once
  (``run_step`` per step, over every host it concerns) whose steps several tests assert on.
* ``fleet_from_text(text, name="fleet")`` - a fleet described by YAML text (written to ``tmp_path/<name>.yml``,
  simulator/README.md describes the format); pooled like ``fleet_factory``'s, keyed by the text.
  ``module_fleet_from_text`` is the same for module-scoped scenarios.
* ``Fleet``: ``.inventory`` (Path), ``.hosts`` (list[str]), ``.state(host)``, ``.counters(host)``,
  ``.reset_counters()``, ``.set_fault(host, **fault)``, ``.clear_faults()``, ``.reset()``, ``.control_url``.
* ``run_playbook(fleet, tasks, *, hosts="all", check=False, diff=False, extra_vars=None, gather_facts=False)``
  -> ``PlaybookRun`` with ``.rc``, ``.stdout``, ``.stderr``, ``.result(host, task_index_or_name)``,
  ``.status(host, task)``, ``.results(task)``.
* ``simulator.harness.run_step(fleet, tasks, **run_playbook_options)`` -> ``Step`` with ``.run`` (``PlaybookRun``)
  and ``.counters`` (every host's simulator counters, counted from the step's start): one run as the same step of
  several hosts' scenarios (``each_on_its_host`` guards each test's tasks to its own host); ``run_plays_step(fleet,
  plays)`` the same with several plays, and ``SideBySide`` runs several tests' scenarios (generators yielding plays)
  one round per run.
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


class FleetPool:
    """Simulated fleets that outlive a test, so the next test asking for the same fleet gets it without a restart.

    When a test is done with a fleet, the fleet is reset through the control API (POST /_control/reset: every host,
    its faults and its counters as the fleet file describes them; tests/unit/simulator proves a reset fleet equals a
    new one) and waits for the next test that asks for the same fleet. A fleet whose process ended, or whose control
    API does not answer, is stopped instead. Fleets are keyed by name or by the text of their file.
    """

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.idle: dict[str, list[Fleet]] = {}
        self.started = 0

    @staticmethod
    def key(fleet_file_or_name: str | Path) -> str:
        path = Path(fleet_file_or_name)
        return path.read_text(encoding="utf-8") if path.suffix in (".yml", ".yaml") else str(fleet_file_or_name)

    def take(self, fleet_file_or_name: str | Path) -> Fleet:
        idle = self.idle.get(self.key(fleet_file_or_name))
        if idle:
            return idle.pop()
        self.started += 1
        return Fleet(fleet_file_or_name, self.workdir / f"fleet-{self.started}")

    def give_back(self, key: str, fleet: Fleet) -> None:
        """Reset ``fleet`` and keep it for the next ``take`` of ``key``; stop it if it cannot be reset."""
        try:
            if fleet.process.poll() is None:
                fleet.reset()
                self.idle.setdefault(key, []).append(fleet)
                return
        except OSError:  # the control API does not answer
            pass
        fleet.stop()

    def stop_all(self) -> None:
        for fleets in self.idle.values():
            for fleet in fleets:
                fleet.stop()
        self.idle.clear()


def fleet_from_file_text(factory: Callable[[str | Path], Fleet], directory: Path, text: str, name: str) -> Fleet:
    """The fleet ``text`` describes, written to ``directory/<name>.yml`` and taken through ``factory``."""
    path = directory / f"{name}.yml"
    path.write_text(text, encoding="utf-8")
    return factory(path)


@pytest.fixture(scope="session")
def fleet_pool(tmp_path_factory: pytest.TempPathFactory) -> Iterator[FleetPool]:
    pool = FleetPool(tmp_path_factory.mktemp("fleets"))
    yield pool
    pool.stop_all()


class FleetLoan:
    """The fleets one test (or one module) took from the pool, given back together when it is done."""

    def __init__(self, pool: FleetPool) -> None:
        self.pool = pool
        self.taken: list[tuple[str, Fleet]] = []

    def __call__(self, fleet_file_or_name: str | Path) -> Fleet:
        # Keyed by the file's text as the fleet started: a test may change or remove its file afterwards.
        key = self.pool.key(fleet_file_or_name)
        fleet = self.pool.take(fleet_file_or_name)
        self.taken.append((key, fleet))
        return fleet

    def give_back(self) -> None:
        for key, fleet in self.taken:
            self.pool.give_back(key, fleet)
        self.taken.clear()


@pytest.fixture
def fleet_factory(fleet_pool: FleetPool) -> Iterator[Callable[[str | Path], Fleet]]:
    loan = FleetLoan(fleet_pool)
    yield loan
    loan.give_back()


@pytest.fixture(scope="module")
def module_fleet_factory(fleet_pool: FleetPool) -> Iterator[Callable[[str | Path], Fleet]]:
    """``fleet_factory`` for a module-scoped scenario: one set of playbook runs whose steps several tests assert on
    (``simulator.harness.run_step``). The fleet is the module's until its last test; nothing else may change it."""
    loan = FleetLoan(fleet_pool)
    yield loan
    loan.give_back()


@pytest.fixture(scope="module")
def module_fleet_from_text(
    module_fleet_factory: Callable[[str | Path], Fleet], tmp_path_factory: pytest.TempPathFactory
) -> Callable[..., Fleet]:
    """``fleet_from_text`` for module-scoped scenarios."""

    def start(text: str, name: str = "fleet") -> Fleet:
        return fleet_from_file_text(module_fleet_factory, tmp_path_factory.mktemp("module-fleet"), text, name)

    return start


@pytest.fixture
def fleet_from_text(fleet_factory: Callable[[str | Path], Fleet], tmp_path: Path) -> Callable[..., Fleet]:
    def start(text: str, name: str = "fleet") -> Fleet:
        return fleet_from_file_text(fleet_factory, tmp_path, text, name)

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
