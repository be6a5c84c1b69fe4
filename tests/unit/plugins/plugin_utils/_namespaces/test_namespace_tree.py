# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The namespace tree, the one read model of sd_get replies: built once per reply by the runner, each descriptor
decoded once per host whichever controls judge it, a descriptor that does not decode errs only the controls that read
its reply (with one named sentence), and no namespace control keeps state between decide and verify."""

from __future__ import annotations

import base64
import copy
import datetime
import sys
import typing as t
from pathlib import Path

import pytest
import yaml
from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

sys.path.insert(0, str(Path(__file__).resolve().parents[5]))  # the simulator package lives at the repository root

from ansible_collections.winsec.wmi.plugins.modules.baseline import DOCUMENTATION
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_doc
from ansible_collections.winsec.wmi.plugins.plugin_utils._baseline._run import run_baseline
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import (
    Control,
    Decision,
    HostContext,
    run_controls,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces import _namespace_tree
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd import NamespaceSd
from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_tree import (
    NamespaceTree,
    decode_descriptor,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_sddl, sd_to_bytes
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, op_value
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import FakeWmiCaller, facts

from simulator import wmi_state as sim_wmi_state
from simulator.fleet import build_host

TODAY = datetime.date(2026, 12, 7)
ROOT = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
INHERITED = ROOT.replace(";CI;", ";CIID;")
# A host with drift for every namespace control: Everyone writes root\cimv2, a product account holds WriteSecurity.
HOST = yaml.safe_load(r"""
name: tree01
profile: "2022"
domain: corp.example.com
domain_users: [svc_backup]
sacl: {root: "S:(AU;CISA;WD;;;WD)"}
extra_namespaces: ['root\ContosoBackup']
namespaces:
  root\ContosoBackup: "O:BAG:BAD:(A;CI;CCDCRPWPRCWD;;;{domain}-1100)"
  root\cimv2: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)"
