# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Four classes of host state the baseline used to call compliant, over the real path (ansible-playbook, WinRM,
winsec.wmi.wmi_state, the simulator): write for an authentication-package / asserted-identity / ALL SERVICES SID,
an allow-object ACE, a DCOM legacy exception stored in an undocumented registry type, and an allow-listed event
consumer whose command line was rewritten. An audit reports each as drift and writes nothing; enforce writes the
DCOM value back as the documented REG_DWORD 1."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.harness import run_step

pytestmark = pytest.mark.e2e

FLEET = r"""
hosts:
  - {name: clean, profile: "2022", unsecapp: 1, dcom: {require_integrity: 1}, subscriptions: [scm]}
  # Write and RemoteAccess for NTLM Authentication, Authentication authority asserted identity and ALL SERVICES.
  - name: authsid
    profile: "2022"
    unsecapp: 1
    dcom: {require_integrity: 1}
    subscriptions: [scm]
    namespaces:
      root\cimv2: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;S-1-5-64-10)(A;CI;CCDCLCSWRPWP;;;S-1-18-1)\
        (A;CI;CCDCLCSWRPWP;;;S-1-5-80-0)"
  # An allow-object ACE (no object GUID): Everyone full write and WriteSecurity.
  - name: objace
    profile: "2022"
    unsecapp: 1
    dcom: {require_integrity: 1}
    subscriptions: [scm]
    namespaces:
      root\cimv2: "O:BAG:BAD:(OA;CI;CCDCLCSWRPWPRCWD;;;WD)"
  - {name: dcom-qword, profile: "2022", unsecapp: 1, subscriptions: [scm],
     dcom: {require_integrity: {type: REG_QWORD, data: 0}}}
  - {name: dcom-sz, profile: "2022", unsecapp: 1, subscriptions: [scm], dcom: {require_integrity: "0"}}
  - {name: dcom-binary, profile: "2022", unsecapp: 1, subscriptions: [scm],
     dcom: {require_integrity: {type: REG_BINARY, data: [0, 0, 0, 0]}}}
  # The classic encoded-PowerShell consumer, allow-listed by namespace, class and name only.
  - {name: cradle, profile: "2022", unsecapp: 1, dcom: {require_integrity: 1}, subscriptions: [scm, malicious]}
"""
ALLOWED = {"consumer": "WindowsUpdateHealth", "consumer_class": "CommandLineEventConsumer"}


def baseline(controls: list[str], **options: object) -> dict[str, object]:
    return {
        "name": "baseline",
        "winsec.wmi.baseline": {"mode": "audit", "controls": controls, "namespaces": ["root"], **options},
        "ignore_errors": True,
    }


@pytest.fixture(scope="module")
def fleet(module_fleet_factory, tmp_path_factory):
    """The module's fleet: the audit below reads it as it started, then the enforce steps change the DCOM hosts."""
    path = tmp_path_factory.mktemp("false_compliant") / "fleet.yml"
    path.write_text(FLEET, encoding="utf-8")
    return module_fleet_factory(path)


@pytest.fixture(scope="module")
def audit(fleet):
    """One check-mode run over the fleet as it started, for the two tests that only read it: the audit on every
    host, and the two event_subscription_info reads on cradle (guarded by host, so the other hosts skip them)."""
    on_cradle = {"when": "inventory_hostname == 'cradle'"}
    task = baseline(
        ["WMI-003", "WMI-004", "WMI-020", "WMI-021"],
        event_subscriptions={"allowed": [ALLOWED]},
        dcom={"remove_legacy_exception": True},
    )
    tasks: list[dict[str, Any]] = [
        task,
        {"name": "unpinned", "winsec.wmi.event_subscription_info": {"allowed": [ALLOWED]}, **on_cradle},
        {"name": "read", "winsec.wmi.event_subscription_info": {}, **on_cradle},
    ]
    return run_step(fleet, tasks, check=True)


def statuses(run, host: str) -> dict[str, str]:
    return {control["id"]: control["status"] for control in run.result(host, "baseline")["controls"]}


