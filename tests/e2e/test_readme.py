"""The README's YAML examples run as written, through ansible-playbook over WinRM, against the demo fleet."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from simulator.harness import run_playbook_file

README = Path(__file__).resolve().parents[2] / "README.md"
HOSTS = "web01:app02:backup01"
# The role also covers a host declared as NT 4.0 (never contacted); the modules need a reachable host.
ROLE_HOSTS = HOSTS + ":nt4-lab"

pytestmark = pytest.mark.e2e


def yaml_blocks() -> list[list[dict]]:
    return [yaml.safe_load(block) for block in re.findall(r"```yaml\n(.*?)```", README.read_text(), re.S)]


def test_the_readme_has_a_play_and_tasks():
    blocks = yaml_blocks()
    assert any("hosts" in block[0] for block in blocks) and any("hosts" not in block[0] for block in blocks)


def test_readme_examples_run_in_check_mode_without_writes(fleet_factory, tmp_path):
    fleet = fleet_factory("demo")
    # One playbook, one ansible-playbook run: each play as written, each list of tasks as a play on HOSTS.
    plays = []
    for block in yaml_blocks():
        if "hosts" in block[0]:
            plays += block
        else:
            plays.append({"name": "README tasks", "hosts": HOSTS, "gather_facts": False, "tasks": block})
    playbook = tmp_path / "readme.yml"
    playbook.write_text(yaml.safe_dump(plays), encoding="utf-8")
    run = run_playbook_file(fleet, playbook, check=True, limit=ROLE_HOSTS)
    assert run.rc == 0, run.stdout[-4000:]
    assert sum(counters["writes"] for counters in fleet.all_counters().values()) == 0
    report = tmp_path / "reports" / "wmi-compliance.json"
    assert report.exists()  # the role example wrote the fleet report next to the playbook
