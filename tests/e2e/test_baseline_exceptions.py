# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exceptions over the real path (ansible-playbook -> WinRM -> simulator): an excepted finding is never fixed - the
simulator's state and write counters prove the excepted namespace untouched while the rest is fixed, and check mode
predicts the same; an exception naming a namespace where a grant applies keeps the grant; an exception that matches
nothing is a warning naming it; an empty expires (a template default of '') is refused before any contact.

Each test is a plan on a host of its own, run side by side: one ansible-playbook run per
round (SideBySide)."""

from __future__ import annotations

from datetime import date

import pytest

from simulator.harness import SideBySide, baseline_step, control_result

pytestmark = pytest.mark.e2e

FLEET = r"""
defaults:
  profile: "2022"
  unsecapp: 1
  dcom: {require_integrity: 1}
  subscriptions: [scm]
# A host for each plan: two clean ones (the defaults alone), then four where Everyone's write and RemoteAccess are
# explicit on root, inherited by every namespace below.
hosts:
  - name: wmi002
  - name: wmi022
  - &excroot
    name: grant
    namespaces:
      root: "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)(A;CI;CCDCRPWP;;;WD)"
  - {<<: *excroot, name: typo}
  - {<<: *excroot, name: empty-expires}
  - {<<: *excroot, name: yaml-date}
