# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import re

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext, _write_order
from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._namespace_audit import NamespaceAudit
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd_model import SE_DACL_PRESENT, SE_SACL_PRESENT
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, WmiOperationError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import facts

from simulator.wmi_state import sacl_refusal

FACTS = facts()
DACL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)"


def host():
    return HostContext(FACTS, os_profile(FACTS), check_mode=True, diff_mode=False, enforce=False)


def b64(sddl):
    return base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode()


def read(sddl, sacl_read=True, namespace="root", below=(), sacl_returned=None):
    """An sd_get reply for ``namespace`` and the (name, SDDL) pairs ``below`` it, as recurse=True returns them;
    each descriptor came through GetSecurityDescriptor (sacl_returned) when the privilege was held."""
    entries = [(namespace, sddl), *below]
    returned = sacl_read if sacl_returned is None else sacl_returned
    return {
        "op": "sd_get",
        "failed": False,
        "namespaces": [
            {"namespace": name, "sd": b64(text), "error": None, "sacl_returned": returned} for name, text in entries
        ],
        "sacl_read": sacl_read,
    }


def decide(*results, namespaces=None):
    return NamespaceAudit.from_options({"namespaces": namespaces}).decide(host(), list(results))


def test_reads_ask_for_the_sacl():
    assert NamespaceAudit().reads() == [{"op": "sd_get", "namespace": "root", "recurse": True, "sacl": True}]
    # A namespace inside another's subtree is read with it, not again.
    nested = NamespaceAudit(namespaces=["root\\cimv2", "ROOT/CIMV2/Security", "root/default"])
    assert [op["namespace"] for op in nested.reads()] == ["root\\cimv2", "root\\default"]
    assert [op["namespace"] for op in NamespaceAudit(namespaces=["root\\cimv2", "root"]).reads()] == ["root"]


CHILD = "O:BAG:BAD:(A;CIID;CCDCLCSWRPWPRCWD;;;BA)"


@pytest.mark.parametrize("ace", ["(AU;CISA;WD;;;WD)", "(AU;CISAFA;CCWD;;;AU)"])
def test_audited(ace):
    below = [("root\\cimv2", f"{CHILD}S:(AU;CIIDSA;WD;;;WD)")]
    decision = decide(read(f"{DACL}S:{ace}", below=below))
    assert decision.status == "compliant" and decision.result["audited"] == ["root", "root\\cimv2"]
    assert decision.findings == []


def test_an_entry_for_administrators_only_misses_the_accounts_that_matter():
    # A service account granted WriteSecurity (what WMI-004 reports) changes the namespace without an event.
    decision = decide(read(f"{DACL}S:(AU;CISA;WD;;;BA)"))
    assert decision.status == "drift"
    (finding,) = decision.findings
    assert finding["id"] == "security_changes_not_audited" and "S-1-5-32-544" in finding["message"]


@pytest.mark.parametrize(
    "sacl",
    [
        "",  # no SACL at all
        "S:(AU;CIFA;WD;;;WD)",  # failures only
        "S:(AU;CISA;RC;;;WD)",  # ReadSecurity, not WriteSecurity
        "S:(AU;CIIOSA;WD;;;WD)",  # inherit-only: not effective on root itself
        "S:(AU;CISA;WD;;;S-1-5-21-1-2-3-1001)",  # one user, not the administrators who can change it
    ],
)
def test_not_audited(sacl):
    decision = decide(read(DACL + sacl))
    assert decision.status == "drift"
    assert [f["id"] for f in decision.findings] == ["security_changes_not_audited"]
    assert "S:(AU;CISA;WD;;;WD)" in decision.remediation and decision.automatic is False


@pytest.mark.parametrize(
    ("root_sacl", "child_sacl"),
    [
        ("S:(AU;SA;WD;;;WD)", ""),  # not container-inherit: the children get nothing
        ("S:(AU;CINPSA;WD;;;WD)", "S:(AU;IDSA;WD;;;WD)"),  # no-propagate: the child has it, the grandchild does not
    ],
)
def test_a_namespace_below_that_is_not_audited_is_drift_and_fixed_at_the_root(root_sacl, child_sacl):
    below = [("root\\cimv2", CHILD + child_sacl), ("root\\cimv2\\Security", CHILD)]
    _control, _context, decision = enforce(read(DACL + root_sacl, below=below))
    assert decision.status == "drift"
    (finding,) = decision.findings
    assert finding["id"] == "security_audit_not_inherited"
    # One finding, on the namespace whose entry falls short (its SACL is the evidence), naming what it misses.
    missing = ["root\\cimv2\\Security"] if child_sacl else ["root\\cimv2", "root\\cimv2\\Security"]
    assert finding["namespace"] == "root" and finding["namespaces"] == missing
    assert finding["sacl"] == root_sacl
    # root's own entry is not meant for every namespace below: the recommended one goes on root, next to it.
    (write,) = decision.writes
    assert write["namespace"] == "root"
    assert sd_to_sddl(written_sd(write)) == root_sacl + "(AU;CISA;WD;;;WD)"


