# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controls of one baseline run that touch the same thing, over the real path (ansible-playbook -> WinRM ->
simulator): a verdict is "remediated" only for what a write really took away; two controls never both rewrite one
namespace in one run (check mode predicts exactly that); settings that undo each other are refused before contact;
a failed write announces nothing and changes nothing.

The tests but the harden playbook's are plans, each on hosts of its own, run side by side: one ansible-playbook run
for the three (SideBySide)."""

from __future__ import annotations

import json
import pathlib

import pytest

from simulator.harness import (
    SideBySide,
    baseline_play,
    baseline_result,
    baseline_step,
    control_result,
    run_playbook_file,
    wmi_state_runs,
)

pytestmark = pytest.mark.e2e

HARDEN = pathlib.Path(__file__).resolve().parents[2] / "playbooks" / "harden.yml"

FLEET = r"""
defaults:
  profile: "2022"
  unsecapp: 1
  dcom: {require_integrity: 1}
  subscriptions: [scm]
hosts:
  # root\DEFAULT: Everyone write next to an allow-object ACE (SetSD cannot write a DACL holding it: its fix is refused);
  # root\CIMV2: an ordinary Everyone write (fixed).
  - name: refused
    namespaces:
      root\cimv2: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)"
      root\default: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)(OA;CI;CC;;;AU)"
  # root (not read when namespaces=[root\cimv2]) grants Authenticated Users write, inherited by root\cimv2.
  - name: inherit
    namespaces:
      root: "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)(A;CI;CCDCLCSWRPWP;;;AU)"
      root\cimv2: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)"
  # The shipped defaults meet on root: WMI-002's root entry (Administrators lack MethodExecute) and WMI-004
  # (Authenticated Users hold RemoteAccess).
  - name: rootdefault
    namespaces:
      root: >-
        O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;SY)(A;CI;CCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRPWP;;;AU)
  - name: clean
  - name: clean-excepted
  - {name: registry, unsecapp: 0, dcom: {require_integrity: 0}, faults: {change_before_write: 1}}
"""


@pytest.fixture
def interplay(fleet_from_text):
    return fleet_from_text(FLEET)


def remediated_only_for_what_a_write_took_away(fleet):
    # A refused fix (root\DEFAULT) and a grant inherited from an ancestor that was not read (root) stay drift.
    args = {"mode": "enforce", "controls": ["WMI-004"], "namespaces": ["root\\cimv2"]}
    step = yield [
        baseline_play("refused", {"mode": "enforce", "controls": ["WMI-004"]}),
        baseline_play("inherit", args),
    ]
    refused = baseline_result(step.run, "refused")
    assert "(A;CI;CCDCLCSWRPWP;;;WD)" in fleet.state("refused")["namespaces"]["root\\default"]
    assert "CCDCLCSWRPWP;;;WD)" not in fleet.state("refused")["namespaces"]["root\\cimv2"]  # this one was fixed
    assert control_result(refused, "WMI-004")["status"] == "drift" and refused["status"] == "drift"
    inherit = baseline_result(step.run, "inherit")
    assert "(A;CIID;CCDCLCSWRPWP;;;AU)" in fleet.state("inherit")["namespaces"]["root\\cimv2"]
    assert control_result(inherit, "WMI-004")["status"] == "drift"


def harden(fleet, report_dir: pathlib.Path, **options):
    extra_vars = {"wmi_hardening_report_dir": str(report_dir)}
    run = run_playbook_file(fleet, HARDEN, limit="rootdefault", extra_vars=extra_vars, **options)
    report = json.loads((report_dir / "wmi-compliance.json").read_text(encoding="utf-8"))
    return run, next(host for host in report["hosts"] if host["host"] == "rootdefault")


def test_the_shipped_harden_playbook_does_what_its_check_predicts(interplay, tmp_path):
    # WMI-002 and WMI-004 both want root: WMI-002 writes it this run, WMI-004 waits for the next (it would fail as
    # changed since read, or undo WMI-002's write). Check mode says the same, the run succeeds, a second run fixes.
    interplay.reset_counters()
    check, predicted = harden(interplay, tmp_path / "check", check=True)
    assert check.rc == 0 and interplay.counters("rootdefault")["writes"] == 0
    real, done = harden(interplay, tmp_path / "real")
    assert real.rc == 0, real.stdout[-3000:]
    assert [c["changes"] for c in predicted["controls"]] == [c["changes"] for c in done["controls"]]
    assert (
        control_result(done, "WMI-002")["status"] == "remediated"
        and control_result(done, "WMI-004")["status"] == "drift"
    )
    assert "WMI-004 is not fixed in this run" in real.stdout + real.stderr
    assert interplay.counters("rootdefault")["writes_by_kind"] == {"namespace_sd": 1}
    again, _report = harden(interplay, tmp_path / "again")
    assert again.rc == 0
    assert "WP;;;AU)" not in interplay.state("rootdefault")["namespaces"]["root"]


def settings_that_undo_each_other_are_refused_before_contact(fleet):
    grant = ["Enable", "FullWrite", "PartialWrite", "ProviderWrite", "RemoteAccess", "WriteSecurity"]
    item = {"namespace": "root\\cimv2", "mode": "present", "aces": [{"principal": "Everyone", "rights": grant}]}
    args = {"mode": "enforce", "controls": ["WMI-002", "WMI-004"], "namespace_sds": [item]}
    accepted = {"control": "WMI-004", "namespace": "root\\cimv2", "principal": "Everyone", "reason": "lab"}
    # The refused run contacts no host, so the run with the exception (on another clean host) is in the same round.
    step = yield [baseline_play("clean", args), baseline_play("clean-excepted", {**args, "exceptions": [accepted]})]
    result = baseline_result(step.run, "clean")
    assert result["task_status"] == "failed" and "undo each other" in result["msg"] and "Everyone" in result["msg"]
    assert wmi_state_runs(step, "clean") == 0
    result = baseline_result(step.run, "clean-excepted")
    assert "undo each other" not in str(result.get("msg"))


def a_failed_write_announces_nothing_and_changes_nothing(fleet):
    # change_before_write: the first registry write finds the value changed and is refused; the next is skipped.
    step, result = yield from baseline_step("registry", {"mode": "enforce", "controls": ["WMI-001", "WMI-021"]})
    assert step.writes("registry") == 0
    assert result["changed"] is False and result["status"] == "error"
    assert not any("now" in warning or "restart" in warning for warning in result.get("warnings", []))


@pytest.fixture(scope="module")
def plans(module_fleet_from_text):
    fleet = module_fleet_from_text(FLEET)
    return SideBySide(
        fleet,
        {
            "remediated": remediated_only_for_what_a_write_took_away(fleet),
            "undo": settings_that_undo_each_other_are_refused_before_contact(fleet),
            "failed-write": a_failed_write_announces_nothing_and_changes_nothing(fleet),
        },
    )


def test_remediated_only_for_what_a_write_took_away(plans):
    plans.outcome("remediated")


def test_settings_that_undo_each_other_are_refused_before_contact(plans):
    plans.outcome("undo")


def test_a_failed_write_announces_nothing_and_changes_nothing(plans):
    plans.outcome("failed-write")
