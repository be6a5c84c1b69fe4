# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES run as written, through ansible-playbook over WinRM, against the simulated fleet."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

from simulator.harness import PlaybookRun, run_playbook_file, write_playbook

pytestmark = pytest.mark.e2e

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PY_DOC_MODULES = ["unsecapp_lockdown", "namespace_sd_info", "namespace_sd", "baseline"]
MODULES = [*PY_DOC_MODULES, "wmi_state"]


def examples(name: str) -> list[dict]:
    if name == "wmi_state":
        return yaml.safe_load((REPO_ROOT / "plugins" / "modules" / "wmi_state.yml").read_text())["EXAMPLES"]
    module = importlib.import_module(f"ansible_collections.winsec.wmi.plugins.modules.{name}")
    return yaml.safe_load(module.EXAMPLES)


def example_tasks(name: str) -> list[dict]:
    tasks = examples(name)
    return yaml.safe_load(tasks) if isinstance(tasks, str) else tasks


def compliant_host(name: str) -> str:
    """The copy of the small fleet's compliant ws2022 that ``name``'s examples run on."""
    return f"ws2022-{name}"


@pytest.fixture(scope="module")
def examples_on_compliant_hosts(module_fleet_from_text) -> tuple[PlaybookRun, dict[str, int]]:
    """Every module's examples as its own play on its own copy of ws2022 (each starts from the same compliant host,
    none sees another's changes), in one ansible-playbook run: the run, and per module the run's index of its first
    task (the results count tasks in the order they start)."""
    small = yaml.safe_load((REPO_ROOT / "simulator" / "fleets" / "small.yml").read_text(encoding="utf-8"))
    ws2022 = next(host for host in small["hosts"] if host["name"] == "ws2022")
    hosts = [{**ws2022, "name": compliant_host(name)} for name in MODULES]
    fleet = module_fleet_from_text(yaml.safe_dump({"hosts": hosts}), "compliant")
    plays: list[dict] = []
    first_task: dict[str, int] = {}
    for name in MODULES:
        first_task[name] = sum(len(play["tasks"]) for play in plays)
        plays.append({"name": name, "hosts": compliant_host(name), "tasks": example_tasks(name)})
    return run_playbook_file(fleet, write_playbook(fleet, plays)), first_task


@pytest.mark.parametrize("name", MODULES)
def test_examples_run_on_compliant_hosts(examples_on_compliant_hosts, name):
    run, first_task = examples_on_compliant_hosts
    host = compliant_host(name)
    assert run.rc == 0, run.stdout[-4000:]
    for index, task in enumerate(example_tasks(name), start=first_task[name]):
        assert run.status(host, index) in ("ok", "skipped"), (host, task.get("name"), run.result(host, index))


def test_examples_run_in_check_mode_everywhere_without_writes(fleet, run_playbook):
    tasks = [task for name in PY_DOC_MODULES for task in examples(name) if "ansible.builtin.assert" not in task]
    run = run_playbook(fleet, tasks, check=True, hosts="ws2022:ws2016")
    assert run.rc == 0, run.stdout[-4000:]
    for host in fleet.hosts:
        assert fleet.counters(host)["writes"] == 0