"""
LOCAL_SERVICE_ENABLE = [{"principal": "S-1-5-19", "rights": ["Enable", "MethodExecute"]}]
CIMV2 = "root\\cimv2"
DEFAULT = "root\\default"


def wmi002_partial_exception_writes_only_the_unexcepted_namespace(fleet, host):
    args = {
        "mode": "enforce",
        "controls": ["WMI-002"],
        "namespace_sds": [
            {"namespace": CIMV2, "mode": "present", "aces": LOCAL_SERVICE_ENABLE},
            {"namespace": DEFAULT, "mode": "present", "aces": LOCAL_SERVICE_ENABLE},
        ],
        "exceptions": [{"control": "WMI-002", "namespace": CIMV2, "reason": "vendor descriptor kept"}],
    }
    before = fleet.state(host)["namespaces"]

    step, predicted = yield from baseline_step(host, args, check=True)
    assert step.writes(host) == 0
    assert predicted["changed"] is True and len(control_result(predicted, "WMI-002")["changes"]) == 1

    step, result = yield from baseline_step(host, args)
    after = fleet.state(host)["namespaces"]
    assert after[CIMV2] == before[CIMV2], "the excepted namespace was rewritten"
    assert after[DEFAULT] != before[DEFAULT] and "(A;CI;CCDC;;;LS)" in after[DEFAULT]
    assert step.counters[host]["writes_by_kind"] == {"namespace_sd": 1}
    wmi002 = control_result(result, "WMI-002")
    assert wmi002["changes"] == control_result(predicted, "WMI-002")["changes"]  # check mode predicted this very write
    cimv2 = [f for f in wmi002["findings"] if f["namespace"] == CIMV2]
    assert cimv2 and all(f["excepted"] and f["reason"] == "vendor descriptor kept" for f in cimv2)
    assert wmi002["status"] == "remediated" and result["changed"] is True

    step, audit = yield from baseline_step(host, {**args, "mode": "audit"})
    assert control_result(audit, "WMI-002")["status"] == "excepted"
    assert step.writes(host) == 0


def wmi022_partial_exception_adds_the_audit_entry_only_where_no_exception_covers(fleet, host):
    args = {
        "mode": "enforce",
        "controls": ["WMI-022"],
        "namespace_audit": {"enabled": True, "namespaces": [CIMV2, DEFAULT], "set_sacl": True},
        "exceptions": [{"control": "WMI-022", "namespace": CIMV2, "reason": "audited by the SIEM agent"}],
    }
    step, predicted = yield from baseline_step(host, args, check=True)
    assert control_result(predicted, "WMI-022")["changes"] == [f"{DEFAULT}: SACL + (AU;CISA;WD;;;WD)"]
    assert step.writes(host) == 0

    step, result = yield from baseline_step(host, args)
    assert list(fleet.state(host)["namespace_audit"]) == [DEFAULT]
    assert step.counters[host]["writes_by_kind"] == {"namespace_sacl": 1}
    findings = control_result(result, "WMI-022")["findings"]
    assert [f["excepted"] for f in findings if f["namespace"] == CIMV2] == [True]


def an_exception_where_a_grant_applies_keeps_it(fleet, host):
    root_before = fleet.state(host)["namespaces"]["root"]
    exceptions = [{"control": "WMI-004", "namespace": CIMV2, "principal": "Everyone", "reason": "product X"}]
    args = {"mode": "enforce", "controls": ["WMI-004"], "exceptions": exceptions}
    checked, predicted = yield from baseline_step(host, args, check=True)
    enforced, result = yield from baseline_step(host, args)
    assert fleet.state(host)["namespaces"]["root"] == root_before, "the excepted grant was removed"
    assert checked.writes(host) + enforced.writes(host) == 0
    for outcome in (predicted, result):
        wmi004 = control_result(outcome, "WMI-004")
        assert wmi004["status"] == "excepted" and all(f["excepted"] for f in wmi004["findings"])
        assert outcome["changed"] is False


def an_exception_that_matches_nothing_is_a_warning_naming_it(fleet, host):
    typo = "\\\\.\\root\\cimv2"
    exceptions = [{"control": "WMI-004", "namespace": typo, "principal": "Everyone", "reason": "product X"}]
    _, result = yield from baseline_step(host, {"mode": "audit", "controls": ["WMI-004"], "exceptions": exceptions})
    assert control_result(result, "WMI-004")["status"] == "drift"
    assert any(
        w.startswith(f"exceptions[0] (WMI-004, namespace '{typo}', principal 'Everyone') matches no finding of WMI-004")
        for w in result["warnings"]
    ), result.get("warnings")


def an_empty_expires_from_a_template_default_is_refused_before_contact(fleet, host):
    exceptions = [{"control": "WMI-004", "reason": "product X", "expires": "{{ product_x_expiry | default('') }}"}]
    task = {"name": "b", "winsec.wmi.baseline": {"mode": "enforce", "exceptions": exceptions}, "ignore_errors": True}
    step = yield {"hosts": host, "tasks": [task]}
    assert step.run.status(host, "b") == "failed"
    assert step.run.result(host, "b")["msg"].startswith("exceptions[0].expires: empty; give the last day")
    assert step.writes(host) == 0
    assert "(A;CI;CCDCRPWP;;;WD)" in fleet.state(host)["namespaces"]["root"]


def an_unquoted_yaml_date_is_an_expiry(fleet, host):
    # The task is written as YAML with the date unquoted (a YAML date, not a string) - read as YYYY-MM-DD.
    exceptions = [{"control": "WMI-004", "principal": "Everyone", "reason": "product X", "expires": date(2099, 12, 31)}]
    args = {"mode": "audit", "controls": ["WMI-004"], "exceptions": exceptions}
    _, result = yield from baseline_step(host, args)
    assert control_result(result, "WMI-004")["status"] == "excepted"
    exceptions[0]["expires"] = date(2020, 1, 31)
    _, result = yield from baseline_step(host, args)
    expired = control_result(result, "WMI-004")
    assert expired["status"] == "drift"
    assert all(f["reason"] == "exception expired on 2020-01-31: product X" for f in expired["findings"])


@pytest.fixture(scope="module")
def plans(module_fleet_from_text):
    by_host = {
        "wmi002": wmi002_partial_exception_writes_only_the_unexcepted_namespace,
        "wmi022": wmi022_partial_exception_adds_the_audit_entry_only_where_no_exception_covers,
        "grant": an_exception_where_a_grant_applies_keeps_it,
        "typo": an_exception_that_matches_nothing_is_a_warning_naming_it,
        "empty-expires": an_empty_expires_from_a_template_default_is_refused_before_contact,
        "yaml-date": an_unquoted_yaml_date_is_an_expiry,
    }
    return SideBySide.per_host(module_fleet_from_text(FLEET), by_host)


def test_wmi002_partial_exception_writes_only_the_unexcepted_namespace(plans):
    plans.outcome("wmi002")


def test_wmi022_partial_exception_adds_the_audit_entry_only_where_no_exception_covers(plans):
    plans.outcome("wmi022")


def test_an_exception_where_a_grant_applies_keeps_it(plans):
    plans.outcome("grant")


def test_an_exception_that_matches_nothing_is_a_warning_naming_it(plans):
    plans.outcome("typo")


def test_an_empty_expires_from_a_template_default_is_refused_before_contact(plans):
    plans.outcome("empty-expires")


def test_an_unquoted_yaml_date_is_an_expiry(plans):
    plans.outcome("yaml-date")
