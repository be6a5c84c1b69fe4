# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions over the real path (ansible-playbook -> WinRM -> simulator): an excepted finding is never fixed - the
simulator's state and write counters prove the excepted namespace untouched while the rest is fixed, and check mode
predicts the same; an exception naming a namespace where a grant applies keeps the grant; an exception that matches
nothing is a warning naming it; an empty expires (a template default of '') is refused before any contact."""

from __future__ import annotations

from datetime import date

import pytest

from simulator.harness import control_result, run_baseline

pytestmark = pytest.mark.e2e

FLEET = r"""
defaults:
  profile: "2022"
  unsecapp: 1
  dcom: {require_integrity: 1}
  subscriptions: [scm]
hosts:
  - name: clean
  # Everyone's write and RemoteAccess explicit on root, inherited by every namespace below.
  - name: excroot
    namespaces:
      root: "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)(A;CI;CCDCRPWP;;;WD)"
"""
LOCAL_SERVICE_ENABLE = [{"principal": "S-1-5-19", "rights": ["Enable", "MethodExecute"]}]
CIMV2 = "root\\cimv2"
DEFAULT = "root\\default"


@pytest.fixture
def exc_fleet(fleet_from_text):
    return fleet_from_text(FLEET)


def test_wmi002_partial_exception_writes_only_the_unexcepted_namespace(exc_fleet, run_playbook):
    args = {
        "mode": "enforce",
        "controls": ["WMI-002"],
        "namespace_sds": [
            {"namespace": CIMV2, "mode": "present", "aces": LOCAL_SERVICE_ENABLE},
            {"namespace": DEFAULT, "mode": "present", "aces": LOCAL_SERVICE_ENABLE},
        ],
        "exceptions": [{"control": "WMI-002", "namespace": CIMV2, "reason": "vendor descriptor kept"}],
    }
    before = exc_fleet.state("clean")["namespaces"]

    predicted = run_baseline(exc_fleet, "clean", args, check=True)
    assert exc_fleet.counters("clean")["writes"] == 0
    assert predicted["changed"] is True and len(control_result(predicted, "WMI-002")["changes"]) == 1

    result = run_baseline(exc_fleet, "clean", args)
    after = exc_fleet.state("clean")["namespaces"]
    assert after[CIMV2] == before[CIMV2], "the excepted namespace was rewritten"
    assert after[DEFAULT] != before[DEFAULT] and "(A;CI;CCDC;;;LS)" in after[DEFAULT]
    assert exc_fleet.counters("clean")["writes_by_kind"] == {"namespace_sd": 1}
    wmi002 = control_result(result, "WMI-002")
    assert wmi002["changes"] == control_result(predicted, "WMI-002")["changes"]  # check mode predicted this very write
    cimv2 = [f for f in wmi002["findings"] if f["namespace"] == CIMV2]
    assert cimv2 and all(f["excepted"] and f["reason"] == "vendor descriptor kept" for f in cimv2)
    assert wmi002["status"] == "remediated" and result["changed"] is True

    exc_fleet.reset_counters()
    audit = run_baseline(exc_fleet, "clean", {**args, "mode": "audit"})
    assert control_result(audit, "WMI-002")["status"] == "excepted"
    assert exc_fleet.counters("clean")["writes"] == 0


def test_wmi022_partial_exception_adds_the_audit_entry_only_where_no_exception_covers(exc_fleet, run_playbook):
    args = {
        "mode": "enforce",
        "controls": ["WMI-022"],
        "namespace_audit": {"enabled": True, "namespaces": [CIMV2, DEFAULT], "set_sacl": True},
        "exceptions": [{"control": "WMI-022", "namespace": CIMV2, "reason": "audited by the SIEM agent"}],
    }
    predicted = run_baseline(exc_fleet, "clean", args, check=True)
    assert control_result(predicted, "WMI-022")["changes"] == [f"{DEFAULT}: SACL + (AU;CISA;WD;;;WD)"]
    assert exc_fleet.counters("clean")["writes"] == 0

    result = run_baseline(exc_fleet, "clean", args)
    assert list(exc_fleet.state("clean")["namespace_audit"]) == [DEFAULT]
    assert exc_fleet.counters("clean")["writes_by_kind"] == {"namespace_sacl": 1}
    findings = control_result(result, "WMI-022")["findings"]
    assert [f["excepted"] for f in findings if f["namespace"] == CIMV2] == [True]


def test_an_exception_where_a_grant_applies_keeps_it(exc_fleet, run_playbook):
    root_before = exc_fleet.state("excroot")["namespaces"]["root"]
    exceptions = [{"control": "WMI-004", "namespace": CIMV2, "principal": "Everyone", "reason": "product X"}]
    args = {"mode": "enforce", "controls": ["WMI-004"], "exceptions": exceptions}
    predicted = run_baseline(exc_fleet, "excroot", args, check=True)
    result = run_baseline(exc_fleet, "excroot", args)
    assert exc_fleet.state("excroot")["namespaces"]["root"] == root_before, "the excepted grant was removed"
    assert exc_fleet.counters("excroot")["writes"] == 0
    for outcome in (predicted, result):
        wmi004 = control_result(outcome, "WMI-004")
        assert wmi004["status"] == "excepted" and all(f["excepted"] for f in wmi004["findings"])
        assert outcome["changed"] is False


def test_an_exception_that_matches_nothing_is_a_warning_naming_it(exc_fleet, run_playbook):
    typo = "\\\\.\\root\\cimv2"
    exceptions = [{"control": "WMI-004", "namespace": typo, "principal": "Everyone", "reason": "product X"}]
    result = run_baseline(exc_fleet, "excroot", {"mode": "audit", "controls": ["WMI-004"], "exceptions": exceptions})
    assert control_result(result, "WMI-004")["status"] == "drift"
    assert any(
        w.startswith(f"exceptions[0] (WMI-004, namespace '{typo}', principal 'Everyone') matches no finding of WMI-004")
        for w in result["warnings"]
    ), result.get("warnings")


def test_an_empty_expires_from_a_template_default_is_refused_before_contact(exc_fleet, run_playbook):
    exceptions = [{"control": "WMI-004", "reason": "product X", "expires": "{{ product_x_expiry | default('') }}"}]
    task = {"name": "b", "winsec.wmi.baseline": {"mode": "enforce", "exceptions": exceptions}, "ignore_errors": True}
    run = run_playbook(exc_fleet, [task], hosts="excroot")
    assert run.status("excroot", "b") == "failed"
    assert run.result("excroot", "b")["msg"].startswith("exceptions[0].expires: empty; give the last day")
    assert exc_fleet.counters("excroot")["writes"] == 0
    assert "(A;CI;CCDCRPWP;;;WD)" in exc_fleet.state("excroot")["namespaces"]["root"]


def test_an_unquoted_yaml_date_is_an_expiry(exc_fleet, run_playbook):
    # The task is written as YAML with the date unquoted (a YAML date, not a string) - read as YYYY-MM-DD.
    exceptions = [{"control": "WMI-004", "principal": "Everyone", "reason": "product X", "expires": date(2099, 12, 31)}]
    args = {"mode": "audit", "controls": ["WMI-004"], "exceptions": exceptions}
    assert control_result(run_baseline(exc_fleet, "excroot", args), "WMI-004")["status"] == "excepted"
    exceptions[0]["expires"] = date(2020, 1, 31)
    expired = control_result(run_baseline(exc_fleet, "excroot", args), "WMI-004")
    assert expired["status"] == "drift"
    assert all(f["reason"] == "exception expired on 2020-01-31: product X" for f in expired["findings"])