""")
NAMESPACE_CONTROLS = ["WMI-002", "WMI-003", "WMI-004", "WMI-005", "WMI-006", "WMI-022"]


def b64(sddl: str) -> str:
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


def entry(namespace: str, sddl: str | None, **extra: t.Any) -> dict[str, t.Any]:
    return {"namespace": namespace, "sd": b64(sddl) if sddl else None, "error": None, **extra}


class SimulatedHost:
    """The WmiCaller an action plugin would be, answering from a simulated host; ``mutate`` may change a reply."""

    op_value = staticmethod(op_value)

    def __init__(self, mutate: t.Callable[[list[dict[str, t.Any]], list[dict[str, t.Any]]], None] | None = None):
        self.host = build_host(copy.deepcopy(HOST))
        self.admin = next(caller for caller in self.host.callers.values() if caller.admin)
        self.check_mode, self.diff_mode = True, False
        self.mutate = mutate

    def wmi_call(self, operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        results = sim_wmi_state.run(self.host, self.admin, {"operations": operations}, self.check_mode)[0]["results"]
        if self.mutate is not None:
            self.mutate(operations, results)
        return results


def baseline(host: SimulatedHost) -> dict[str, dict[str, t.Any]]:
    args = {
        "mode": "audit",
        "controls": NAMESPACE_CONTROLS,
        "namespace_audit": {"enabled": True},
        "namespace_sds": [{"namespace": "root\\cimv2", "sddl": ROOT}],
    }
    outcome = ArgumentSpecValidator(argspec_from_doc(DOCUMENTATION)).validate(args)
    assert not outcome.error_messages
    result = run_baseline(host, outcome.validated_parameters, TODAY)
    return {record["id"]: record for record in result["controls"]}


# --- the model ------------------------------------------------------------------------------------------------------


def test_an_entry_carries_the_name_as_read_its_key_and_the_descriptor_decoded():
    tree = NamespaceTree.from_entries(
        [entry("ROOT", ROOT), entry("Root\\CIMV2", INHERITED), entry("root\\CimV2\\Sms", INHERITED)]
    )
    root, cimv2, sms = tree.entries
    assert (cimv2.name, cimv2.key) == ("Root\\CIMV2", "ROOT\\CIMV2")
    assert cimv2.descriptor == sd_from_sddl(INHERITED) and cimv2.sd_base64 == b64(INHERITED)
    assert tree.parent(sms) is cimv2 and tree.parent(cimv2) is root and tree.parent(root) is None
    assert tree.descendants(root) == [cimv2, sms] and tree.descendants(sms) == []
    assert tree.entry("root/cimv2") is cimv2


def test_each_namespace_once_the_first_entry_wins():
    tree = NamespaceTree.from_entries([entry("root", ROOT), entry("ROOT", "O:BAG:BAD:(A;CI;CC;;;WD)")])
    assert [e.name for e in tree.entries] == ["root"]


def test_lookalike_namespaces_stay_apart():
    # WMI compares names with Windows' ordinal upper-casing, not a Unicode case fold (see _wmi_names).
    tree = NamespaceTree.from_entries([entry("root", ROOT), entry("root\\cimv\u212a", INHERITED)])
    assert tree.entry("root\\cimvk") is None and tree.entry("root\\cimv\u212a") is not None


def test_where_an_explicit_ace_applies():
    tree = NamespaceTree.from_entries(
        [
            entry("root", ROOT + "(A;CIIO;WP;;;WD)"),
            entry("root\\cimv2", INHERITED + "(A;CIIOID;WP;;;WD)"),
            entry("root\\cimv2\\sms", INHERITED + "(A;CIID;WP;;;WD)"),
        ]
    )
    root = tree.entries[0]
    grant = next(ace for ace in root.dacl if str(ace.sid) == "S-1-1-0")
    # Inherit-only: not on root itself, nor where the copy is inherit-only again; on the grandchild it applies.
    assert tree.applies_on(root, grant) == ["root\\cimv2\\sms"]


@pytest.mark.parametrize(
    ("sd_base64", "cause"),
    [
        (b64(ROOT) + "!", "not base64"),  # a character outside the alphabet is refused, never skipped
        ("AQID", "security descriptor"),  # base64 of three bytes: no descriptor
    ],
)
def test_a_descriptor_that_does_not_decode_is_the_entrys_problem_named_once(sd_base64, cause):
    tree = NamespaceTree.from_entries([entry("root", ROOT), {"namespace": "root\\cimv2", "sd": sd_base64}])
    good, bad = tree.entries
    assert good.descriptor is not None and bad.sd is None and not bad.unread
    with pytest.raises(
        WmiActionError, match=r"security descriptor of root\\cimv2 this collection cannot parse"
    ) as raised:
        bad.descriptor  # noqa: B018
    assert cause in raised.value.msg
    with pytest.raises(WmiActionError) as again:
        decode_descriptor(sd_base64, "root\\cimv2")
    assert again.value.msg == raised.value.msg
    with pytest.raises(WmiActionError):
        tree.readable()


def test_an_entry_the_host_could_not_read_keeps_its_error():
    tree = NamespaceTree.from_entries([{"namespace": "root", "sd": None, "error": {"code": "ACCESS_DENIED"}}])
    (root,) = tree.entries
    assert root.unread and root.error == {"code": "ACCESS_DENIED"}
    assert tree.readable().entries == ()


def test_a_failed_read_is_its_named_failure():
    tree = NamespaceTree.from_reply({"op": "sd_get", "failed": True, "error": {"code": "ACCESS_DENIED"}})
    with pytest.raises(WmiActionError, match="ACCESS_DENIED"):
        tree.checked("reading root")


# --- built once per reply by the runner -----------------------------------------------------------------------------


def test_the_runner_hands_every_control_the_same_model_of_a_reply():
    seen: list[t.Any] = []

    class Reader(Control):
        id, title, severity = "T-1", "reads root", "info"

        def reads(self) -> list[dict[str, t.Any]]:
            return [{"op": "sd_get", "namespace": "root", "recurse": True}]

        def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
            seen.append(results[0])
            return Decision("compliant")

    def reply(operations: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
        return [
            facts()
            if operation["op"] == "facts"
            else {"op": "sd_get", "failed": False, "namespaces": [entry("root", ROOT)]}
            for operation in operations
        ]

    run_controls(FakeWmiCaller(reply), [Reader(), Reader()], enforce=False)
    first, second = seen
    assert isinstance(first, NamespaceTree) and first is second
    assert first.entries[0].descriptor == sd_from_sddl(ROOT)


def test_each_descriptor_is_decoded_once_per_host(monkeypatch):
    decoded: list[int] = []
    real = _namespace_tree.sd_from_bytes

    def counting(data: t.Any) -> t.Any:
        decoded.append(len(data))
        return real(data)

    monkeypatch.setattr(_namespace_tree, "sd_from_bytes", counting)
    replies: list[list[dict[str, t.Any]]] = []
    records = baseline(SimulatedHost(lambda _operations, results: replies.append(results)))
    assert {records[c]["status"] for c in NAMESPACE_CONTROLS} <= {"compliant", "drift"}
    (reply,) = replies
    # One decode per namespace of each sd_get reply: WMI-003 to WMI-006 share one, WMI-002 and WMI-022 one each.
    entries = [e for result in reply if result["op"] == "sd_get" for e in result["namespaces"]]
    assert len(decoded) == len(entries)


@pytest.mark.parametrize(("read", "errs"), [("resolve_names", {"WMI-003", "WMI-004", "WMI-005", "WMI-006"}),
                                            ("sacl", {"WMI-022"})])  # fmt: skip
@pytest.mark.parametrize("bad_sd", ["!!!!", "AQID"])
def test_a_descriptor_that_does_not_decode_errs_only_the_controls_that_read_its_reply(read, errs, bad_sd):
    def corrupt(operations: list[dict[str, t.Any]], results: list[dict[str, t.Any]]) -> None:
        for operation, result in zip(operations, results, strict=True):
            if operation["op"] == "sd_get" and operation.get(read) and operation["namespace"] == "root":
                next(e for e in result["namespaces"] if e["namespace"].lower() == "root\\cimv2")["sd"] = bad_sd

    clean = baseline(SimulatedHost())
    damaged = baseline(SimulatedHost(corrupt))
    for control_id, record in damaged.items():
        if control_id in errs:
            assert record["status"] == "error", control_id
            # Named as the host spells it (the simulator, as Windows, says root\CIMV2).
            assert "security descriptor of root\\cimv2 this collection cannot parse" in record["reason"].lower()
        else:
            assert (record["status"], record["findings"]) == (
                clean[control_id]["status"],
                clean[control_id]["findings"],
            )


# --- decide is pure: what verify needs travels in the decision ------------------------------------------------------


def test_namespace_sd_verifies_each_decision_by_its_own_plan():
    host_facts = facts()
    host = HostContext(host_facts, os_profile(host_facts), check_mode=False, diff_mode=False, enforce=True)
    control = NamespaceSd(
        {"namespace": "root\\cimv2", "mode": "present", "sddl": None, "owner": None, "group": None,
         "allow_lockout": False, "aces": [{"principal": "S-1-5-32-558", "rights": ["Enable"], "type": "allow",
                                           "inherit": None}]}
    )  # fmt: skip

    def read(sddl: str) -> dict[str, t.Any]:
        return {"op": "sd_get", "failed": False, "namespaces": [entry("root\\cimv2", sddl)], "principals": {}}

    first = control.decide(host, [read(ROOT)])
    second = control.decide(host, [read("O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)")])  # another host's namespace
    assert first.writes and second.writes and first.writes[0]["sd"] != second.writes[0]["sd"]
    written = [{"op": "sd_set", "failed": False, "sd": first.writes[0]["sd"], "read_back_error": None}]
    assert control.verify(host, first, written).status == "remediated"
    # The other decision's descriptor read back is not what the first wrote: a named failure that says it changed.
    other = [{"op": "sd_set", "failed": False, "sd": second.writes[0]["sd"], "read_back_error": None}]
    with pytest.raises(WmiActionError, match="differs from the one written") as raised:
        control.verify(host, first, other)
    assert raised.value.result["changed"] is True and raised.value.result["expected_sddl"] == first.expected
