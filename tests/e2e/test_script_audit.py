# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.script_audit end to end: real ansible-playbook over WinRM against simulated hosts that carry scripts
(simulator/content.py presets), one round trip per host, SARIF on the controller; and a controller-side src scan that
never contacts a host.

The tests but the documented examples' are plans, each on hosts of its own, run side by side: one ansible-playbook run
per round (SideBySide).
"""

from __future__ import annotations

import json
import pathlib

import jsonschema
import pytest
import yaml
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._scripts.script_corpus_files import materialize

from simulator.harness import SideBySide, wmi_state_runs

pytestmark = pytest.mark.e2e

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]
SCHEMA = json.loads((REPO_ROOT / "tests/unit/plugins/plugin_utils/_scripts/sarif/sarif-2.1.0-rtm.5.json").read_text())

# Three hosts: lock-down off with every kind of legacy script, lock-down on with async scripts, and a clean one.
FLEET = """
hosts:
  - {name: legacy-off, profile: "2019", scripts: [legacy_adsi, async_sink, clean]}
  - {name: async-on, profile: "2012r2", unsecapp: 1, scripts: [async_sink]}
  - {name: clean, profile: "2025", unsecapp: 1, scripts: [clean]}
"""
# The same three again for the controller-side scan, a legacy-off for the budgets, a clean for the truncated scripts.
SIDE_BY_SIDE_FLEET = (
    FLEET
    + """
  - {name: src-legacy-off, profile: "2019", scripts: [legacy_adsi, async_sink, clean]}
  - {name: src-async-on, profile: "2012r2", unsecapp: 1, scripts: [async_sink]}
  - {name: src-clean, profile: "2025", unsecapp: 1, scripts: [clean]}
  - {name: budgets, profile: "2019", scripts: [legacy_adsi, async_sink, clean]}
  - {name: truncated, profile: "2025", unsecapp: 1, scripts: [clean]}
