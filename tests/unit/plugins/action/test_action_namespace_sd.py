# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.action import namespace_sd
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_policy import same_explicit_state
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    Acl,
    SecurityDescriptor,
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import W2000_FACTS, WS2022_FACTS

INHERITED = "(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"
CIMV2 = "O:BAG:BAD:" + INHERITED
ADMIN_ACE = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"
CORP_READER = "S-1-5-21-1-2-3-1107"


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


class FakeNamespace:
    """One namespace whose SetSD keeps the explicit ACEs sent and re-adds the inherited ones (as WMI does)."""

    def __init__(self, sddl: str, facts: dict | None = None, accounts: dict | None = None) -> None:
        self.sd = sd_from_sddl(sddl)
        self.facts = facts or WS2022_FACTS
        self.accounts = accounts or {}
        self.writes = 0

    def b64(self) -> str:
        return base64.b64encode(sd_to_bytes(self.sd)).decode()

    def __call__(self, operations: list[dict]) -> list[dict]:
        results: list[dict[str, t.Any]] = []
        for operation in operations:
            if operation["op"] == "facts":
                results.append(self.facts)
            elif operation["op"] == "sd_get":
                results.append(
                    {
                        "op": "sd_get",
                        "failed": False,
                        "principals": {},
                        "namespaces": [{"namespace": "root\\cimv2", "sd": self.b64(), "error": None}],
                    }
                )
            elif operation["op"] == "sid_lookup":
                accounts = [{"name": name, "sid": self.accounts.get(name)} for name in operation["names"]]
                results.append({"op": "sid_lookup", "failed": False, "accounts": accounts})
            elif operation["op"] == "sd_set":
                assert operation["expected_sd"] == self.b64()
                sent = sd_from_bytes(base64.b64decode(operation["sd"]))
                assert self.sd.dacl is not None and sent.dacl is not None
                inherited = tuple(ace for ace in self.sd.dacl.aces if ace.inherited)
                self.sd = SecurityDescriptor(
                    control=sent.control, owner=sent.owner, group=sent.group, dacl=Acl((*sent.dacl.aces, *inherited))
                )
                self.writes += 1
                results.append({"op": "sd_set", "failed": False, "sd": self.b64()})
        return results


def run(run_action, args: dict, host: FakeNamespace, calls: int, **kwargs: t.Any) -> tuple[dict, t.Any]:
    return run_action(namespace_sd, args, [host] * calls, **kwargs)


EXACT = {"namespace": "ROOT/CIMV2", "sddl": "O:BAG:BAD:" + ADMIN_ACE + "(A;CI;CCDCWP;;;S-1-5-21-1-2-3-1107)"}


def test_four_steps_exact_sddl(run_action):
    host = FakeNamespace(CIMV2)
    checked, target = run(run_action, EXACT, host, 1, check_mode=True, diff=True)
    assert target.ops == [["facts", "sd_get"]]
    assert target.calls[0][1]["namespace"] == "root\\CIMV2"
    assert checked["changed"] is True and host.writes == 0
    assert checked["previous_sddl"] == CIMV2
    assert "sddl: " + CIMV2 in checked["diff"]["before"]
    added = "(S-1-5-21-1-2-3-1107): Enable, MethodExecute, RemoteAccess; inherit this_and_children"
    assert f"{added} (flags container_inherit); explicit" in checked["diff"]["after"]
    assert any(change.startswith("added: allow S-1-5-21-1-2-3-1107") for change in checked["changes"])

    applied, target = run(run_action, EXACT, host, 2)
    assert target.ops == [["facts", "sd_get"], ["sd_set"]]
    assert applied["changed"] is True and host.writes == 1
    assert applied["sddl"] == checked["sddl"]  # check mode predicted exactly what the host returns
    assert applied["sddl"] == sd_to_sddl(host.sd)

    again, target = run(run_action, EXACT, host, 1)
    assert target.ops == [["facts", "sd_get"]]
    assert again["changed"] is False and again["changes"] == []
    rechecked, _target = run(run_action, EXACT, host, 1, check_mode=True)
    assert rechecked["changed"] is False and host.writes == 1


