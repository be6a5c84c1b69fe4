# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lock-out guard is an access check: unit cases for each class of issue 8, and a property test of the guard
(plan with descendants) against an independent oracle, the simulator's own namespace model and access check."""

from __future__ import annotations

import copy
import os
import sys
import typing as t
from pathlib import Path

import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parents[5]
if str(REPO_ROOT) not in sys.path:  # the simulator package lives at the repository root
    sys.path.insert(0, str(REPO_ROOT))

from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_sd_plan import (  # noqa: E402
    NamespaceSdRefusal,
    parse_request,
    plan,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._access_check import (  # noqa: E402
    ADMIN_NETWORK_TOKEN,
    SYSTEM_TOKEN,
    control_loss,
    granted_rights,
    inherit_to_child,
    namespaces_after,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Ace, Sid, sd_from_sddl  # noqa: E402

from simulator import namespaces as sim  # noqa: E402

BASE = {"mode": "exact", "sddl": None, "aces": None, "owner": None, "group": None, "allow_lockout": False}
ADMIN = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"
DEFAULT = "(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
INHERITED = "(A;CIID;CCDCLCSWRPWPRCWD;;;BA)(A;CIID;CCDCRP;;;NS)(A;CIID;CCDCRP;;;LS)(A;CIID;CCDCRP;;;AU)"


def dacl(sddl: str) -> tuple[Ace, ...]:
    sd = sd_from_sddl(sddl)
    assert sd.dacl is not None
    return sd.dacl.aces


def refusal(params: dict[str, t.Any], current: str, descendants: t.Sequence[tuple[str, str]] = ()) -> str | None:
    """The refusal code of a request against a host state (None = accepted), before or after the read."""
    try:
        request = parse_request({**BASE, **params})
        plan(request, sd_from_sddl(current), descendants=[(path, sd_from_sddl(sddl)) for path, sddl in descendants])
    except NamespaceSdRefusal as refused:
        return refused.result["refusal"]
    return None


# --- the access check ------------------------------------------------------------------------------------------


def test_ordered_walk_deny_decides_only_bits_not_yet_granted() -> None:
    net = ADMIN_NETWORK_TOKEN
    assert granted_rights(dacl("D:(A;;CC;;;BA)(D;;CC;;;BA)"), net, None, owner_rule=False) == 0x1
    assert granted_rights(dacl("D:(D;;CC;;;BA)(A;;CCRC;;;BA)"), net, None, owner_rule=False) == 0x20000
    # Inherit-only ACEs apply to children only.
    assert granted_rights(dacl("D:(D;CIIO;CC;;;WD)(A;;CC;;;BA)"), net, None, owner_rule=False) == 0x1
    # Group membership: a deny to Everyone reaches Administrators and SYSTEM.
    assert granted_rights(dacl("D:(D;;CC;;;WD)" + ADMIN), SYSTEM_TOKEN, None, owner_rule=False) == 0x6003E
    assert granted_rights(None, SYSTEM_TOKEN, None, owner_rule=False) == 0xFFFFFFFF  # NULL DACL


def test_owner_rule_both_readings() -> None:
    # Owner BA: implicit ReadSecurity/WriteSecurity only with the owner rule, and no deny takes it away (MS-DTYP).
    aces = dacl("D:(D;;WD;;;BA)(A;;CC;;;BA)")
    assert granted_rights(aces, ADMIN_NETWORK_TOKEN, "S-1-5-32-544", owner_rule=True) == 0x60001
    assert granted_rights(aces, ADMIN_NETWORK_TOKEN, "S-1-5-32-544", owner_rule=False) == 0x1
    # An OWNER RIGHTS ACE turns the implicit rights off and applies to the owner.
    aces = dacl("D:(A;;CCRC;;;OW)")
    assert granted_rights(aces, ADMIN_NETWORK_TOKEN, "S-1-5-32-544", owner_rule=True) == 0x20001
    assert granted_rights(aces, ADMIN_NETWORK_TOKEN, "S-1-5-32-544", owner_rule=False) == 0
    assert granted_rights(aces, ADMIN_NETWORK_TOKEN, "S-1-5-18", owner_rule=True) == 0


# --- the guard, by class (each of these was accepted and written before this change) ------------------------


@pytest.mark.parametrize(
    "sddl",
    [
        # Enable denied to Administrators: WMI needs Enable before GetSD/SetSD can run.
        "O:BAG:BAD:(D;;CC;;;BA)" + ADMIN,
        "O:BAG:BAD:(D;CI;CC;;;BA)" + ADMIN + "(A;CI;CCRCWD;;;SY)",
        # Denies to groups that hold Administrators and SYSTEM.
        "O:BAG:BAD:(D;;WD;;;WD)" + ADMIN,
        "O:BAG:BAD:(D;;RC;;;AU)" + ADMIN,
        # Users, NETWORK and INTERACTIVE hold Administrators but not SYSTEM: SYSTEM is denied on its own here.
        "O:BAG:BAD:(D;;CC;;;BU)(D;;CC;;;SY)" + ADMIN,
        "O:BAG:BAD:(D;;CC;;;NU)(D;;WD;;;SY)" + ADMIN,
        "O:BAG:BAD:(D;;WD;;;IU)(D;;RC;;;SY)" + ADMIN,
        # OWNER RIGHTS applies to the owner (BA here; SYSTEM is in Administrators, so it is covered too).
        "O:BAG:BAD:(D;;CC;;;OW)" + ADMIN,
        # This Organization, Local account and member of Administrators.
        "O:BAG:BAD:(D;;CC;;;S-1-5-15)(D;;CC;;;SY)" + ADMIN,
        "O:BAG:BAD:(D;;RC;;;S-1-5-114)(D;;RC;;;SY)" + ADMIN,
        # Only ReadSecurity/WriteSecurity kept, no Enable (the old check accepted it).
        "O:BAG:BAD:(A;CI;RCWD;;;BA)(A;CI;DCRP;;;SY)",
    ],
)
def test_lockout_classes_refused_before_contact_on_root(sddl: str) -> None:
    assert refusal({"namespace": "root", "sddl": sddl}, "O:BAG:BAD:" + ADMIN + DEFAULT) == "lockout"
    assert refusal({"namespace": "root", "sddl": sddl, "allow_lockout": True}, "O:BAG:BAD:" + ADMIN) is None


@pytest.mark.parametrize("deny", ["(D;;CC;;;BU)", "(D;;CC;;;NU)", "(D;;WD;;;IU)", "(D;;CC;;;S-1-5-114)"])
def test_system_keeping_control_is_not_enough(deny: str) -> None:
    # SYSTEM is in none of these groups and keeps everything through BA, but every administrator (over WinRM, or at
    # the console for IU) loses a right: this collection could no longer read or repair the namespace.
    assert refusal({"namespace": "root", "sddl": "O:BAG:BAD:" + deny + ADMIN}, "O:BAG:BAD:" + ADMIN) == "lockout"


@pytest.mark.parametrize("deny", ["(D;;CC;;;SY)", "(D;;RC;;;SY)"])
def test_administrators_keeping_control_is_not_enough(deny: str) -> None:
    # Administrators keep everything, SYSTEM (services, scheduled tasks repairing the host) does not.
    assert refusal({"namespace": "root", "sddl": "O:BAG:BAD:" + deny + ADMIN}, "O:BAG:BAD:" + ADMIN) == "lockout"


def test_lockout_message_names_token_right_and_namespace() -> None:
    with pytest.raises(NamespaceSdRefusal) as refused:
        parse_request({**BASE, "namespace": "root", "sddl": "O:BAG:BAD:(D;;CC;;;BA)" + ADMIN})
    text = refused.value.msg
    assert "on root BUILTIN\\Administrators (elevated, network logon as over WinRM) would lack Enable" in text
    assert "NT AUTHORITY\\SYSTEM would lack Enable" in text
    assert "allow_lockout: true is the only way through" in text and "never the SetSD rules" in text


def test_inherit_children_deny_on_root_locks_every_child_out() -> None:
    # A change on root, inherit: children, that denies Enable on every child namespace.
    params = {
        "namespace": "root",
        "mode": "present",
        "aces": [{"principal": "Everyone", "rights": ["Enable"], "type": "deny", "inherit": "children"}],
    }
    current = "O:BAG:BAD:" + ADMIN + DEFAULT
    assert refusal(params, current) is None  # root itself keeps control ...
    descendants = [("root\\cimv2", "O:BAG:BAD:" + INHERITED), ("root\\cimv2\\sms", "O:BAG:BAD:" + INHERITED)]
    assert refusal(params, current, descendants) == "lockout"  # ... every child does not
    with pytest.raises(NamespaceSdRefusal) as refused:
        plan(
            parse_request({**BASE, **params}),
            sd_from_sddl(current),
            descendants=[(path, sd_from_sddl(sddl)) for path, sddl in descendants],
        )
    assert "on root\\cimv2 " in refused.value.msg and "on root\\cimv2\\sms " in refused.value.msg
    assert "after reading the host's descriptor" in refused.value.msg
    # A child whose own explicit ACEs grant control first keeps it (explicit ACEs come before inherited ones).
    own_grant = [("root\\cimv2", "O:BAG:BAD:(A;;CCRCWD;;;BA)" + INHERITED)]
    assert refusal(params, current, own_grant) is None


def test_protecting_a_namespace_cuts_its_children_off_not_itself() -> None:
    # MS-WMI 2.2.30.2: the parent's SE_DACL_PROTECTED stops its ACEs reaching the children; the namespace itself
    # keeps inheriting. cimv2 (no explicit ACE) made protected with no ACEs: itself keeps root's ACEs, sms loses all.
    current = "O:BAG:BAD:" + INHERITED
    params = {"namespace": "root\\cimv2", "sddl": "D:P"}
    assert refusal(params, current) is None
    assert refusal(params, current, [("root\\cimv2\\sms", "O:BAG:BAD:" + INHERITED)]) == "lockout"
    sms_own_admin_ace = "O:BAG:BAD:(A;;CCDCLCSWRPWPRCWD;;;BA)" + INHERITED
    assert refusal(params, current, [("root\\cimv2\\sms", sms_own_admin_ace)]) is None


def test_descendant_already_out_of_control_is_not_this_changes_doing() -> None:
    params = {"namespace": "root", "mode": "present", "aces": [{"principal": "AU", "rights": ["RemoteAccess"]}]}
    locked = [("root\\locked", "O:BAG:BAD:P(A;;CC;;;AU)")]
    assert refusal(params, "O:BAG:BAD:" + ADMIN, locked) is None


def test_child_namespace_inherited_deny_counts() -> None:
    params = {"namespace": "root\\cimv2", "mode": "absent", "aces": [{"principal": "BA", "rights": ["Enable"]}]}
    current = "O:BAG:BAD:(A;;CCDCRCWD;;;BA)(D;CIID;CC;;;WD)" + INHERITED
    assert refusal(params, current) == "lockout"


# --- inheritance mirrors the simulator --------------------------------------------------------------------------

FLAG_CHOICES = [0, 0x2, 0x2 | 0x4, 0x2 | 0x8, 0x2 | 0x4 | 0x8, 0x1 | 0x2, 0x1, 0x1 | 0x8 | 0x2]


@given(st.lists(st.tuples(st.sampled_from([0, 1]), st.sampled_from(FLAG_CHOICES), st.integers(1, 0x3F)), max_size=6))
def test_inherit_to_child_matches_the_simulator(specs: list[tuple[int, int, int]]) -> None:
    aces = [Ace(kind, flags, mask, Sid(1, (0,))) for kind, flags, mask in specs]
    ours = [(a.type, a.flags, a.mask) for a in inherit_to_child(aces)]
    theirs = [(a.type, a.flags, a.mask) for a in sim.inherit_to_child(sim.NsAce(*s, "S-1-1-0") for s in specs)]
    assert ours == theirs


def test_namespaces_after_recomputes_each_descendant() -> None:
    after = namespaces_after(
        "root",
        "S-1-5-32-544",
        dacl("D:(A;CI;CC;;;WD)(A;CINP;RC;;;AU)"),
        False,
        (),
        [
            ("root\\a", sd_from_sddl("O:BAG:BAD:(A;;DC;;;BU)(A;CIID;CCDC;;;BA)")),
            ("root\\a\\b", sd_from_sddl("O:BAG:BAD:(A;CIID;CCDC;;;BA)")),
            ("root\\p", sd_from_sddl("O:BAG:BAD:P(A;;CC;;;SY)")),
            ("root\\p\\q", sd_from_sddl("O:BAG:BAD:(A;;CC;;;BU)(A;CIID;CC;;;WD)")),
        ],
    )
    effective = {state.namespace: [str(a.sid) + hex(a.flags) for a in state.effective or ()] for state in after}
    # CINP: CI cleared on the copy, NP kept.
    assert effective["root\\a"] == ["S-1-5-32-545" + "0x0", "S-1-1-0" + "0x12", "S-1-5-11" + "0x14"]
    assert effective["root\\a\\b"] == ["S-1-1-0" + "0x12"]
    # A protected namespace still inherits (only a protected PARENT stops inheritance, MS-WMI 2.2.30.2) ...
    assert effective["root\\p"] == ["S-1-5-18" + "0x0", "S-1-1-0" + "0x12", "S-1-5-11" + "0x14"]
    # ... and passes nothing down.
    assert effective["root\\p\\q"] == ["S-1-5-32-545" + "0x0"]
    assert control_loss("root", after[0].effective, "S-1-5-32-544") is not None


# --- property: the guard against the simulator's access check ---------------------------------------------------

# The oracle's tokens, written out independently of _access_check (same SIDs: the rule under test is the algorithm,
# not the token contents).
ORACLE_ADMIN_COMMON = ["S-1-5-32-544", "S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-5-15", "S-1-5-113", "S-1-5-114"]
ORACLE_ADMINS = [
    [*ORACLE_ADMIN_COMMON, "S-1-5-2"],
    [*ORACLE_ADMIN_COMMON, "S-1-5-4", "S-1-2-0", "S-1-2-1"],
]
ORACLE_SYSTEM = [["S-1-5-18", "S-1-5-32-544", "S-1-1-0", "S-1-5-11"]]
# Of SID_POOL, what an administrator's token may hold depending on the account: a domain's Domain Admins (RID 512).
ORACLE_ADMIN_POSSIBLE = frozenset({"S-1-5-21-1-2-3-512"})
NEEDED = sim.WBEM_ENABLE | sim.READ_CONTROL | sim.WRITE_DAC

SID_POOL = [
    "S-1-5-32-544",
    "S-1-5-18",
    "S-1-1-0",
    "S-1-5-11",
    "S-1-5-32-545",
    "S-1-5-2",
    "S-1-5-4",
    "S-1-3-4",
    "S-1-5-15",
    "S-1-5-114",
    "S-1-5-21-1-2-3-512",
    "S-1-5-21-7-8-9-1107",
]
OWNER_POOL = ["S-1-5-32-544", "S-1-5-18", "S-1-5-32-545", "S-1-5-21-7-8-9-1107"]
RIGHT_BITS = [0x1, 0x2, 0x10, 0x20, 0x20000, 0x40000]
MASKS = st.one_of(
    st.sets(st.sampled_from(RIGHT_BITS), min_size=1).map(sum),
    st.sampled_from([0x6003F, 0x1C, 0x60001]),
)
REQUEST_FLAGS = [0, 0x2, 0x2 | 0x4, 0x2 | 0x8, 0x2 | 0x4 | 0x8, 0x1 | 0x2]
ACES = st.tuples(st.sampled_from([0, 1]), st.sampled_from(REQUEST_FLAGS), MASKS, st.sampled_from(SID_POOL))


def oracle_locked(tree: sim.NamespaceTree, path: str) -> bool:
    """Administrators (either logon) or SYSTEM lose Enable+ReadSecurity+WriteSecurity, in either reading of the
    owner rule, per the simulator's access_mask.

    The simulator gives the owner no implicit rights and matches OWNER RIGHTS (S-1-3-4) by SID in the token, so the
    reading with the owner rule adds S-1-3-4 to a token that holds the owner, and the reading without drops the
    owner. Where the guard and the simulator differ - the guard's MS-DTYP reading also grants the owner implicit
    ReadSecurity/WriteSecurity when the DACL has no OWNER RIGHTS ACE - the two readings are then identical walks
    apart from that grant, so the reading without the owner rule (the same in both) decides the verdict: the guard
    and this oracle must agree on every case, and the property asserts exactly that.
    """
    effective = tree.effective(path)
    ownerless = sim.EffectiveSd(None, effective.group, effective.aces, effective.protected)
    for sd, with_owner in ((effective, True), (ownerless, False)):

        def keeps(
            tokens: list[list[str]], possible: frozenset[str], sd: sim.EffectiveSd = sd, with_owner: bool = with_owner
        ) -> bool:
            # A SID some such token may hold: its deny counts, its allow does not (the allow is dropped, the SID added).
            aces = None if sd.aces is None else tuple(a for a in sd.aces if a.type != 0 or a.sid not in possible)
            walked = sim.EffectiveSd(sd.owner, sd.group, aces, sd.protected)
            for token in tokens:
                sids = [*token, *possible, "S-1-3-4"] if with_owner and sd.owner in token else [*token, *possible]
                if sim.access_mask(walked, sids) & NEEDED != NEEDED:
                    return False
            return True

        if not (keeps(ORACLE_ADMINS, ORACLE_ADMIN_POSSIBLE) and keeps(ORACLE_SYSTEM, frozenset())):
            return True
    return False


def flag_letters(flags: int) -> str:
    return "".join(letters for bit, letters in ((0x1, "OI"), (0x2, "CI"), (0x4, "NP"), (0x8, "IO")) if flags & bit)


def to_sddl(owner: str, protected: bool, aces: t.Sequence[tuple[int, int, int, str]]) -> str:
    body = "".join(
        f"({'D' if kind else 'A'};{flag_letters(flags)};{mask:#x};;;{sid})" for kind, flags, mask, sid in aces
    )
    return f"O:{owner}G:BAD:{'P' if protected else ''}{body}"


@st.composite
def host_and_change(draw: st.DrawFn) -> tuple[sim.NamespaceTree, str, dict[str, t.Any]]:
    tree = sim.NamespaceTree(pre_2003=False)
    tree.add("root", "O:BAG:BAD:" + ADMIN + draw(st.sampled_from(["", DEFAULT, "(A;CI;CCRCWD;;;SY)"])))
    paths = ["root"]
    for index in range(draw(st.integers(0, 5))):
        parent = draw(st.sampled_from(paths))
        path = f"{parent}\\n{index}"
        aces = draw(st.lists(ACES, max_size=3))
        tree.add(path, to_sddl(draw(st.sampled_from(OWNER_POOL)), draw(st.booleans()) and bool(aces), aces))
        paths.append(path)
    target = draw(st.sampled_from(paths))
    mode = draw(st.sampled_from(["exact", "exact", "present", "absent"]))
    aces = draw(st.lists(ACES, max_size=4, min_size=0 if mode == "exact" else 1))
    params: dict[str, t.Any]
    if mode == "exact":
        params = {"sddl": to_sddl("BA", draw(st.booleans()), aces).replace("O:BAG:BA", "")}
    else:
        inherit = {0: "this", 0x2: "this_and_children", 0x6: "this_and_immediate_children", 0xA: "children"}
        params = {
            "aces": [
                {
                    "principal": sid,
                    "rights": [hex(mask)],
                    "type": "deny" if kind else "allow",
                    "inherit": inherit.get(flags & 0xE, "this_and_children"),
                }
                for kind, flags, mask, sid in aces
            ]
        }
    return tree, target, {**BASE, **params, "namespace": target, "mode": mode}


def _decide(tree: sim.NamespaceTree, target: str, params: dict[str, t.Any]) -> t.Any:
    descendants = [(node.path, tree.sd_model(node.path)) for node in list(tree.walk(target))[1:]]
    return plan(parse_request(params), tree.sd_model(target), descendants=descendants)


# GUARD_EXAMPLES raises the count for a longer hunt (e.g. GUARD_EXAMPLES=5000).
@settings(
    max_examples=int(os.environ.get("GUARD_EXAMPLES", "600")),
    deadline=None,
    suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow],
)
@given(host_and_change())
def test_guard_agrees_with_the_simulators_access_check(case: tuple[sim.NamespaceTree, str, dict[str, t.Any]]) -> None:
    tree, target, params = case
    subtree = [node.path for node in tree.walk(target)]
    assume(not any(oracle_locked(tree, path) for path in subtree))  # a host under control before the change
    try:
        forced = _decide(tree, target, {**params, "allow_lockout": True})
    except NamespaceSdRefusal as refused:
        # Refused for a reason other than lock-out (allow_lockout bypasses only empty DACL and lock-out).
        event(f"refused even when forced: {refused.result['refusal']}")
        return
    if not forced.changed:
        event("no change")
        return
    # The oracle applies the descriptor that would be written to a copy of the host and checks every namespace.
    after = copy.deepcopy(tree)
    node = after.get(target)
    assert forced.candidate.dacl is not None
    node.explicit = [sim.NsAce(a.type, a.flags, a.mask, str(a.sid)) for a in forced.candidate.dacl.aces]
    node.protected = bool(forced.candidate.control & sim.SE_DACL_PROTECTED)
    locked = [path for path in subtree if oracle_locked(after, path)]
    try:
        _decide(tree, target, params)
        verdict = None
    except NamespaceSdRefusal as refused:
        verdict = refused.result["refusal"]
    event("oracle: lock-out" if locked else "oracle: safe")
    host = {path: tree.sddl(path) for path in subtree}
    if locked:
        assert verdict in ("lockout", "empty_dacl"), (host, params, locked)
    else:
        assert verdict is None, (host, params, verdict)