"""
)
SCAN_HOSTS = ("legacy-off", "async-on", "clean")
SRC_HOSTS = ("src-legacy-off", "src-async-on", "src-clean")


@pytest.fixture
def script_fleet(fleet_from_text):
    return fleet_from_text(FLEET)


def summary(result):
    return [
        (pathlib.PureWindowsPath(f["file"]).name, f["line"], f["finding_id"], f["severity"]) for f in result["findings"]
    ]


def host_scan_one_round_trip_per_host_with_host_dependent_severity(fleet, tmp_path, hosts=SCAN_HOSTS):
    task = {
        "name": "audit",
        "winsec.wmi.script_audit": {
            "paths": ["C:\\Scripts"],
            "sarif_path": str(tmp_path / "sarif" / "{{ inventory_hostname }}.sarif"),
        },
    }
    step = yield {"hosts": ":".join(hosts), "tasks": [task], "check_mode": True}
    run = step.run
    assert run.rc == 0, run.stdout + run.stderr

    off = run.result("legacy-off", "audit")
    assert off["changed"] is False and off["compliant"] is False and off["unsecapp_lockdown"] is False
    assert summary(off) == [
        ("async_procs.js", 2, "async_wmi_sink", "high"),
        ("async_procs.js", 3, "async_wmi_call", "high"),
        ("inventory.vbs", 3, "adsi_wmi_extension", "medium"),
        ("inventory.vbs", 4, "adsi_wmi_extension", "medium"),
        ("services.wsf", 3, "adsi_wmi_extension", "medium"),
        ("watch_services.vbs", 2, "async_wmi_sink", "high"),
        ("watch_services.vbs", 3, "async_wmi_call", "high"),
    ]
    fix = next(f for f in off["findings"] if f["finding_id"] == "adsi_wmi_extension")["suggested_fix"]
    assert 'strDnsHostName = objComputer.Get("dNSHostName")' in fix and "GetObject(strMoniker)" in fix

    on = run.result("async-on", "audit")
    assert on["unsecapp_lockdown"] is True
    assert on["compliant"] is True  # callbacks are authenticated there: compatibility warnings, not drift
    assert {f["severity"] for f in on["findings"]} == {"low"}
    assert all("pre-Windows 2000" in f["explanation"] for f in on["findings"])

    clean = run.result("clean", "audit")
    assert clean["compliant"] is True and clean["findings"] == []
    assert [record["status"] for record in clean["files"]] == ["scanned", "scanned"]

    for host in hosts:
        assert wmi_state_runs(step, host) == 1  # facts, unsecapp and the files: one wmi_state call
        assert step.writes(host) == 0
        log = json.loads((tmp_path / "sarif" / f"{host}.sarif").read_text())
        jsonschema.Draft4Validator(SCHEMA).validate(log)
        assert len(log["runs"][0]["results"]) == len(run.result(host, "audit")["findings"])
        assert log["runs"][0]["properties"] == {"host": host}


def budgets_stop_the_host_and_the_verdict_says_so(fleet, host):
    task = {"name": "audit", "winsec.wmi.script_audit": {"paths": ["C:\\Scripts"], "max_files": 2}}
    step = yield {"hosts": host, "tasks": [task]}
    assert step.run.rc == 0, step.run.stdout + step.run.stderr
    result = step.run.result(host, "audit")
    assert result["summary"]["files"] == 2
    assert any("max_files" in warning for warning in result["warnings"])
    assert wmi_state_runs(step, host) == 1

    task = {**task, "winsec.wmi.script_audit": {"paths": ["C:\\Scripts"], "max_total_bytes": 300}}
    step = yield {"hosts": host, "tasks": [task]}
    result = step.run.result(host, "audit")
    assert result["compliant"] is False
    assert [record["status"] for record in result["files"]][-1] == "error"
    assert "BUDGET" in result["files"][-1]["message"]
    assert any("max_total_bytes" in warning for warning in result["warnings"])


def src_scan_on_the_controller_contacts_no_host(fleet, tmp_path, hosts=SRC_HOSTS):
    corpus = materialize(tmp_path)
    task = {
        "name": "repository",
        "winsec.wmi.script_audit": {"src": str(corpus), "rules": ["adsi"], "sarif_path": str(tmp_path / "repo.sarif")},
    }
    # Run on a Windows inventory host without delegation: its winrm connection must never be opened.
    clean = hosts[-1]
    step = yield {"hosts": clean, "tasks": [task]}
    run = step.run
    assert run.rc == 0, run.stdout + run.stderr
    result = run.result(clean, "repository")
    assert result["unsecapp_lockdown"] is None
    assert {f["finding_id"] for f in result["findings"]} == {"adsi_wmi_extension"}
    assert ("vbs/adsi_inventory.vbs", 7) in {(f["file"], f["line"]) for f in result["findings"]}
    counters = step.counters[clean]
    assert (counters["requests"], counters["round_trips"]) == (0, 0)
    jsonschema.Draft4Validator(SCHEMA).validate(json.loads((tmp_path / "repo.sarif").read_text()))

    # And the usual form: delegated to the controller, once for the play.
    task["delegate_to"] = "localhost"
    task["run_once"] = True
    step = yield {"hosts": ":".join(hosts), "tasks": [task]}
    assert step.run.rc == 0, step.run.stdout + step.run.stderr
    assert sum(step.counters[host]["requests"] for host in hosts) == 0


def test_documented_examples_run_as_written(script_fleet, tmp_path):
    from ansible_collections.winsec.wmi.plugins.modules import script_audit

    from simulator.harness import run_playbook_file

    materialize(tmp_path / "files")
    (tmp_path / "files" / "script_corpus").rename(tmp_path / "files" / "scripts")
    tasks = yaml.safe_load(script_audit.EXAMPLES)
    playbook = tmp_path / "examples.yml"
    playbook.write_text(
        yaml.safe_dump([{"name": "examples", "hosts": "legacy-off", "gather_facts": False, "tasks": tasks}])
    )
    run = run_playbook_file(script_fleet, playbook)
    assert run.rc == 0, run.stdout[-4000:] + run.stderr[-2000:]
    audit = run.result("legacy-off", 0)
    assert audit["summary"]["findings"] == 7
    assert [record["status"] for record in audit["files"]][-1] == "error"  # C:\ProgramData\Contoso\Tasks: not there
    assert (tmp_path / "reports" / "legacy-off.sarif").exists() and (tmp_path / "reports" / "scripts.sarif").exists()
    repository = run.result("legacy-off", 2)
    assert {f["finding_id"] for f in repository["findings"]} == {"adsi_wmi_extension"}
    assert wmi_state_runs(script_fleet, "legacy-off") == 1


def a_script_the_host_did_not_fully_read_is_never_evidence_of_compliance(fleet, host):
    # "clean" is compliant when every script is read; with max_file_bytes below the size of its scripts, the host
    # lists them unread (truncated), and neither the module nor WMI-010/WMI-011 may call the host compliant.
    tasks = [
        {"name": "audit", "winsec.wmi.script_audit": {"paths": ["C:\\Scripts"], "max_file_bytes": 40}},
        {
            "name": "baseline",
            "winsec.wmi.baseline": {
                "mode": "audit",
                "controls": ["WMI-010", "WMI-011"],
                "scripts": {"paths": ["C:\\Scripts"], "max_file_bytes": 40},
            },
            "ignore_errors": True,  # the baseline fails the task on an error verdict; the test reads it
        },
    ]
    step = yield {"hosts": host, "tasks": tasks, "check_mode": True}
    run = step.run
    assert run.rc == 0, run.stdout + run.stderr
    audit = run.result(host, "audit")
    assert audit["compliant"] is False
    assert "too_large" in {record["status"] for record in audit["files"]}
    baseline = run.result(host, "baseline")
    assert baseline["status"] == "error"
    for control in baseline["controls"]:
        assert control["status"] == "error", control
        assert "not evidence of compliance" in control["reason"] and "Get-Inventory.ps1" in control["reason"]
        assert any(finding["id"] == "script_not_scanned" for finding in control["findings"])


@pytest.fixture(scope="module")
def plans(module_fleet_from_text, tmp_path_factory):
    fleet = module_fleet_from_text(SIDE_BY_SIDE_FLEET)
    return SideBySide(
        fleet,
        {
            "host-scan": host_scan_one_round_trip_per_host_with_host_dependent_severity(
                fleet, tmp_path_factory.mktemp("host-scan")
            ),
            "budgets": budgets_stop_the_host_and_the_verdict_says_so(fleet, "budgets"),
            "src-scan": src_scan_on_the_controller_contacts_no_host(fleet, tmp_path_factory.mktemp("src-scan")),
            "truncated": a_script_the_host_did_not_fully_read_is_never_evidence_of_compliance(fleet, "truncated"),
        },
    )


def test_host_scan_one_round_trip_per_host_with_host_dependent_severity(plans):
    plans.outcome("host-scan")


def test_budgets_stop_the_host_and_the_verdict_says_so(plans):
    plans.outcome("budgets")


def test_src_scan_on_the_controller_contacts_no_host(plans):
    plans.outcome("src-scan")


def test_a_script_the_host_did_not_fully_read_is_never_evidence_of_compliance(plans):
    plans.outcome("truncated")
