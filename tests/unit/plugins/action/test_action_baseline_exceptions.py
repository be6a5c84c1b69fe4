# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.baseline exceptions with a replayed wmi_state: an excepted finding is never fixed, whichever control
writes (WMI-002 per namespace, WMI-004 per grant, WMI-022 per SACL target, the registry controls per value); an
exception's namespace matches where a grant applies; an exception that matches nothing is reported; expires is a
YYYY-MM-DD date or absent."""

from __future__ import annotations

import base64
import datetime
import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.action import baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._exceptions import (
    ControlException,
    ControlExceptions,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_sddl, sd_to_bytes
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import WS2022_FACTS

TODAY = datetime.date(2026, 6, 1)
ROOT = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)"
INHERITED = (
    "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCLCSWRPWPRCWD;;;SY)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)"
)
# Everyone's write and RemoteAccess explicit on root, and so applying on every namespace below.
ROOT_WIDE = ROOT + "(A;CI;CCDCRPWP;;;WD)"
INHERITED_WIDE = INHERITED + "(A;CIID;CCDCRPWP;;;WD)"
LOCAL_SERVICE_ENABLE = [{"principal": "S-1-5-19", "rights": ["Enable", "MethodExecute"]}]


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


class Host:
    """A replayed host: namespace -> SDDL (DACL and, for SACL reads, SACL). sd_get answers for the namespace asked
    and every namespace below it, as wmi_state does; writes succeed and read back as written."""

    def __init__(self, namespaces: dict[str, str]) -> None:
        self.namespaces = namespaces

    def _below(self, root: str) -> list[str]:
        key = root.lower()
        return [name for name in self.namespaces if name.lower() == key or name.lower().startswith(key + "\\")]

    def _answer(self, operation: dict[str, t.Any]) -> dict[str, t.Any]:
        if operation["op"] == "facts":
            return WS2022_FACTS
        if operation["op"] == "sd_get":
            # With sacl, wmi_state says per namespace whether the SACL came back (it did here).
            sacl = {"sacl_returned": True} if operation.get("sacl") else {}
            entries = [
                {"namespace": name, "sd": b64(self.namespaces[name]), "error": None, **sacl}
                for name in self._below(operation["namespace"])
            ]
            reply = {"op": "sd_get", "failed": False, "namespaces": entries, "principals": {}}
            return {**reply, "sacl_read": True} if operation.get("sacl") else reply
        if operation["op"] == "registry_read":
            return {"op": "registry_read", "failed": False, "key_exists": True, "exists": False, "type": None}
        if operation["op"] == "event_subscriptions":
            return {"op": "event_subscriptions", "failed": False, "filters": [], "consumers": [], "bindings": []}
        raise AssertionError(f"unexpected read {operation}")

    def read(self, operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        return [self._answer(operation) for operation in operations]

    @staticmethod
    def write(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        replies: list[dict[str, t.Any]] = []
        for operation in operations:
            if operation["op"] == "registry_write":
                after = {"exists": True, "type": "REG_DWORD", "data": int(operation["data"])}
                replies.append({"op": "registry_write", "failed": False, "before": {"exists": False}, "after": after})
            else:
                replies.append({"op": operation["op"], "failed": False, "sd": operation["sd"]})
        return replies


def run(
    args: dict[str, t.Any], host: Host, *, check_mode: bool = False, writes: bool = True
) -> tuple[dict[str, t.Any], Target]:
    action = make_action(baseline, args, check_mode=check_mode, action_name="winsec.wmi.baseline")
    target = Target([host.read, host.write] if writes else [host.read])
    action._execute_module = target
    return action.run(task_vars={}), target


def record(result: dict[str, t.Any], control_id: str) -> dict[str, t.Any]:
    return next(item for item in result["controls"] if item["id"] == control_id)


def written_namespaces(target: Target, op: str) -> list[str]:
    return [operation["namespace"] for call in target.calls[1:] for operation in call if operation["op"] == op]


# --- WMI-002: one namespace_sds item excepted, the other written ----------------------------------------------------

TWO_SDS = {
    "mode": "enforce",
    "controls": ["WMI-002"],
    "namespace_sds": [
        {"namespace": "root\\cimv2", "mode": "present", "aces": LOCAL_SERVICE_ENABLE},
        {"namespace": "root\\default", "mode": "present", "aces": LOCAL_SERVICE_ENABLE},
    ],
    "exceptions": [{"control": "WMI-002", "namespace": "root\\cimv2", "reason": "vendor descriptor kept"}],
}
PLAIN_TREE = {"root": ROOT, "root\\cimv2": INHERITED, "root\\default": INHERITED}


def test_wmi002_writes_only_the_namespace_no_exception_covers():
    result, target = run(TWO_SDS, Host(dict(PLAIN_TREE)))
    assert written_namespaces(target, "sd_set") == ["root\\default"]
    wmi002 = record(result, "WMI-002")
    cimv2 = [f for f in wmi002["findings"] if f["namespace"] == "root\\cimv2"]
    default = [f for f in wmi002["findings"] if f["namespace"] == "root\\default"]
    # The excepted marks survive the write's verification (the parts' findings are merged again there).
    assert cimv2 and all(f["excepted"] and f["reason"] == "vendor descriptor kept" for f in cimv2)
    assert default and not any(f.get("excepted") for f in default)
    assert len(wmi002["changes"]) == 1  # the unexcepted namespace's one added ACE
    assert wmi002["status"] == "remediated" and result["changed"] is True


def test_wmi002_check_mode_predicts_the_same_single_write():
    result, target = run(TWO_SDS, Host(dict(PLAIN_TREE)), check_mode=True, writes=False)
    assert len(target.calls) == 1
    wmi002 = record(result, "WMI-002")
    assert wmi002["status"] == "drift" and result["changed"] is True
    assert len(wmi002["changes"]) == 1  # root\\default's ACE; root\\cimv2 is kept as it is


def test_wmi002_every_namespace_excepted_writes_nothing():
    args = {**TWO_SDS, "exceptions": [{"control": "WMI-002", "reason": "all kept"}]}
    result, target = run(args, Host(dict(PLAIN_TREE)), writes=False)
    assert len(target.calls) == 1
    assert record(result, "WMI-002")["status"] == "excepted" and result["changed"] is False


# --- WMI-022: one SACL target excepted ------------------------------------------------------------------------------


def test_wmi022_adds_the_audit_entry_only_where_no_exception_covers():
    args = {
        "mode": "enforce",
        "controls": ["WMI-022"],
        "namespace_audit": {"enabled": True, "namespaces": ["root\\cimv2", "root\\default"], "set_sacl": True},
        "exceptions": [{"control": "WMI-022", "namespace": "root\\cimv2", "reason": "audited by the SIEM agent"}],
    }
    result, target = run(args, Host(dict(PLAIN_TREE)))
    assert written_namespaces(target, "sacl_set") == ["root\\default"]
    findings = record(result, "WMI-022")["findings"]
    assert [f["excepted"] for f in findings if f["namespace"] == "root\\cimv2"] == [True]
    assert not any(f.get("excepted") for f in findings if f["namespace"] == "root\\default")


def test_wmi022_an_exception_on_a_namespace_below_the_target_keeps_the_target_unwritten():
    # root has no audit entry: the one entry that would fix root\cimv2 goes on root, and would audit cimv2 too.
    args = {
        "mode": "enforce",
        "controls": ["WMI-022"],
        "namespace_audit": {"enabled": True, "set_sacl": True},
        "exceptions": [{"control": "WMI-022", "namespace": "root\\cimv2", "reason": "audited elsewhere"}],
    }
    result, target = run(args, Host(dict(PLAIN_TREE)), writes=False)
    assert len(target.calls) == 1
    assert record(result, "WMI-022")["status"] == "excepted"


# --- WMI-004: the namespace where a grant applies -------------------------------------------------------------------

WIDE_TREE = {"root": ROOT_WIDE, "root\\cimv2": INHERITED_WIDE, "root\\default": INHERITED_WIDE}


@pytest.mark.parametrize("namespace", ["root\\cimv2", "ROOT/CIMV2", "root"])
def test_wmi004_exception_where_the_grant_applies_or_is_explicit_keeps_it(namespace):
    exception = {"control": "WMI-004", "namespace": namespace, "principal": "Everyone", "reason": "product X"}
    result, target = run({"mode": "enforce", "controls": ["WMI-004"], "exceptions": [exception]}, Host(WIDE_TREE))
    assert len(target.calls) == 1, "the excepted grant was removed"
    wmi004 = record(result, "WMI-004")
    assert wmi004["findings"] and all(f["excepted"] for f in wmi004["findings"])
    assert wmi004["status"] == "excepted" and "warnings" not in result


def test_wmi004_fix_keeps_the_grant_excepted_where_it_applies_and_removes_the_others():
    # Everyone's write (explicit on root, excepted on root\cimv2 where it applies) stays; Authenticated Users' write
    # explicit on root\default is not excepted and is removed - so the control stays drift and does write.
    tree = {**WIDE_TREE, "root\\default": INHERITED_WIDE + "(A;CI;CCDCRPWP;;;AU)"}
    exception = {"control": "WMI-004", "namespace": "root\\cimv2", "principal": "S-1-1-0", "reason": "product X"}
    result, target = run({"mode": "enforce", "controls": ["WMI-004"], "exceptions": [exception]}, Host(tree))
    assert written_namespaces(target, "sd_set") == ["root\\default"]
    findings = record(result, "WMI-004")["findings"]
    assert [f["sid"] for f in findings if f.get("excepted")] == ["S-1-1-0"]


def test_wmi004_exception_on_a_namespace_the_grant_does_not_reach_matches_nothing_and_says_so():
    # Everyone's write is explicit on root\cimv2 only: an exception for root\default is about something else.
    tree = {"root": ROOT, "root\\cimv2": INHERITED + "(A;CI;CCDCRPWP;;;WD)", "root\\default": INHERITED}
    exception = {"control": "WMI-004", "namespace": "root\\default", "principal": "Everyone", "reason": "x"}
    result, target = run({"mode": "enforce", "controls": ["WMI-004"], "exceptions": [exception]}, Host(tree))
    assert written_namespaces(target, "sd_set") == ["root\\cimv2"]
    assert any("exceptions[0] (WMI-004, namespace 'root\\default'" in w for w in result["warnings"])


# --- exceptions that match nothing are reported ---------------------------------------------------------------------


@pytest.mark.parametrize("namespace", ["\\\\.\\root\\cimv2", " root\\cimv2"])
def test_an_exception_matching_no_finding_is_a_warning_naming_it(namespace):
    exceptions = [
        {"control": "WMI-004", "principal": "Everyone", "reason": "used"},
        {"control": "wmi-004", "namespace": namespace, "principal": "Everyone", "reason": "typo"},
    ]
    result, _target = run({"mode": "audit", "controls": ["WMI-004"], "exceptions": exceptions}, Host(WIDE_TREE))
    unused = [w for w in result["warnings"] if "matches no finding" in w]
    # The same text on every host (no host name): Ansible prints a fleet-wide exception's warning once per run.
    assert unused == [
        f"exceptions[1] (wmi-004, namespace '{namespace}', principal 'Everyone') matches no finding of WMI-004 on "
        "some hosts (their results list it under unmatched_exceptions); if it was meant for them, check its "
        "namespace and principal: the finding stays drift."
    ]
    assert result["unmatched_exceptions"] == [f"exceptions[1] (wmi-004, namespace '{namespace}', principal 'Everyone')"]


def test_an_exception_for_a_compliant_control_is_reported_too():
    exception = {"control": "WMI-004", "principal": "Everyone", "reason": "stale"}
    result, _target = run({"mode": "audit", "controls": ["WMI-004"], "exceptions": [exception]}, Host(dict(PLAIN_TREE)))
    assert record(result, "WMI-004")["status"] == "compliant"
    assert any(
        w.startswith("exceptions[0] (WMI-004, principal 'Everyone') matches no finding") for w in result["warnings"]
    )


# --- the registry controls: one value each --------------------------------------------------------------------------


def test_wmi001_excepted_never_writes_the_value():
    exception = {"control": "WMI-001", "reason": "legacy monitoring agent"}
    result, target = run(
        {"mode": "enforce", "controls": ["WMI-001"], "exceptions": [exception]}, Host({}), writes=False
    )
    assert len(target.calls) == 1
    assert record(result, "WMI-001")["status"] == "excepted" and result["changed"] is False


def parsed(items: list[dict[str, t.Any]]) -> tuple[ControlException, ...]:
    return ControlExceptions.parse(items, TODAY).items


def test_matching_covers_where_a_finding_applies():
    (exception,) = parsed([{"control": "WMI-004", "namespace": "Root/CimV2", "reason": "x"}])
    assert exception.matches("WMI-004", {"namespace": "root", "affected_namespaces": ["root", "root\\cimv2"]})
    (audit,) = parsed([{"control": "WMI-022", "namespace": "root\\cimv2", "reason": "x"}])
    assert audit.matches("WMI-022", {"namespace": "root", "namespaces": ["root", "root\\cimv2"]})
    assert not audit.matches("WMI-004", {"namespace": "root\\cimv2"})
    assert exception.matches("wmi-004", {"namespace": "root", "source_namespace": "root\\cimv2"})
    assert not exception.matches("WMI-004", {"namespace": "root", "affected_namespaces": ["root\\cimv2x"]})


# --- expires --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("expires", "message"),
    [
        ("", "exceptions[0].expires: empty; give the last day"),
        ("  ", "exceptions[0].expires: empty; give the last day"),
        ("2099-W01-1", "'2099-W01-1' is not a date (YYYY-MM-DD)"),
        ("20991231", "'20991231' is not a date (YYYY-MM-DD)"),
        ("2099-02-30", "'2099-02-30' is not a date (YYYY-MM-DD)"),
        ("2099-12-31T00:00", "is not a date (YYYY-MM-DD)"),
    ],
)
def test_expires_must_be_yyyy_mm_dd(expires, message):
    exception = {"control": "WMI-004", "reason": "x", "expires": expires}
    result, target = run({"mode": "audit", "exceptions": [exception]}, Host(WIDE_TREE), writes=False)
    assert result["failed"] is True and message in result["msg"]
    assert target.calls == []


@pytest.mark.parametrize("expires", ["2099-12-31", datetime.date(2099, 12, 31), datetime.datetime(2099, 12, 31, 8, 0)])
def test_expires_as_text_or_date(expires):
    (exception,) = parsed([{"control": "WMI-004", "reason": "x", "expires": expires}])
    assert exception.expires == datetime.date(2099, 12, 31)
    assert parsed([{"control": "WMI-004", "reason": "x", "expires": None}])[0].expires is None


def test_an_exception_for_an_unknown_control_is_refused_before_contact():
    exceptions = [
        {"control": "WMI-022", "reason": "namespace auditing is off in this run: still a known control"},
        {"control": "WMI-04", "principal": "Everyone", "reason": "typo"},
    ]
    result, target = run({"mode": "enforce", "exceptions": exceptions}, Host(WIDE_TREE), writes=False)
    assert result["failed"] is True and target.calls == []
    assert result["msg"].startswith("exceptions[1].control: unknown control ID 'WMI-04'; known: WMI-001, WMI-002")


def test_a_control_that_could_not_read_everything_does_not_call_an_exception_unused():
    # root\secret cannot be read: the finding an exception names there may exist, so it is not reported as unused.
    host = Host(dict(WIDE_TREE))
    read = host.read

    def with_unreadable(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        replies = read(operations)
        for reply in replies:
            if reply["op"] == "sd_get":
                error = {"code": "WMI", "hresult": 0x80041003, "message": "denied"}
                reply["namespaces"].append({"namespace": "root\\secret", "sd": None, "error": error})
        return replies

    host.read = with_unreadable
    exception = {"control": "WMI-004", "namespace": "root\\secret", "reason": "product X"}
    result, _target = run({"mode": "audit", "controls": ["WMI-004"], "exceptions": [exception]}, host)
    assert record(result, "WMI-004")["status"] == "error"
    assert not any("matches no finding" in warning for warning in result.get("warnings", []))
