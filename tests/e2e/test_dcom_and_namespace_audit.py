# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Baseline controls WMI-021 (DCOM hardening, KB5004442) and WMI-022 (namespace SACL) over the real path: their reads
go through ansible-playbook, WinRM and winsec.wmi.wmi_state to simulated hosts; their pure decisions run on what came
back. (They have no module of their own; winsec.wmi.baseline runs them.)"""

from __future__ import annotations

import json

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._dcom_hardening import DcomHardening
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._namespace_audit import NamespaceAudit
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile

pytestmark = pytest.mark.e2e

FLEET = r"""
hosts:
  - {name: hardened, profile: "2022", dcom: {require_integrity: 1, raise_level: 2},
     namespaces: {root: "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;AU)S:(AU;CISA;WD;;;WD)"}}
  - {name: legacy-dcom, profile: "2016", dcom: {require_integrity: 0}}
  - {name: new-build, profile: "2025", dcom: {require_integrity: 0}}
  # root's audit entry stops at its children (no-propagate): root\cimv2 is audited, root\cimv2\Security is not.
  - {name: short-audit, profile: "2022", sacl: {root: "S:(AU;CINPSA;WD;;;WD)"}}
"""


@pytest.fixture
def controls_fleet(fleet_from_text):
    return fleet_from_text(FLEET)


def decide(control, run, host, check_mode=True):
    facts, *reads = run.result(host, "reads")["results"]
    context = HostContext(facts, os_profile(facts), check_mode=check_mode, diff_mode=False, enforce=not check_mode)
    return control.decide(context, reads)


def reads_task(control):
    return [{"name": "reads", "winsec.wmi.wmi_state": {"operations": [{"op": "facts"}, *control.reads()]}}]


def test_dcom_hardening_per_build(controls_fleet, run_playbook):
    control = DcomHardening()
    run = run_playbook(controls_fleet, reads_task(control), check=True)
    assert run.rc == 0, run.stdout
    hardened = decide(control, run, "hardened")
    assert hardened.status == "compliant" and hardened.result["raise_level"]["value"] == 2
    legacy = decide(control, run, "legacy-dcom")
    assert legacy.status == "drift" and legacy.writes == []  # report only unless asked
    assert "Legacy exception present" in legacy.findings[0]["message"]
    newer = decide(control, run, "new-build")
    assert newer.status == "compliant" and newer.findings[0]["severity"] == "low"
    for host in controls_fleet.hosts:
        assert controls_fleet.counters(host)["writes"] == 0


def test_dcom_exception_removed_when_asked(controls_fleet, run_playbook):
    control = DcomHardening(remove_legacy_exception=True)
    run = run_playbook(controls_fleet, reads_task(control), hosts="legacy-dcom")
    decision = decide(control, run, "legacy-dcom", check_mode=False)
    write = [{"name": "reads", "winsec.wmi.wmi_state": {"operations": decision.writes}}]
    written = run_playbook(controls_fleet, write, hosts="legacy-dcom")
    assert written.rc == 0, written.stdout
    after = written.result("legacy-dcom", "reads")["results"][0]["after"]
    assert after == {"exists": True, "type": "REG_DWORD", "data": 1}
    assert controls_fleet.counters("legacy-dcom")["writes_by_kind"] == {"registry": 1}
    again = run_playbook(controls_fleet, reads_task(control), hosts="legacy-dcom")
    assert decide(control, again, "legacy-dcom").status == "compliant"


def test_namespace_audit(controls_fleet, run_playbook):
    control = NamespaceAudit()
    run = run_playbook(controls_fleet, reads_task(control), check=True)
    assert run.rc == 0, run.stdout
    assert decide(control, run, "hardened").status == "compliant"
    bare = decide(control, run, "legacy-dcom")
    assert bare.status == "drift" and bare.findings[0]["id"] == "security_changes_not_audited"


def baseline_task(mode, set_sacl=True):
    return [
        {
            "name": "baseline",
            "winsec.wmi.baseline": {
                "mode": mode,
                "controls": ["WMI-022"],
                "namespace_audit": {"enabled": True, "set_sacl": set_sacl},
            },
        }
    ]


def wmi_022(run, host):
    result = run.result(host, "baseline")
    return result, next(control for control in result["controls"] if control["id"] == "WMI-022")


def test_set_sacl_in_four_steps_and_the_dacl_never_changes(controls_fleet, run_playbook):
    """check (predicts, writes nothing), enforce (one SACL write), enforce again (nothing), check (nothing)."""
    dacls_before = controls_fleet.state("legacy-dcom")["namespaces"]
    assert controls_fleet.state("legacy-dcom")["namespace_audit"] == {}

    check = run_playbook(controls_fleet, baseline_task("enforce"), hosts="legacy-dcom", check=True, diff=True)
    result, control = wmi_022(check, "legacy-dcom")
    assert result["changed"] is True and control["status"] == "drift"
    assert control["changes"] == ["root: SACL + (AU;CISA;WD;;;WD)"] and control["remediation"]["automatic"]
    assert controls_fleet.counters("legacy-dcom")["writes"] == 0

    applied = run_playbook(controls_fleet, baseline_task("enforce"), hosts="legacy-dcom")
    result, control = wmi_022(applied, "legacy-dcom")
    assert result["changed"] is True and control["status"] == "remediated", applied.stdout
    assert controls_fleet.counters("legacy-dcom")["writes_by_kind"] == {"namespace_sacl": 1}
    state = controls_fleet.state("legacy-dcom")
    assert state["namespace_audit"] == {"root": [{"type": 2, "flags": 0x42, "mask": 0x40000, "sid": "S-1-1-0"}]}
    assert state["namespaces"] == dacls_before  # every namespace's DACL, owner and group as before

    controls_fleet.reset_counters()
    again = run_playbook(controls_fleet, baseline_task("enforce"), hosts="legacy-dcom")
    result, control = wmi_022(again, "legacy-dcom")
    assert result["changed"] is False and control["status"] == "compliant"
    final_check = run_playbook(controls_fleet, baseline_task("enforce"), hosts="legacy-dcom", check=True)
    assert wmi_022(final_check, "legacy-dcom")[1]["status"] == "compliant"
    assert controls_fleet.counters("legacy-dcom")["writes"] == 0


def test_set_sacl_without_the_privilege_writes_nothing_and_says_why(controls_fleet, run_playbook):
    run = run_playbook(
        controls_fleet,
        baseline_task("enforce"),
        hosts="legacy-dcom",
        extra_vars={"ansible_user": "simuser", "ansible_password": "Sim-User-Pass1"},
    )
    _result, control = wmi_022(run, "legacy-dcom")
    assert control["status"] == "error" and "SeSecurityPrivilege" in control["reason"]
    assert controls_fleet.counters("legacy-dcom")["writes"] == 0


def test_the_demo_reports_wmi_022_with_its_evidence(fleet_factory, tmp_path):
    """What `make demo` shows: the audit playbook with the demo's variables puts WMI-022 in the report."""
    from simulator.harness import run_playbook_file
    from tools.demo import DEMO_VARS, PLAYBOOKS

    fleet = fleet_factory("demo")
    run_playbook_file(
        fleet,
        PLAYBOOKS / "audit.yml",
        extra_vars={**DEMO_VARS, "wmi_hardening_report_dir": str(tmp_path), "winsec_wmi_hosts": "web03:dc01"},
    )
    report = json.loads((tmp_path / "wmi-compliance.json").read_text(encoding="utf-8"))
    controls = {host["host"]: {c["id"]: c for c in host["controls"]} for host in report["hosts"]}
    assert controls["dc01"]["WMI-022"]["status"] == "compliant"
    web03 = controls["web03"]["WMI-022"]
    assert web03["status"] == "drift" and web03["findings"][0]["sacl"] == "none"
    assert web03["changes"] == ["root: SACL + (AU;CISA;WD;;;WD)"]  # what harden would do; the audit wrote nothing
    assert {ref["url"] for ref in web03["references"]} >= {
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsecuritydescriptor-method-in-class---systemsecurity"
    }
    assert fleet.counters("web03")["writes"] == 0


