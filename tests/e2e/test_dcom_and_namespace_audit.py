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

from simulator.harness import run_step

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


@pytest.fixture(scope="module")
def module_fleet(module_fleet_from_text):
    """FLEET for the module's scenarios: ``reads`` reads it as it started, then ``wmi_022_steps`` changes the SACLs of
    legacy-dcom and short-audit."""
    return module_fleet_from_text(FLEET)


def decide(control, run, host, check_mode=True, task="reads"):
    facts, *reads = run.result(host, task)["results"]
    context = HostContext(facts, os_profile(facts), check_mode=check_mode, diff_mode=False, enforce=not check_mode)
    return control.decide(context, reads)


def reads_task(control, name="reads"):
    return [{"name": name, "winsec.wmi.wmi_state": {"operations": [{"op": "facts"}, *control.reads()]}}]


@pytest.fixture(scope="module")
def reads(module_fleet):
    """One check-mode run over every host, as the fleet started, with the reads of WMI-021 and of WMI-022 as two tasks
    (each test decides on its own task's results)."""
    return run_step(
        module_fleet, reads_task(DcomHardening(), "dcom") + reads_task(NamespaceAudit(), "audit"), check=True
    )


def test_dcom_hardening_per_build(module_fleet, reads):
    control = DcomHardening()
    run = reads.run
    assert run.rc == 0, run.stdout
    hardened = decide(control, run, "hardened", task="dcom")
    assert hardened.status == "compliant" and hardened.result["raise_level"]["value"] == 2
    legacy = decide(control, run, "legacy-dcom", task="dcom")
    assert legacy.status == "drift" and legacy.writes == []  # report only unless asked
    assert "Legacy exception present" in legacy.findings[0]["message"]
    newer = decide(control, run, "new-build", task="dcom")
    assert newer.status == "compliant" and newer.findings[0]["severity"] == "low"
    for host in module_fleet.hosts:
        assert reads.writes(host) == 0


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


def test_namespace_audit(reads):
    control = NamespaceAudit()
    run = reads.run
    assert run.rc == 0, run.stdout
    assert decide(control, run, "hardened", task="audit").status == "compliant"
    bare = decide(control, run, "legacy-dcom", task="audit")
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


@pytest.fixture(scope="module")
def wmi_022_steps(module_fleet, reads):
    """The steps of the two WMI-022 scenarios (after ``reads`` has read the fleet as it started): legacy-dcom (no
    SACL) is checked, short-audit (an entry that stops short) is audited, then both are enforced and enforced again
    in one run each, and legacy-dcom is checked once more. The hosts' states before, and per step the Step and the
    hosts' states after it."""
    hosts = ("legacy-dcom", "short-audit")
    before = {host: module_fleet.state(host) for host in hosts}
    steps = {}
    for name, tasks, options in (
        ("check", baseline_task("enforce"), {"hosts": "legacy-dcom", "check": True, "diff": True}),
        ("audit", baseline_task("audit"), {"hosts": "short-audit"}),
        ("enforce", baseline_task("enforce"), {"hosts": ":".join(hosts)}),
        ("again", baseline_task("enforce"), {"hosts": ":".join(hosts)}),
        ("final_check", baseline_task("enforce"), {"hosts": "legacy-dcom", "check": True}),
    ):
        steps[name] = (run_step(module_fleet, tasks, **options), {host: module_fleet.state(host) for host in hosts})
    return before, steps


def test_set_sacl_in_four_steps_and_the_dacl_never_changes(wmi_022_steps):
    """check (predicts, writes nothing), enforce (one SACL write), enforce again (nothing), check (nothing)."""
    host = "legacy-dcom"
    before, steps = wmi_022_steps
    dacls_before = before[host]["namespaces"]
    assert before[host]["namespace_audit"] == {}

    check, _ = steps["check"]
    result, control = wmi_022(check.run, host)
    assert result["changed"] is True and control["status"] == "drift"
    assert control["changes"] == ["root: SACL + (AU;CISA;WD;;;WD)"] and control["remediation"]["automatic"]
    assert check.writes(host) == 0

    applied, after = steps["enforce"]
    result, control = wmi_022(applied.run, host)
    assert result["changed"] is True and control["status"] == "remediated", applied.run.stdout
    assert applied.counters[host]["writes_by_kind"] == {"namespace_sacl": 1}
    state = after[host]
    assert state["namespace_audit"] == {"root": [{"type": 2, "flags": 0x42, "mask": 0x40000, "sid": "S-1-1-0"}]}
    assert state["namespaces"] == dacls_before  # every namespace's DACL, owner and group as before

    again, _ = steps["again"]
    result, control = wmi_022(again.run, host)
    assert result["changed"] is False and control["status"] == "compliant"
    final_check, _ = steps["final_check"]
    assert wmi_022(final_check.run, host)[1]["status"] == "compliant"
    assert again.writes(host) == final_check.writes(host) == 0


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


def test_an_entry_that_stops_short_is_found_below_and_fixed_at_the_root(wmi_022_steps):
    host = "short-audit"
    _, steps = wmi_022_steps
    audit, _ = steps["audit"]
    _result, control = wmi_022(audit.run, host)
    assert control["status"] == "drift", audit.run.stdout
    (finding,) = control["findings"]  # one finding, on root, whose entry stops short
    assert finding["id"] == "security_audit_not_inherited" and finding["namespace"] == "root"
    assert "root\\CIMV2\\Security" in finding["namespaces"] and "root\\CIMV2" not in finding["namespaces"]
    assert finding["sacl"] == "S:(AU;CINPSA;WD;;;WD)"

    enforced, after = steps["enforce"]
    assert wmi_022(enforced.run, host)[1]["status"] == "remediated"
    own = after[host]["namespace_audit"]["root"]
    assert [(ace["flags"], ace["sid"]) for ace in own] == [(0x46, "S-1-1-0"), (0x42, "S-1-1-0")]  # kept, then added
    again, _ = steps["again"]
    assert wmi_022(again.run, host)[1]["status"] == "compliant"
    assert again.writes(host) == 0