def test_a_namespace_the_root_entry_does_not_reach_gets_its_own():
    # root's entry is meant for every namespace below, yet Windows reports none on root\cimv2 (inheritance stopped
    # there): the entry goes on root\cimv2 itself, and its subtree is listed.
    below = [
        ("root\\cimv2", CHILD),
        ("root\\cimv2\\Security", CHILD),
        ("root\\default", f"{CHILD}S:(AU;CIIDSA;WD;;;WD)"),
    ]
    _control, _context, decision = enforce(read(f"{DACL}S:(AU;CISA;WD;;;WD)", below=below))
    (finding,) = decision.findings
    assert finding["namespaces"] == ["root\\cimv2", "root\\cimv2\\Security"]
    assert [write["namespace"] for write in decision.writes] == ["root\\cimv2"]
    assert decision.result["audited"] == ["root", "root\\default"]


def test_a_namespace_whose_descriptor_cannot_be_read_is_not_assumed_audited():
    reply = read(f"{DACL}S:(AU;CISA;WD;;;WD)")
    reply["namespaces"].append({"namespace": "root\\cimv2", "sd": None, "error": {"code": "WMI", "hresult": 1}})
    with pytest.raises(WmiActionError, match=r"root\\cimv2 could not be read"):
        decide(reply)


def test_without_the_privilege_it_says_so_not_no_sacl():
    decision = decide(read(DACL, sacl_read=False))
    assert decision.status == "error"
    assert "SeSecurityPrivilege" in decision.reason
    assert [f["id"] for f in decision.findings] == ["sacl_unreadable"]
    assert "not 'no SACL'" in decision.findings[0]["message"]


def test_several_namespaces_and_a_failed_read():
    audited = read(f"{DACL}S:(AU;CISA;WD;;;WD)", namespace="root\\cimv2")
    bare = read(DACL, namespace="root\\subscription")
    decision = decide(audited, bare, namespaces=["root/cimv2", "root/subscription"])
    assert decision.status == "drift" and decision.result["audited"] == ["root\\cimv2"]
    failed = {"op": "sd_get", "failed": True, "error": {"code": "WMI", "hresult": 0x80041003, "message": "denied"}}
    with pytest.raises(WmiOperationError):
        decide(failed)


def enforce(*results, namespaces=None, check_mode=False):
    control = NamespaceAudit.from_options({"namespaces": namespaces, "set_sacl": True})
    context = HostContext(FACTS, os_profile(FACTS), check_mode=check_mode, diff_mode=True, enforce=True)
    return control, context, control.decide(context, list(results))


def written_sd(write):
    return sd_from_bytes(base64.b64decode(write["sd"]))


def test_report_only_by_default_even_when_enforcing():
    control = NamespaceAudit()
    context = HostContext(FACTS, os_profile(FACTS), check_mode=False, diff_mode=False, enforce=True)
    decision = control.decide(context, [read(DACL)])
    assert decision.status == "drift" and decision.writes == [] and decision.automatic is False


@pytest.mark.parametrize(
    ("sacl", "expected_sacl"),
    [
        ("", "S:(AU;CISA;WD;;;WD)"),
        # The namespace's own entries are kept; the inherited one is its parent's and is not written.
        ("S:(AU;CIFA;WD;;;WD)(AU;IDSA;CC;;;WD)", "S:(AU;CIFA;WD;;;WD)(AU;CISA;WD;;;WD)"),
        # A protected SACL stays protected.
        ("S:P(AU;SA;RC;;;BA)", "S:P(AU;SA;RC;;;BA)(AU;CISA;WD;;;WD)"),
    ],
)
def test_set_sacl_adds_the_entry_and_sends_a_sacl_alone(sacl, expected_sacl):
    before = read(DACL + sacl)
    _control, _context, decision = enforce(before)
    (write,) = decision.writes
    assert write["op"] == "sacl_set" and write["namespace"] == "root"
    assert write["expected_sd"] == before["namespaces"][0]["sd"]
    sent = written_sd(write)
    # Nothing but the SACL: this write cannot change the DACL, the owner or the group (SetSecurityDescriptor keeps
    # every part whose SE_*_PRESENT bit is clear); the simulator and wmi_state refuse anything else.
    assert sent.dacl is None and sent.owner is None and sent.group is None
    assert sent.control & SE_DACL_PRESENT == 0 and sent.control & SE_SACL_PRESENT
    assert sacl_refusal(write["sd"]) is None
    assert sd_to_sddl(sent) == expected_sacl
    assert decision.automatic and decision.changes == ["root: SACL + (AU;CISA;WD;;;WD)"]
    # The diff shows the SACL as it will read: the entries written, then the inherited ones as read.
    assert decision.diff["after_header"] == "root (namespace SACL)"
    inherited = "".join(ace for ace in re.findall(r"\([^)]*\)", sacl) if ";ID" in ace)
    assert decision.diff["after"].splitlines()[0] == f"sacl: {expected_sacl}{inherited}"
    assert decision.diff["before"].splitlines()[0] == f"sacl: {sacl or 'none'}"


