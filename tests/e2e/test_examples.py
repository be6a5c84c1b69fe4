# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's EXAMPLES run as written, through ansible-playbook over WinRM, against the simulated fleet."""

from __future__ import annotations

import importlib
import pathlib

import pytest
import yaml

pytestmark = pytest.mark.e2e

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
PY_DOC_MODULES = ["unsecapp_lockdown", "namespace_sd_info", "namespace_sd", "baseline"]


def examples(name: str) -> list[dict]:
    if name == "wmi_state":
        return yaml.safe_load((REPO_ROOT / "plugins" / "modules" / "wmi_state.yml").read_text())["EXAMPLES"]
    module = importlib.import_module(f"ansible_collections.winsec.wmi.plugins.modules.{name}")
    return yaml.safe_load(module.EXAMPLES)


@pytest.mark.parametrize("name", [*PY_DOC_MODULES, "wmi_state"])
def test_examples_run_on_compliant_hosts(fleet, run_playbook, name):
    tasks = examples(name)
    if isinstance(tasks, str):
        tasks = yaml.safe_load(tasks)
    run = run_playbook(fleet, tasks, hosts="ws2022")
    assert run.rc == 0, run.stdout[-4000:]
    for host in ("ws2022",):
        for index, task in enumerate(tasks):
            assert run.status(host, index) in ("ok", "skipped"), (host, task.get("name"), run.result(host, index))


def test_examples_run_in_check_mode_everywhere_without_writes(fleet, run_playbook):
    tasks = [task for name in PY_DOC_MODULES for task in examples(name) if "ansible.builtin.assert" not in task]
    run = run_playbook(fleet, tasks, check=True, hosts="ws2022:ws2016")
    assert run.rc == 0, run.stdout[-4000:]
    for host in fleet.hosts:
        assert fleet.counters(host)["writes"] == 0
