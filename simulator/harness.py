"""Drive a simulated fleet from Python: start ``python -m simulator serve`` as a separate process, talk to its control
API, and run the real ``ansible-playbook`` / ``ansible`` against it with per-host, per-task results.

Used by the e2e fixtures (tests/e2e/conftest.py) and by tools that demo the collection. The simulator always runs in
its own process: Ansible forks workers, and forking a process that runs a threaded HTTP server is unsafe (notes §2.4).
Results come from the ``winsec_sim_results`` callback (ansible_plugins/callback/): ansible-core has no JSON stdout
callback of its own.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

REPO_ROOT = Path(__file__).resolve().parents[1]
SIMULATOR_DIR = REPO_ROOT / "simulator"
CALLBACK_DIR = SIMULATOR_DIR / "ansible_plugins" / "callback"
# Stand-ins that make ansible.windows.{win_ping,setup,win_reg_stat,win_regedit} resolvable when the real collection
# is not installed; they go last on the collections path so a real ansible.windows wins.
STUB_COLLECTIONS = SIMULATOR_DIR / "stub_collections"
ANSIBLE_PLAYBOOK = Path(sys.executable).parent / "ansible-playbook"
STARTUP_TIMEOUT = 60.0

# A direct (non-proxied) opener for the control API: HTTP(S)_PROXY in the environment must not catch 127.0.0.1.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class Fleet:
    """A running simulator process and its control API."""

    def __init__(self, fleet: str | Path, workdir: Path) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        self.inventory = workdir / "inventory.yml"
        self._log = (workdir / "simulator.log").open("w+", encoding="utf-8")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "simulator",
                "serve",
                "--fleet",
                str(fleet),
                "--port",
                "0",
                "--inventory",
                str(self.inventory),
            ],
            cwd=REPO_ROOT,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
        )
        self.port = self._wait_for_port()
        self.control_url = f"http://127.0.0.1:{self.port}/_control"
        inventory = yaml.safe_load(self.inventory.read_text(encoding="utf-8"))
        self.hosts: list[str] = sorted(
            host for group in inventory["all"]["children"].values() for host in (group.get("hosts") or {})
        )

    def _wait_for_port(self) -> int:
        assert self.process.stdout is not None
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            line = self.process.stdout.readline()
            if line.startswith("SIMULATOR LISTENING"):
                fields = dict(part.split("=", 1) for part in line.split()[2:])
                return int(fields["port"])
            if not line and self.process.poll() is not None:
                break
        self._log.flush()
        self._log.seek(0)
        log = self._log.read()
        self.stop()
        raise RuntimeError(f"simulator did not start:\n{log}")

    # --- control API -----------------------------------------------------------------------------------------

    def _call(self, method: str, path: str, body: Any = None) -> Any:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"{self.control_url}{path}", data=data, method=method)
        request.add_header("Content-Type", "application/json")
        with _OPENER.open(request, timeout=30) as response:
            return json.loads(response.read() or b"null")

    def state(self, host: str) -> dict[str, Any]:
        return self._call("GET", f"/hosts/{host}/state")

    def counters(self, host: str) -> dict[str, Any]:
        return self._call("GET", f"/hosts/{host}/counters")

    def all_counters(self) -> dict[str, dict[str, Any]]:
        return self._call("GET", "/counters")

    def reset_counters(self) -> None:
        self._call("POST", "/reset-counters", {})

    def set_fault(self, host: str, **fault: Any) -> dict[str, Any]:
        """Add faults to a host, e.g. ``set_fault("ws2022", http_500=1)``; see simulator/README.md for kinds."""
        return self._call("POST", f"/hosts/{host}/faults", fault)

    def clear_faults(self) -> None:
        self._call("DELETE", "/faults")

    def reset(self) -> None:
        """Every host back to what the fleet file describes (state, faults, counters): the fleet as it started."""
        self._call("POST", "/reset", {})

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stdout:
            self.process.stdout.close()
        self._log.close()


@dataclass
class PlaybookRun:
    rc: int
    stdout: str
    stderr: str
    playbook: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    task_names: list[str] = field(default_factory=list)

    def _record(self, host: str, task: int | str) -> dict[str, Any]:
        for record in self.records:
            if record["host"] == host and (
                record["index"] == task if isinstance(task, int) else record["task"] == task
            ):
                return record
        raise KeyError(
            f"no result for host {host!r}, task {task!r}; tasks: {self.task_names}\n"
            f"--- stdout ---\n{self.stdout[-4000:]}\n--- stderr ---\n{self.stderr[-2000:]}"
        )

    def has_result(self, host: str, task: int | str) -> bool:
        try:
            self._record(host, task)
        except KeyError:
            return False
        return True

    def recap(self) -> str:
        """The PLAY RECAP section of the default stdout."""
        marker = self.stdout.rfind("PLAY RECAP")
        return self.stdout[marker:].strip() if marker >= 0 else ""

    def result(self, host: str, task: int | str) -> dict[str, Any]:
        """The task's result for ``host``; ``task`` is the index in the play's task list or the task name.

        Indexes count tasks in the order they start in the run (the implicit "Gathering Facts" task is not counted),
        which for a one-play playbook is the play's task list.
        """
        return self._record(host, task)["result"]

    def status(self, host: str, task: int | str) -> str:
        """``ok``, ``failed``, ``skipped`` or ``unreachable``."""
        return str(self._record(host, task)["status"])

    def results(self, task: int | str) -> dict[str, dict[str, Any]]:
        return {
            r["host"]: r["result"]
            for r in self.records
            if (r["index"] == task if isinstance(task, int) else r["task"] == task)
        }


def ansible_env(fleet: Fleet, results_file: Path) -> dict[str, str]:
    env = dict(os.environ)
    collections = [str(REPO_ROOT / "collections")]
    # pytest-ansible put the collection tree (and ~/.ansible/collections) here; keep them, stand-ins last.
    collections += [p for p in env.get("ANSIBLE_COLLECTIONS_PATH", "").split(os.pathsep) if p and p not in collections]
    collections.append(str(STUB_COLLECTIONS))
    env.update(
        {
            "ANSIBLE_COLLECTIONS_PATH": os.pathsep.join(collections),
            "ANSIBLE_CALLBACK_PLUGINS": str(CALLBACK_DIR),
            "ANSIBLE_CALLBACKS_ENABLED": "winsec_sim_results",
            "WINSEC_SIM_RESULTS": str(results_file),
            "ANSIBLE_NOCOLOR": "1",
            "ANSIBLE_FORCE_COLOR": "0",
            "ANSIBLE_RETRY_FILES_ENABLED": "false",
            "ANSIBLE_LOCAL_TEMP": str(fleet.workdir / "ansible-tmp"),
            "ANSIBLE_FORKS": str(max(5, min(50, len(fleet.hosts)))),
            "ANSIBLE_DEPRECATION_WARNINGS": "false",
            # pywinrm honours HTTP(S)_PROXY; loopback must bypass any proxy (notes §2.4).
            "NO_PROXY": "127.0.0.1,localhost",
            "no_proxy": "127.0.0.1,localhost",
        }
    )
    return env


def run_playbook(
    fleet: Fleet,
    tasks: list[dict[str, Any]] | str,
    *,
    hosts: str = "all",
    check: bool = False,
    diff: bool = False,
    extra_vars: dict[str, Any] | None = None,
    gather_facts: bool = False,
    timeout: float = 300,
) -> PlaybookRun:
    """Write a one-play playbook around ``tasks`` (a list of task dicts, or YAML text) and run ansible-playbook."""
    play = {"name": "simulator e2e", "hosts": hosts, "gather_facts": gather_facts, "tasks": tasks}
    playbook = write_playbook(fleet, [play])
    return run_playbook_file(fleet, playbook, check=check, diff=diff, extra_vars=extra_vars, timeout=timeout)


def write_playbook(fleet: Fleet, plays: list[dict[str, Any]]) -> Path:
    """``plays`` as a playbook in a directory of its own under the fleet's: a play gathers no facts unless it says so,
    and its ``tasks`` may be YAML text."""
    run_dir = fleet.workdir / f"run-{time.monotonic_ns()}"
    run_dir.mkdir(parents=True)
    playbook = run_dir / "playbook.yml"
    documents = [
        {
            "gather_facts": False,
            **play,
            "tasks": yaml.safe_load(play["tasks"]) if isinstance(play["tasks"], str) else play["tasks"],
        }
        for play in plays
    ]
    playbook.write_text(yaml.safe_dump(documents, sort_keys=False), encoding="utf-8")
    return playbook


@dataclass(frozen=True)
class Step:
    """One step of a scenario: its ansible-playbook run and what the simulator counted on each host during it."""

    run: PlaybookRun
    counters: dict[str, dict[str, Any]]

    def writes(self, host: str) -> int:
        return int(self.counters[host]["writes"])


def wmi_state_runs(fleet_or_step: Fleet | Step, host: str) -> int:
    """How often winsec.wmi.wmi_state ran on ``host`` (the collection's round trips): during one ``Step``, or since
    the fleet's counters were last reset."""
    counters = fleet_or_step.counters[host] if isinstance(fleet_or_step, Step) else fleet_or_step.counters(host)
    return int(counters["module_executions"].get("winsec.wmi.wmi_state", 0))


def run_step(fleet: Fleet, tasks: list[dict[str, Any]] | str, **options: Any) -> Step:
    """``run_playbook`` with the fleet's counters reset first and read after: one run over several hosts serves as
    the same step of each host's scenario (a check-mode step asserts zero writes host by host)."""
    fleet.reset_counters()
    run = run_playbook(fleet, tasks, **options)
    return Step(run, fleet.all_counters())


def each_on_its_host(tasks_by_host: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Several tests' tasks as one play's: each task guarded to its own host, so every other host skips it. Unlike a
    play per host, a host whose task fails leaves the others' tasks running (``run_step(fleet, tasks, hosts=...)``)."""
    return [
        {**task, "when": f"inventory_hostname == '{host}'"} for host, tasks in tasks_by_host.items() for task in tasks
    ]


def run_plays_step(fleet: Fleet, plays: list[dict[str, Any]], **options: Any) -> Step:
    """``run_step`` of several plays (``hosts``, ``tasks``, play keywords such as ``check_mode``) in one run;
    ``options`` as ``run_playbook_file`` takes them."""
    playbook = write_playbook(fleet, plays)
    fleet.reset_counters()
    run = run_playbook_file(fleet, playbook, **options)
    return Step(run, fleet.all_counters())


Plan = Generator[Any, Step, Any]


class SideBySide:
    """Scenarios of several tests, run side by side: one ansible-playbook run per round instead of one per test step.

    Each plan (a generator, one per test, on hosts of its own) yields its next play (``hosts`` as ``a:b``, ``tasks``,
    play keywords such as ``check_mode`` and ``diff``) or a list of plays, and receives that round's ``Step``; it
    asserts as its test would. A round's plays from every plan are one run. A plan's failure is kept for its test to
    raise (``outcome``); the others go on. A host belongs to the first plan that names it (another plan naming it fails:
    their counters would mix). A task meant to fail says ``ignore_errors``: ansible-playbook ends the whole run when
    every host of a play has failed.
    """

    def __init__(self, fleet: Fleet, plans: dict[str, Plan]) -> None:
        self.errors: dict[str, BaseException] = {}
        self.finished: set[str] = set()
        self.owners: dict[str, str] = {}  # host: the plan it belongs to
        pending = dict(plans)
        plays = self._advance(pending, None)
        while plays:
            plays = self._advance(pending, run_plays_step(fleet, plays))
        for name in pending:  # it yielded no play: nothing ran its next step
            self.errors[name] = AssertionError(f"plan {name!r} yielded no play and never finished")

    @classmethod
    def per_host(cls, fleet: Fleet, plans: dict[str, Callable[[Fleet, str], Plan]]) -> SideBySide:
        """``{host: plan function}``: each plan made as ``plan(fleet, host)`` and named after its host."""
        return cls(fleet, {host: plan(fleet, host) for host, plan in plans.items()})

    def _advance(self, pending: dict[str, Plan], step: Step | None) -> list[dict[str, Any]]:
        plays: list[dict[str, Any]] = []
        for name, plan in list(pending.items()):
            try:
                play = next(plan) if step is None else plan.send(step)
                own = [play] if isinstance(play, dict) else list(play)
                for host in (host for one in own for host in one["hosts"].split(":")):
                    owner = self.owners.setdefault(host, name)
                    assert owner == name, f"plan {name!r} names {host!r}, plan {owner!r}'s host"
            except StopIteration:
                self.finished.add(name)
                del pending[name]
            except Exception as error:  # an assertion of that test's (or a run it could not read)
                self.errors[name] = error
                del pending[name]
            else:
                plays += [{"name": name, **one} for one in own]
        return plays

    def outcome(self, name: str) -> None:
        """Raise what failed plan ``name``; nothing when it ran to its end."""
        if name in self.errors:
            raise self.errors[name]
        assert name in self.finished, f"no plan {name!r}"


def run_playbook_file(
    fleet: Fleet,
    playbook: Path,
    *,
    check: bool = False,
    diff: bool = False,
    extra_vars: dict[str, Any] | None = None,
    limit: str | None = None,
    timeout: float = 600,
    env: dict[str, str] | None = None,
) -> PlaybookRun:
    """Run an existing playbook (e.g. playbooks/audit.yml) with the real ansible-playbook against ``fleet``; ``env``
    adds to its environment (e.g. ANSIBLE_DISPLAY_OK_HOSTS)."""
    run_dir = fleet.workdir / f"run-{time.monotonic_ns()}"
    run_dir.mkdir(parents=True, exist_ok=True)
    results_file = run_dir / "results.jsonl"
    command = [str(ANSIBLE_PLAYBOOK), "-i", str(fleet.inventory), str(playbook)]
    if check:
        command.append("--check")
    if diff:
        command.append("--diff")
    if extra_vars:
        command += ["--extra-vars", json.dumps(extra_vars)]
    if limit:
        command += ["--limit", limit]
    completed = subprocess.run(
        command,
        cwd=run_dir,
        env={**ansible_env(fleet, results_file), **(env or {})},
        stdin=subprocess.DEVNULL,  # never the caller's: CI has none, and an in-process Ansible may have closed it
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    records = (
        [json.loads(line) for line in results_file.read_text(encoding="utf-8").splitlines() if line.strip()]
        if results_file.exists()
        else []
    )
    names: list[str] = []
    for play in yaml.safe_load(Path(playbook).read_text(encoding="utf-8")) or []:
        names += [str(t.get("name", "")) for t in (play or {}).get("tasks") or [] if isinstance(t, dict)]
    return PlaybookRun(completed.returncode, completed.stdout, completed.stderr, Path(playbook), records, names)


def run_adhoc(
    fleet: Fleet, module: str, args: str = "", *, hosts: str = "all", timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """``ansible -i <inventory> <hosts> -m <module> [-a <args>]``, the issue's "every host answers" command."""
    run_dir = fleet.workdir / f"adhoc-{time.monotonic_ns()}"
    run_dir.mkdir(parents=True)
    command = [str(ANSIBLE_PLAYBOOK.with_name("ansible")), "-i", str(fleet.inventory), hosts, "-m", module]
    if args:
        command += ["-a", args]
    env = ansible_env(fleet, run_dir / "results.jsonl")
    return subprocess.run(
        command, cwd=run_dir, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )


def baseline_play(host: str, args: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
    """A play of one ``winsec.wmi.baseline`` task (named ``baseline``) with ``args`` on ``host``, errors kept for the
    caller to assert."""
    task = {"name": "baseline", "winsec.wmi.baseline": args, "ignore_errors": True}
    return {"hosts": host, "tasks": [task], **({"check_mode": True} if check else {})}


def baseline_result(run: PlaybookRun, host: str) -> dict[str, Any]:
    """The ``baseline`` task's result on ``host``, plus ``task_status`` (ok, changed, failed, ...) as the run
    reported it."""
    return {**run.result(host, "baseline"), "task_status": run.status(host, "baseline")}


def baseline_step(host: str, args: dict[str, Any], *, check: bool = False) -> Generator[Any, Step, Any]:
    """A ``SideBySide`` plan's baseline step on one host (``yield from``): the round's ``Step`` and
    ``baseline_result``."""
    step = yield baseline_play(host, args, check=check)
    return step, baseline_result(step.run, host)


def run_baseline(fleet: Fleet, host: str, args: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
    """One ``winsec.wmi.baseline`` task with ``args`` on ``host``, run alone (``--check`` when ``check``):
    ``baseline_result``."""
    run = run_playbook_file(fleet, write_playbook(fleet, [baseline_play(host, args)]), check=check)
    return baseline_result(run, host)


def control_result(result: dict[str, Any], control_id: str) -> dict[str, Any]:
    """The entry of ``control_id`` in a baseline result's ``controls``."""
    return next(control for control in result["controls"] if control["id"] == control_id)