def test_present_adds_once_and_looks_names_up_in_the_same_round_trip(run_action):
    host = FakeNamespace("O:BAG:BAD:" + ADMIN_ACE + INHERITED, accounts={"CORP\\wmi-readers": CORP_READER})
    args = {
        "namespace": "root\\cimv2",
        "mode": "present",
        "aces": [{"principal": "CORP\\wmi-readers", "rights": ["Enable", "RemoteAccess"]}],
    }
    result, target = run(run_action, args, host, 2)
    assert target.ops == [["facts", "sd_get", "sid_lookup"], ["sd_set"]]
    assert target.calls[0][2]["names"] == ["CORP\\wmi-readers"]
    assert "(A;CI;CCWP;;;S-1-5-21-1-2-3-1107)" in result["sddl"]
    assert result["sddl"].index(ADMIN_ACE) < result["sddl"].index("S-1-5-21-1-2-3-1107")
    again, target = run(run_action, args, host, 1)
    assert again["changed"] is False and len(target.calls) == 1


def test_present_widens_rights_instead_of_duplicating(run_action):
    host = FakeNamespace("O:BAG:BAD:" + ADMIN_ACE + "(A;CI;CC;;;AU)")
    args = {
        "namespace": "root\\cimv2",
        "mode": "present",
        "aces": [{"principal": "Authenticated Users", "rights": ["RemoteAccess"]}],
    }
    result, _target = run(run_action, args, host, 2)
    assert result["sddl"] == "O:BAG:BAD:" + ADMIN_ACE + "(A;CI;CCWP;;;AU)"


def test_absent_removes_rights_and_empty_aces(run_action):
    host = FakeNamespace("O:BAG:BAD:(A;CI;CCWP;;;WD)" + ADMIN_ACE + "(A;;CCWP;;;AU)")
    args = {
        "namespace": "root\\cimv2",
        "mode": "absent",
        "aces": [{"principal": "Everyone"}, {"principal": "AU", "rights": ["RemoteAccess"]}],
    }
    result, _target = run(run_action, args, host, 2)
    assert result["sddl"] == "O:BAG:BAD:" + ADMIN_ACE + "(A;;CC;;;AU)"
    assert "removed: allow Everyone (S-1-1-0) Enable, RemoteAccess, inherit this_and_children" in result["changes"]


def test_exact_writes_canonical_order(run_action):
    host = FakeNamespace(CIMV2)
    args = {
        "namespace": "root\\cimv2",
        "aces": [
            {"principal": "BA", "rights": ["FullControl"]},
            {"principal": "Guests", "rights": ["RemoteAccess"], "type": "deny"},
        ],
    }
    result, _target = run(run_action, args, host, 2)
    assert result["sddl"].startswith("O:BAG:BAD:(D;CI;WP;;;BG)(A;CI;CCDCLCSWRPWPRCWD;;;BA)")


REFUSALS = [
    ({"sddl": ""}, "null_sd"),
    ({"sddl": "O:BAG:BA"}, "no_dacl"),
    ({"sddl": "O:BAG:BAD:NO_ACCESS_CONTROL"}, "null_dacl"),
    ({"sddl": "O:BAG:BAD:", "namespace": "root"}, "empty_dacl"),
    ({"sddl": "O:BAG:BAD:(A;CI;CCDCRP;;;AU)", "namespace": "root"}, "lockout"),
    ({"sddl": "O:BAG:BAD:P(A;CI;CCDCRP;;;AU)", "namespace": "root"}, "lockout"),
    ({"sddl": "O:BAG:BAD:(D;;CC;;;BA)" + ADMIN_ACE, "namespace": "root"}, "lockout"),
    ({"sddl": "D:" + ADMIN_ACE + "S:(AU;SA;CC;;;WD)"}, "sacl_given"),
    ({"sddl": "D:P" + ADMIN_ACE, "mode": "present"}, "protected_needs_exact"),
    ({"sddl": "O:BUD:" + ADMIN_ACE}, "non_admin_owner"),
    ({"aces": [{"principal": "AU", "rights": []}]}, "no_rights"),
    ({"sddl": None}, "no_aces_given"),
    ({"sddl": "O:BAG:BAD:" + ADMIN_ACE + "(A;CI;LC;;;AU)"}, "full_write_incomplete"),
    ({"sddl": "O:BAG:BAD:" + ADMIN_ACE + "(A;IO;CC;;;AU)"}, "inherit_only_without_container_inherit"),
    ({"sddl": "O:BAG:BAD:" + ADMIN_ACE + "(A;CI;0x100000;;;AU)"}, "unknown_access_bits"),
    ({"sddl": "O:BAG:BAD:" + ADMIN_ACE + "(A;CISA;CC;;;AU)"}, "unknown_ace_flags"),
    ({"sddl": "O:BAG:BAD:" + ADMIN_ACE + "(OA;CI;CC;;;AU)"}, "unknown_ace_type"),
    ({"sddl": "O:BAG:BAD:" + ADMIN_ACE + "(A;CIID;CC;;;AU)"}, "inherited_ace"),
    ({"aces": [{"principal": "AU", "rights": ["Enable"]}], "namespace": "root"}, "lockout"),
    (
        {"aces": [{"principal": "BA", "rights": ["FullControl"]}, {"principal": "AU", "rights": ["FullWrite"]}]},
        "full_write_incomplete",
    ),
    ({"aces": [{"principal": "S-1-5-x", "rights": ["Enable"]}]}, "invalid_principal"),
]