def test_set_sacl_writes_nothing_where_auditing_is_there_or_unknown():
    _control, _context, audited = enforce(read(f"{DACL}S:(AU;CISA;WD;;;WD)"))
    assert audited.status == "compliant" and audited.writes == []
    _control, _context, unknown = enforce(read(DACL, sacl_read=False))
    assert unknown.status == "error" and unknown.writes == []


def test_verify_checks_the_sacl_read_back():
    control, context, decision = enforce(read(DACL))
    good = {"op": "sacl_set", "failed": False, "sd": read(f"{DACL}S:(AU;CISA;WD;;;WD)")["namespaces"][0]["sd"]}
    remediated = control.verify(context, decision, [good])
    assert remediated.status == "remediated" and remediated.result["audited"] == ["root"]
    ignored = {"op": "sacl_set", "failed": False, "sd": read(DACL)["namespaces"][0]["sd"]}
    with pytest.raises(WmiActionError, match="does not audit WriteSecurity"):
        control.verify(context, decision, [ignored])
    refused = {"op": "sacl_set", "failed": True, "error": {"code": "PRIVILEGE", "hresult": None, "message": "x"}}
    with pytest.raises(WmiOperationError, match="SeSecurityPrivilege"):
        control.verify(context, decision, [refused])


@pytest.mark.parametrize(
    "sddl",
    [
        DACL + "S:(AU;CISA;WD;;;WD)",  # a DACL too: could change access
        "O:BAS:(AU;CISA;WD;;;WD)",  # an owner
        "G:BAS:(AU;CISA;WD;;;WD)",  # a group
        "D:(A;;CC;;;WD)",  # no SACL
    ],
)
def test_a_sacl_write_carrying_anything_else_is_refused_on_the_host(sddl):
    assert sacl_refusal(base64.b64encode(sd_to_bytes(sd_from_sddl(sddl))).decode())
    assert sacl_refusal(base64.b64encode(b"\x01\x00\x10\x80" + b"\x00" * 16).decode())  # SACL present, offset 0


def test_sacl_writes_go_before_dacl_writes_and_deepest_first():
    operations = [
        {"op": "sd_set", "namespace": "root"},
        {"op": "sacl_set", "namespace": "root"},
        {"op": "sd_set", "namespace": "root\\cimv2"},
        {"op": "registry_write", "value": "x"},
        {"op": "sacl_set", "namespace": "root\\cimv2"},
    ]
    ordered = sorted(operations, key=_write_order)
    assert [(o["op"], o.get("namespace")) for o in ordered] == [
        ("registry_write", None),
        ("sacl_set", "root\\cimv2"),
        ("sacl_set", "root"),
        ("sd_set", "root\\cimv2"),
        ("sd_set", "root"),
    ]


def test_a_sacl_the_host_did_not_return_is_unknown_never_empty():
    # GetSecurityDescriptor failed and the descriptor is GetSD's, which is not documented to carry the SACL: writing
    # the recommended entry alone would replace audit entries nobody has read.
    _control, _context, unknown = enforce(read(DACL, below=[("root\\cimv2", DACL)], sacl_returned=False))
    assert unknown.status == "error" and unknown.writes == []
    assert "did not return the SACL of root, root\\cimv2" in unknown.findings[0]["message"]


def test_an_existing_sacl_entry_win32_ace_cannot_carry_is_refused_before_contact():
    # A mandatory label (type 0x11) among the namespace's own SACL entries would not survive BinarySDToWin32SD.
    with pytest.raises(WmiActionError) as refused:
        enforce(read(f"{DACL}S:(ML;;NW;;;LW)"))
    assert "ACE type 0x11" in refused.value.msg and "nothing was written" in refused.value.msg
