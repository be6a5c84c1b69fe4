# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.baseline with a replayed wmi_state: round trips, verdicts, exceptions, inventory-only hosts."""

from __future__ import annotations

import base64
import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.action import baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import W2000_FACTS, WS2022_FACTS

ROOT = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
INHERITED = "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"
# Everyone may write and connect remotely to root\cimv2 (explicit ACE), the rest inherited.
CIMV2_WIDE = "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)" + INHERITED[len("O:BAG:BAD:") :]


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


def tree(**namespaces: str) -> dict[str, t.Any]:
    entries = [
        {"namespace": name.replace("__", "\\"), "sd": b64(sddl), "error": None} for name, sddl in namespaces.items()
    ]
    return {"op": "sd_get", "failed": False, "namespaces": entries, "principals": {}}


def unsecapp(value: int | None) -> dict[str, t.Any]:
    if value is None:
        return {"op": "registry_read", "failed": False, "key_exists": True, "exists": False, "type": None, "data": None}
    return {
        "op": "registry_read",
        "failed": False,
        "key_exists": True,
        "exists": True,
        "type": "REG_DWORD",
        "data": value,
    }


NO_SUBSCRIPTIONS = {"op": "event_subscriptions", "failed": False, "filters": [], "consumers": [], "bindings": []}