def test_an_entry_that_stops_short_is_found_below_and_fixed_at_the_root(controls_fleet, run_playbook):
    audit = run_playbook(controls_fleet, baseline_task("audit"), hosts="short-audit")
    _result, control = wmi_022(audit, "short-audit")
    assert control["status"] == "drift", audit.stdout
    (finding,) = control["findings"]  # one finding, on root, whose entry stops short
    assert finding["id"] == "security_audit_not_inherited" and finding["namespace"] == "root"
    assert "root\\CIMV2\\Security" in finding["namespaces"] and "root\\CIMV2" not in finding["namespaces"]
    assert finding["sacl"] == "S:(AU;CINPSA;WD;;;WD)"

    enforced = run_playbook(controls_fleet, baseline_task("enforce"), hosts="short-audit")
    assert wmi_022(enforced, "short-audit")[1]["status"] == "remediated"
    own = controls_fleet.state("short-audit")["namespace_audit"]["root"]
    assert [(ace["flags"], ace["sid"]) for ace in own] == [(0x46, "S-1-1-0"), (0x42, "S-1-1-0")]  # kept, then added
    controls_fleet.reset_counters()
    again = run_playbook(controls_fleet, baseline_task("enforce"), hosts="short-audit")
    assert wmi_022(again, "short-audit")[1]["status"] == "compliant"
    assert controls_fleet.counters("short-audit")["writes"] == 0