@pytest.mark.parametrize(("args", "code"), REFUSALS, ids=[f"{entry[1]}-{i}" for i, entry in enumerate(REFUSALS)])
@pytest.mark.parametrize("facts", [WS2022_FACTS, W2000_FACTS], ids=["ws2022", "w2000"])
def test_refusals_before_any_contact(run_action, args, code, facts):
    result, target = run_action(namespace_sd, {"namespace": "root\\cimv2", **args}, [FakeNamespace(CIMV2, facts)])
    assert target.calls == []
    assert result["failed"] is True
    assert result["refusal"] == code
    assert "before contacting the host, nothing written" in result["msg"]


def test_lockout_can_be_forced(run_action):
    host = FakeNamespace(CIMV2)
    args = {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:(A;CI;CCDCRP;;;AU)", "allow_lockout": True}
    result, _target = run(run_action, args, host, 2)
    assert result["changed"] is True


def test_absent_that_would_lock_out_is_refused_after_the_read(run_action):
    host = FakeNamespace("O:BAG:BAD:" + ADMIN_ACE)
    args = {"namespace": "root", "mode": "absent", "aces": [{"principal": "BA"}]}
    result, target = run(run_action, args, host, 1)
    assert len(target.calls) == 1 and host.writes == 0
    assert result["refusal"] == "empty_dacl"
    assert "after reading the host's descriptor" in result["msg"]


def test_unknown_principal_is_refused_without_writing(run_action):
    host = FakeNamespace(CIMV2)
    args = {
        "namespace": "root\\cimv2",
        "mode": "present",
        "aces": [{"principal": "CORP\\nobody", "rights": ["Enable"]}],
    }
    result, target = run(run_action, args, host, 1)
    assert result["refusal"] == "unknown_principal" and host.writes == 0 and len(target.calls) == 1


def test_sddl_and_aces_are_mutually_exclusive(run_action):
    result, target = run_action(namespace_sd, {"namespace": "root", "sddl": "D:", "aces": []}, [])
    assert target.calls == [] and "mutually exclusive" in result["msg"]


def test_changed_since_read_is_named(run_action):
    host = FakeNamespace(CIMV2)
    conflict = [{"op": "sd_set", "failed": True, "error": {"code": "CHANGED_SINCE_READ", "message": "changed"}}]
    result, _target = run_action(namespace_sd, EXACT, [host, conflict])
    assert result["failed"] is True and "CHANGED_SINCE_READ" in result["msg"]


def test_invalid_namespace_is_named(run_action):
    missing = [
        WS2022_FACTS,
        {
            "op": "sd_get",
            "failed": False,
            "principals": {},
            "namespaces": [
                {"namespace": "root\\nope", "sd": None, "error": {"code": "WMI", "hresult": 0x8004100E, "message": "x"}}
            ],
        },
    ]
    result, _target = run_action(namespace_sd, {**EXACT, "namespace": "root/nope"}, [missing])
    assert result["failed"] is True and "WBEM_E_INVALID_NAMESPACE (0x8004100E)" in result["msg"]


def test_semantic_idempotence_ignores_layout():
    a = sd_from_sddl("O:BAG:BAD:AR" + ADMIN_ACE + INHERITED)
    b = sd_from_sddl("O:BAG:BAD:" + ADMIN_ACE)
    assert same_explicit_state(a, b)


def test_unparsable_sddl_is_refused_with_the_position(run_action):
    args = {"namespace": "root", "sddl": "O:BAG:BAD:" + ADMIN_ACE + "(AU;SA;CC;;;AU)"}
    result, target = run_action(namespace_sd, args, [])
    assert target.calls == [] and result["failed"] is True
    assert result["msg"].startswith("sddl: ACE type 'AU' at position")


@pytest.mark.parametrize("sddl", ["O:BAG:BAD:", "O:BAG:BAD:(A;CI;CCDCRP;;;AU)"])
def test_child_namespace_keeps_inherited_admin_access(run_action, sddl):
    host = FakeNamespace(CIMV2)
    result, _target = run(run_action, {"namespace": "root\\cimv2", "sddl": sddl}, host, 2)
    assert result["changed"] is False or host.writes == 1
    assert "failed" not in result, result["msg"]
    assert result["sddl"] == sddl + INHERITED


def test_child_lockout_counts_inherited_denies(run_action):
    host = FakeNamespace("O:BAG:BAD:(D;CI;WD;;;BA)(D;CI;WD;;;SY)" + ADMIN_ACE + INHERITED)
    args = {"namespace": "root\\cimv2", "mode": "absent", "aces": [{"principal": "BA", "rights": ["WriteSecurity"]}]}
    result, _target = run(run_action, args, host, 1)
    assert result["refusal"] == "lockout" and "after reading" in result["msg"] and host.writes == 0


def test_owner_by_name_is_looked_up_and_a_non_admin_owner_refused(run_action):
    host = FakeNamespace("O:SYG:SYD:" + ADMIN_ACE + INHERITED, accounts={"CORP\\wmi-owners": CORP_READER})
    args = {"namespace": "root\\cimv2", "mode": "present", "aces": [], "owner": "CORP\\wmi-owners"}
    result, target = run(run_action, args, host, 1)
    assert target.calls[0][-1] == {"op": "sid_lookup", "names": ["CORP\\wmi-owners"]}
    assert result["refusal"] == "non_admin_owner" and host.writes == 0
    assert "'CORP\\wmi-owners' (S-1-5-21-1-2-3-1107)" in result["msg"]


def test_owner_change_to_an_admin_is_refused_too(run_action):
    domain_admins = "S-1-5-21-1-2-3-512"
    host = FakeNamespace("O:SYG:SYD:" + ADMIN_ACE + INHERITED, accounts={"CORP\\Domain Admins": domain_admins})
    args = {"namespace": "root\\cimv2", "mode": "present", "aces": [], "owner": "CORP\\Domain Admins"}
    result, _target = run(run_action, args, host, 1)
    assert result["refusal"] == "owner_change" and host.writes == 0
    assert "never changes a namespace's owner or group" in result["msg"]


@pytest.mark.parametrize(
    ("mode", "sddl", "expected"),
    [
        ("present", "D:(A;CI;CCWP;;;AU)", "O:BAG:BAD:" + ADMIN_ACE + "(A;CI;CCWP;;;AU)"),
        ("absent", "D:(A;CI;WP;;;WD)", "O:BAG:BAD:(A;CI;CC;;;WD)" + ADMIN_ACE),
    ],
)
def test_sddl_in_present_and_absent_modes(run_action, mode, sddl, expected):
    host = FakeNamespace("O:BAG:BAD:(A;CI;CCWP;;;WD)" + ADMIN_ACE if mode == "absent" else "O:BAG:BAD:" + ADMIN_ACE)
    result, _target = run(run_action, {"namespace": "root", "mode": mode, "sddl": sddl}, host, 2)
    assert result["changed"] is True
    assert result["sddl"] == expected
    again, target = run(run_action, {"namespace": "root", "mode": mode, "sddl": sddl}, host, 1)
    assert again["changed"] is False and len(target.calls) == 1
