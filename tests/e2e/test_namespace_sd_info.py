# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.namespace_sd_info end to end over WinRM against the simulated small fleet.

ws2016 carries the drift: Everyone with write and remote access on root\\cimv2, and an ACE for a deleted account
(an orphaned SID). The others keep Windows' defaults.
"""

from __future__ import annotations

import json
import pathlib
from typing import Any

import pytest

from simulator.harness import run_step, wmi_state_runs

pytestmark = pytest.mark.e2e

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

REACHABLE = "ws2022:ws2016:ws2012"  # ws2003 fails at ansible-core's bootstrap, w2000 has no WinRM
READ_ALL = [{"name": "sd", "winsec.wmi.namespace_sd_info": {"namespaces": ["root"], "recurse": True}}]


@pytest.fixture(scope="module")
def unchanged_fleet(module_fleet_factory):
    """The module's fleet for the tests that share runs: each of those runs only reads it."""
    return module_fleet_factory("small")


@pytest.fixture(scope="module")
def read_all(unchanged_fleet):
    """READ_ALL over REACHABLE once in check mode and once not: ``{check: Step}``."""
    return {check: run_step(unchanged_fleet, READ_ALL, hosts=REACHABLE, check=check) for check in (True, False)}


@pytest.mark.parametrize("check", [True, False], ids=["check", "run"])
def test_whole_tree_in_one_round_trip_per_host(read_all, check):
    step = read_all[check]
    run = step.run
    assert run.rc == 0, run.stdout
    for host in REACHABLE.split(":"):
        result = run.result(host, "sd")
        assert result["changed"] is False
        names = [entry["namespace"].lower() for entry in result["namespaces"]]
        assert names[0] == "root" and "root\\cimv2" in names and len(names) == len(set(names)) > 3
        assert wmi_state_runs(step, host) == 1
        assert step.writes(host) == 0
    clean = run.result("ws2022", "sd")
    assert clean["findings"] == [] and clean["finding_count"] == 0
    root = clean["namespaces"][0]
    assert root["owner"]["name"] == "BUILTIN\\Administrators"
    assert {ace["principal"] for ace in root["aces"]} >= {
        "BUILTIN\\Administrators",
        "NT AUTHORITY\\Authenticated Users",
    }


def test_drift_findings_with_names_and_orphans(read_all):
    run = read_all[False].run
    assert run.rc == 0, run.stdout
    result = run.result("ws2016", "sd")
    cimv2 = next(entry for entry in result["namespaces"] if entry["namespace"].lower() == "root\\cimv2")
    everyone = next(ace for ace in cimv2["aces"] if not ace["inherited"])
    assert everyone["principal"] == "Everyone" and "RemoteAccess" in everyone["rights"]
    assert everyone["inherit"] == "this_and_children" and everyone["inherited"] is False
    cimv2_ids = {finding["id"] for finding in cimv2["findings"]}
    assert {"broad_write", "broad_remote_access", "orphaned_sid"} <= cimv2_ids
    orphan = next(finding for finding in cimv2["findings"] if finding["id"] == "orphaned_sid")
    assert orphan["sid"].startswith("S-1-5-21-") and orphan["sid"].endswith("-1109")
    orphan_ace = next(ace for ace in cimv2["aces"] if ace["sid"] == orphan["sid"])
    assert orphan_ace["principal"] == orphan["sid"]  # shown as the SID, never breaks the read
    # Children of root\cimv2 inherit Everyone's ACE; it is reported once, where it is explicit.
    everyone_findings = [f for f in result["findings"] if f.get("sid") == "S-1-1-0"]
    assert {f["namespace"].lower() for f in everyone_findings} == {"root\\cimv2"}


MISSING = {"name": "missing", "winsec.wmi.namespace_sd_info": {"namespaces": ["root/nope"]}}


@pytest.fixture(scope="module")
def side_by_side(unchanged_fleet):
    """One run for three tests, each task guarded to its hosts: the full and the findings-only read of ws2016, the
    two spellings on ws2012 and ws2022, then a missing namespace on ws2022 (its failure ignored, so the play goes on;
    the callback still records it as failed)."""
    on_ws2016 = {"when": "inventory_hostname == 'ws2016'"}
    tasks: list[dict[str, Any]] = [
        {**READ_ALL[0], **on_ws2016},
        {
            "name": "lean",
            "winsec.wmi.namespace_sd_info": {"namespaces": ["root"], "recurse": True, "output": "findings"},
            **on_ws2016,
        },
        {
            "name": "spellings",
            "winsec.wmi.namespace_sd_info": {"namespaces": ["ROOT/CIMV2", "root\\subscription"]},
            "when": "inventory_hostname in ['ws2012', 'ws2022']",
        },
        {**MISSING, "ignore_errors": True, "when": "inventory_hostname == 'ws2022'"},
    ]
    return run_step(unchanged_fleet, tasks, hosts="ws2016:ws2012:ws2022")


def test_findings_only_output_is_a_fraction_of_the_full_one(side_by_side):
    run = side_by_side.run
    assert run.rc == 0, run.stdout
    full, lean = run.result("ws2016", "sd"), run.result("ws2016", "lean")
    assert lean["findings"] == full["findings"] and lean["finding_count"] == full["finding_count"] > 0
    assert all(set(entry) <= {"namespace", "findings", "error", "msg"} for entry in lean["namespaces"])
    assert len(json.dumps(lean)) * 3 < len(json.dumps(full))


def test_namespace_spellings(side_by_side):
    run = side_by_side.run
    assert run.rc == 0, run.stdout
    for host in ("ws2012", "ws2022"):
        result = run.result(host, "spellings")
        assert [entry["namespace"].lower() for entry in result["namespaces"]] == ["root\\cimv2", "root\\subscription"]
        assert all(entry["sddl"].startswith("O:") for entry in result["namespaces"])
        assert result["os"]["pre_2003"] is False


def test_missing_namespace_is_named(side_by_side):
    run = side_by_side.run
    result = run.result("ws2022", "missing")
    assert run.status("ws2022", "missing") == "failed"
    assert "WBEM_E_INVALID_NAMESPACE (0x8004100E)" in result["msg"]


def test_non_admin_caller_gets_access_denied_by_name(fleet, run_playbook):
    run = run_playbook(
        fleet, READ_ALL, hosts="ws2022", extra_vars={"ansible_user": "simuser", "ansible_password": "Sim-User-Pass1"}
    )
    result = run.result("ws2022", "sd")
    assert run.status("ws2022", "sd") == "failed"
    assert "WBEM_E_ACCESS_DENIED (0x80041003)" in result["msg"]
    assert result["error"]["name"] == "WBEM_E_ACCESS_DENIED" and "compliant" not in result


def test_bad_namespace_is_refused_before_contact(fleet, run_playbook):
    tasks = [{"name": "sd", "winsec.wmi.namespace_sd_info": {"namespaces": ["cimv2"]}}]
    run = run_playbook(fleet, tasks, hosts="ws2022")
    assert run.status("ws2022", "sd") == "failed"
    assert "must start with root" in run.result("ws2022", "sd")["msg"]
    assert wmi_state_runs(fleet, "ws2022") == 0


def test_real_host_integration_target_passes_against_the_simulator(fleet, run_playbook):
    target = REPO_ROOT / "tests" / "integration" / "targets" / "namespace_sd_info" / "tasks" / "main.yml"
    run = run_playbook(fleet, [{"name": "target", "ansible.builtin.include_tasks": str(target)}], hosts=REACHABLE)
    assert run.rc == 0, run.stdout[-6000:]