def findings(run, host: str, control_id: str) -> list[dict[str, object]]:
    [control] = [c for c in run.result(host, "baseline")["controls"] if c["id"] == control_id]
    return control["findings"]


def test_each_class_is_drift_in_an_audit_that_writes_nothing(fleet, audit):
    run = audit.run
    assert run.rc == 0, run.stdout
    every = {"WMI-003": "compliant", "WMI-004": "compliant", "WMI-020": "compliant", "WMI-021": "compliant"}
    assert statuses(run, "clean") == every

    assert statuses(run, "authsid") == {**every, "WMI-004": "drift"}
    sids = {f["sid"] for f in findings(run, "authsid", "WMI-004") if f["id"] == "broad_write"}
    assert sids == {"S-1-5-64-10", "S-1-18-1", "S-1-5-80-0"}

    assert statuses(run, "objace") == {**every, "WMI-003": "drift", "WMI-004": "drift"}
    [odd] = findings(run, "objace", "WMI-003")
    assert odd["id"] == "unexpected_ace_type" and odd["ace_type"] == "access_allowed_object"
    assert {f["id"] for f in findings(run, "objace", "WMI-004")} >= {"broad_write", "non_admin_write_security"}

    for host, reg_type in (("dcom-qword", "REG_QWORD"), ("dcom-sz", "REG_SZ"), ("dcom-binary", "REG_BINARY")):
        assert statuses(run, host) == {**every, "WMI-021": "drift"}, host
        [exception] = findings(run, host, "WMI-021")
        assert exception["id"] == "dcom_legacy_exception" and reg_type in str(exception["message"])

    assert statuses(run, "cradle") == {**every, "WMI-020": "drift"}
    [consumer] = findings(run, "cradle", "WMI-020")
    assert consumer["id"] == "suspicious_event_consumer"
    assert [reason["id"] for reason in consumer["reasons"]][:2] == ["allow_list_unpinned", "code_running_consumer"]

    for host in fleet.hosts:
        assert audit.writes(host) == 0, host


def test_event_subscription_info_keeps_an_unpinned_allowed_consumer_suspicious(fleet, audit):
    run = audit.run
    assert run.rc == 0, run.stdout
    unpinned = run.result("cradle", "unpinned")
    assert unpinned["compliant"] is False and unpinned["counts"]["suspicious"] == 1
    # Pinned to the command line the host holds, the same entry admits it: a person reviewed what it runs.
    [consumer] = [c for c in run.result("cradle", "read")["consumers"] if c["name"] == "WindowsUpdateHealth"]
    pinned_entry = {**ALLOWED, "command_line": consumer["command_line_template"]}
    pinned = run_step(
        fleet, [{"name": "pinned", "winsec.wmi.event_subscription_info": {"allowed": [pinned_entry]}}], hosts="cradle"
    )
    assert pinned.run.result("cradle", "pinned")["compliant"] is True
    assert audit.writes("cradle") == pinned.writes("cradle") == 0


ENFORCE_HOSTS = ("dcom-qword", "dcom-binary")


@pytest.fixture(scope="module")
def enforced(fleet, audit):
    """Enforce, then a check-mode audit, each one run over both ENFORCE_HOSTS (after the audit above has read the
    fleet as it started)."""
    task = baseline(["WMI-021"], dcom={"remove_legacy_exception": True})
    task["winsec.wmi.baseline"]["mode"] = "enforce"
    hosts = ":".join(ENFORCE_HOSTS)
    return run_step(fleet, [task], hosts=hosts), run_step(fleet, [baseline(["WMI-021"])], hosts=hosts, check=True)


@pytest.mark.parametrize("host", ENFORCE_HOSTS)
def test_enforce_rewrites_the_exception_as_a_dword_one(enforced, host):
    enforce, again = enforced
    run = enforce.run
    assert run.rc == 0, run.stdout
    assert statuses(run, host) == {"WMI-021": "remediated"}
    assert enforce.counters[host]["writes_by_kind"] == {"registry": 1}
    assert statuses(again.run, host) == {"WMI-021": "compliant"}
    control = again.run.result(host, "baseline")["controls"][0]
    assert "1 (REG_DWORD)" in str(control["actual"])