def read_reply(facts: dict[str, t.Any], value: int | None, sd_tree: dict[str, t.Any]) -> t.Callable[..., t.Any]:
    """A host whose DCOM hardening is on and that has no permanent event subscription."""

    def reply(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        by_op = {"facts": facts, "sd_get": sd_tree, "event_subscriptions": NO_SUBSCRIPTIONS}
        by_value = {"unsecapp_access_control_default": unsecapp(value)}
        return [
            by_value.get(operation["value"], unsecapp(1))
            if operation["op"] == "registry_read"
            else by_op[operation["op"]]
            for operation in operations
        ]

    return reply


def written(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """What the host answers to a batch of writes: each succeeded, SDs read back as written."""
    replies = []
    for operation in operations:
        if operation["op"] == "registry_write":
            after = {"exists": True, "type": "REG_DWORD", "data": int(operation["data"])}
            replies.append({"op": "registry_write", "failed": False, "before": operation["expected"], "after": after})
        else:
            replies.append({"op": "sd_set", "failed": False, "sd": operation["sd"]})
    return replies


def run(args: dict[str, t.Any], replies: list[t.Any], *, check_mode: bool = False) -> tuple[dict[str, t.Any], Target]:
    action = make_action(baseline, args, check_mode=check_mode, action_name="winsec.wmi.baseline")
    target = Target(replies)
    action._execute_module = target
    return action.run(task_vars={}), target


def by_id(result: dict[str, t.Any]) -> dict[str, dict[str, t.Any]]:
    return {record["id"]: record for record in result["controls"]}


DRIFTING_HOST = read_reply(WS2022_FACTS, None, tree(root=ROOT, root__cimv2=CIMV2_WIDE))
COMPLIANT_HOST = read_reply(WS2022_FACTS, 1, tree(root=ROOT, root__cimv2=INHERITED))


def test_audit_is_one_round_trip_and_never_writes():
    result, target = run({"mode": "audit"}, [DRIFTING_HOST])
    # Every control's reads in one call; the namespace tree is read once for the four controls that judge it.
    assert target.ops == [["facts", "registry_read", "sd_get", "event_subscriptions", "registry_read", "registry_read"]]
    assert result["status"] == "drift" and result["changed"] is False
    records = by_id(result)
    assert records["WMI-001"]["status"] == "drift"
    assert records["WMI-004"]["status"] == "drift"
    assert records["WMI-004"]["changes"] == ["root\\cimv2: remove FullWrite, PartialWrite, RemoteAccess from Everyone"]
    assert records["WMI-003"]["status"] == records["WMI-005"]["status"] == "compliant"
    assert result["counts"]["drift"] == 2
    assert "failed" not in result


def test_enforce_fixes_in_one_more_round_trip():
    result, target = run({"mode": "enforce"}, [DRIFTING_HOST, written])
    assert target.ops[1] == ["registry_write", "sd_set"] and len(target.ops) == 2
    sd_set = target.calls[1][1]
    assert sd_set["namespace"] == "root\\cimv2" and sd_set["expected_sd"] == b64(CIMV2_WIDE)
    # Everyone keeps what is not a finding (Enable, MethodExecute, ProviderWrite); only explicit ACEs are sent.
    assert sd_to_sddl(sd_from_bytes(base64.b64decode(sd_set["sd"]))) == "O:BAG:BAD:(A;CI;CCDCRP;;;WD)"
    assert result["status"] == "remediated" and result["changed"] is True


def test_enforce_in_check_mode_predicts_and_writes_nothing():
    result, target = run({"mode": "enforce"}, [DRIFTING_HOST], check_mode=True)
    assert len(target.calls) == 1
    assert result["changed"] is True and result["status"] == "drift"


def test_idempotent_host_is_one_round_trip_and_compliant():
    result, target = run({"mode": "enforce"}, [COMPLIANT_HOST])
    assert len(target.calls) == 1
    assert result["status"] == "compliant" and result["changed"] is False
    assert result["msg"].startswith("compliant")


def test_exception_accepts_a_finding_and_is_never_fixed():
    exception = {"control": "WMI-004", "namespace": "root/cimv2", "principal": "Everyone", "reason": "lab host"}
    result, target = run({"mode": "enforce", "exceptions": [exception]}, [DRIFTING_HOST, written])
    assert target.ops[1] == ["registry_write"]
    record = by_id(result)["WMI-004"]
    assert record["status"] == "excepted" and record["reason"] == "lab host"
    assert all(finding["excepted"] for finding in record["findings"])


def test_expired_exception_is_drift_and_says_so():
    exception = {"control": "WMI-004", "principal": "S-1-1-0", "reason": "lab host", "expires": "2020-01-31"}
    result = run({"mode": "audit", "exceptions": [exception]}, [DRIFTING_HOST])[0]
    record = by_id(result)["WMI-004"]
    assert record["status"] == "drift"
    assert all("expired on 2020-01-31" in finding["reason"] for finding in record["findings"])


@pytest.mark.parametrize("inventory_os", ["2003", "Windows Server 2003", "nt4", "Windows 2000 Server", "xp"])
def test_inventory_only_hosts_are_not_applicable_and_never_contacted(inventory_os):
    result, target = run({"mode": "enforce", "inventory_os": inventory_os}, [])
    assert target.calls == []
    assert result["status"] == "not_applicable" and result["contacted"] is False
    assert {record["status"] for record in result["controls"]} == {"not_applicable"}
    assert "failed" not in result


def test_other_inventory_values_connect():
    target = run({"mode": "audit", "inventory_os": "Windows Server 2019 Datacenter"}, [COMPLIANT_HOST])[1]
    assert len(target.calls) == 1


def test_pre_2003_host_reached_anyway_is_never_compliant():
    result = run({"mode": "audit"}, [read_reply(W2000_FACTS, None, tree(root=ROOT))])[0]
    assert result["status"] == "not_applicable"
    assert by_id(result)["WMI-001"]["status"] == "not_applicable"


def test_unreadable_namespace_is_an_error_never_compliant():
    sd_tree = tree(root=ROOT)
    sd_tree["namespaces"].append(
        {"namespace": "root\\secret", "sd": None, "error": {"code": "WMI", "hresult": 0x80041003, "message": "denied"}}
    )
    result = run({"mode": "audit"}, [read_reply(WS2022_FACTS, 1, sd_tree)])[0]
    assert result["status"] == "error" and result["failed"] is True
    assert by_id(result)["WMI-003"]["status"] == "error"
    assert by_id(result)["WMI-001"]["status"] == "compliant"


def test_fail_on_drift_fails_the_host():
    result = run({"mode": "audit", "fail_on_drift": True}, [DRIFTING_HOST])[0]
    assert result["failed"] is True and "fail_on_drift" in result["msg"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({"exceptions": [{"control": "WMI-004", "reason": "  "}]}, "give a reason"),
        ({"exceptions": [{"control": "WMI-004", "reason": "x", "expires": "soon"}]}, "is not a date"),
        ({"controls": ["WMI-999"]}, "unknown control"),
        ({"namespace_sds": [{"namespace": "root", "sddl": "O:BAG:BAD:NO_ACCESS_CONTROL"}]}, "namespace_sds[0]"),
    ],
)
def test_bad_input_fails_before_contacting_the_host(args, message):
    result, target = run({"mode": "enforce", **args}, [])
    assert result["failed"] is True and message in result["msg"]
    assert target.calls == []


def test_script_controls_run_only_where_script_paths_are_given():
    without = run({"mode": "audit"}, [COMPLIANT_HOST])[0]
    assert {"WMI-010", "WMI-011"}.isdisjoint(record["id"] for record in without["controls"])

    def with_scripts(operations):
        files = {"op": "script_files", "failed": False, "files": [], "stopped": None}
        return [files if op["op"] == "script_files" else COMPLIANT_HOST([op])[0] for op in operations]

    result, target = run({"mode": "audit", "scripts": {"paths": ["C:\\Scripts"]}}, [with_scripts])
    assert len(target.calls) == 1 and target.ops[0].count("script_files") == 1  # both controls share one read
    assert {"WMI-010", "WMI-011"} <= {record["id"] for record in result["controls"]}


def test_a_failed_write_is_an_error_never_left_as_drift():
    def refused(operations):
        error = {"code": "CHANGED_SINCE_READ", "message": "the value changed since it was read"}
        return [{"op": operation["op"], "failed": True, "error": error} for operation in operations]

    result = run({"mode": "enforce"}, [DRIFTING_HOST, refused])[0]
    records = by_id(result)
    assert records["WMI-001"]["status"] == "error" and "changed since" in records["WMI-001"]["reason"]
    assert records["WMI-001"]["error"]["code"] == "CHANGED_SINCE_READ"
    assert result["status"] == "error" and result["failed"] is True


def test_fail_on_error_false_returns_the_error_without_failing():
    def refused(operations):
        return [
            {"op": op["op"], "failed": True, "error": {"code": "ACCESS_DENIED", "message": "no"}} for op in operations
        ]

    result = run({"mode": "enforce", "fail_on_error": False}, [DRIFTING_HOST, refused])[0]
    assert result["status"] == "error" and "failed" not in result


def test_sacl_control_runs_only_when_enabled():
    without = run({"mode": "audit"}, [COMPLIANT_HOST])[1]
    assert all("sacl" not in op for op in without.calls[0])

    def with_sacl(operations):
        return [
            {**COMPLIANT_HOST([op])[0], "sacl_read": False} if op.get("sacl") else COMPLIANT_HOST([op])[0]
            for op in operations
        ]

    result, target = run({"mode": "audit", "namespace_audit": {"enabled": True}}, [with_sacl])
    assert any(op.get("sacl") for op in target.calls[0]) and len(target.calls) == 1
    assert by_id(result)["WMI-022"]["status"] == "error"  # no SeSecurityPrivilege: unknown, never "no SACL"


@pytest.mark.parametrize("rights", ["CCGA", "CCGW", "CCWO", "0x10001"])
def test_undocumented_rights_held_by_everyone_are_drift_and_removed(rights):
    # SetSD refuses such bits, but a descriptor written another way may hold them; WMI documents no effect for them.
    widened = "O:BAG:BAD:(A;CI;" + rights + ";;;WD)" + INHERITED[len("O:BAG:BAD:") :]  # Enable and more
    host = read_reply(WS2022_FACTS, 1, tree(root=ROOT, root__cimv2=widened))
    audit = run({"mode": "audit"}, [host])[0]
    record = by_id(audit)["WMI-004"]
    assert record["status"] == "drift" and record["findings"][0]["id"] == "non_admin_other_rights"
    fixed, target = run({"mode": "enforce"}, [host, written])
    (sd_set,) = target.calls[1]
    assert sd_to_sddl(sd_from_bytes(base64.b64decode(sd_set["sd"]))) == "O:BAG:BAD:(A;CI;CC;;;WD)"
    assert by_id(fixed)["WMI-004"]["status"] == "remediated"


@pytest.mark.parametrize("deny", ["(D;CI;WD;;;BA)", "(D;CI;CC;;;SY)", "(D;CI;RC;;;BU)"])
def test_a_namespace_out_of_administrators_or_systems_control_is_drift(deny):
    narrowed = "O:BAG:BAD:" + deny + INHERITED[len("O:BAG:BAD:") :]
    result = run({"mode": "audit"}, [read_reply(WS2022_FACTS, 1, tree(root=ROOT, root__cimv2=narrowed))])[0]
    record = by_id(result)["WMI-003"]
    assert record["status"] == "drift" and record["remediation"]["automatic"] is False
    assert {finding["id"] for finding in record["findings"]} == {"admin_control_lost"}
    assert result["status"] == "drift"


def test_event_subscriptions_are_read_in_every_namespace_unless_told_otherwise():
    # A permanent subscription can be registered in any namespace: the verdict reads them all by default.
    _result, target = run({"mode": "audit"}, [COMPLIANT_HOST])
    (listing,) = [operation for operation in target.calls[0] if operation["op"] == "event_subscriptions"]
    assert listing["namespaces"] == ["root"] and listing["recurse"] is True
    _result, target = run(
        {"mode": "audit", "event_subscriptions": {"namespaces": ["root\\subscription"], "recurse": False}},
        [COMPLIANT_HOST],
    )
    (listing,) = [operation for operation in target.calls[0] if operation["op"] == "event_subscriptions"]
    assert listing["namespaces"] == ["root\\subscription"] and "recurse" not in listing
