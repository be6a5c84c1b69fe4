# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The audit never calls drift compliant: generated host states (a namespace tree in the simulator's model, read
as GetSD returns it) against a hand-written truth of finding ids per namespace."""

from __future__ import annotations

import base64
import sys
import typing as t
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

REPO_ROOT = Path(__file__).resolve().parents[5]
if str(REPO_ROOT) not in sys.path:  # the simulator package lives at the repository root
    sys.path.insert(0, str(REPO_ROOT))

from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_findings import (  # noqa: E402
    BROAD_PRINCIPALS,
    is_broad_sid,
    namespace_reports,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_to_bytes  # noqa: E402
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import facts  # noqa: E402

from simulator import namespaces as sim  # noqa: E402

ADMIN = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"
ROOT = "O:BAG:BAD:" + ADMIN + "(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"
DOMAIN = "S-1-5-21-1004336348-1177238915-682003330"
CHILDREN = ("root\\cimv2", "root\\cimv2\\sms", "root\\subscription")


def read(tree: dict[str, str | None], only: t.Sequence[str] | None = None) -> list[dict[str, t.Any]]:
    """Build the tree in the simulator's model and read it as sd_get with recurse does (GetSD: explicit and
    inherited ACEs), parents before children."""
    model = sim.NamespaceTree(pre_2003=False)
    for path, sddl in tree.items():
        model.add(path, sddl)
    paths = [node.path for node in model.walk("root")]
    if only is not None:
        paths = [path for path in paths if path in only]
    return [
        {"namespace": path, "sd": base64.b64encode(sd_to_bytes(model.sd_model(path))).decode(), "error": None}
        for path in paths
    ]


def ids(reports: list[dict[str, t.Any]]) -> dict[str, set[str]]:
    return {report["namespace"]: {finding["id"] for finding in report["findings"]} for report in reports}


def tree(root: str = ROOT, **explicit: str) -> dict[str, str | None]:
    """root plus the children, each with no explicit ACE (all inherited) unless given (key: path with __)."""
    given = {key.replace("__", "\\"): sddl for key, sddl in explicit.items()}
    return {"root": root, **{path: given.get(path) for path in CHILDREN}}


NONE: set[str] = set()
# (host state, expected finding ids per namespace). Hand-written: each line says what an auditor must see.
TRUTH: list[tuple[str, dict[str, str | None], dict[str, set[str]]]] = [
    ("windows defaults", tree(), {"root": NONE, **dict.fromkeys(CHILDREN, NONE)}),
    (
        "inherit-only write + remote for Everyone on root reaches every child",
        tree(ROOT + "(A;CIIO;CCDCLCSWRPWP;;;WD)"),
        {"root": {"broad_write", "broad_remote_access"}, **dict.fromkeys(CHILDREN, NONE)},
    ),
    (
        "inherit-only WriteSecurity for Authenticated Users on root",
        tree(ROOT + "(A;CIIO;WD;;;AU)"),
        {"root": {"non_admin_write_security"}, **dict.fromkeys(CHILDREN, NONE)},
    ),
    (
        "namespace owned by Users",
        tree(root__cimv2="O:BUG:BAD:"),
        {"root": NONE, "root\\cimv2": {"non_admin_owner"}, "root\\cimv2\\sms": NONE, "root\\subscription": NONE},
    ),
    (
        "root owned by Everyone",
        tree(ROOT.replace("O:BA", "O:WD")),
        {"root": {"non_admin_owner"}, **dict.fromkeys(CHILDREN, NONE)},
    ),
    (
        "root owned by a domain user",
        tree(ROOT.replace("O:BA", f"O:{DOMAIN}-1107")),
        {"root": {"non_admin_owner"}, **dict.fromkeys(CHILDREN, NONE)},
    ),
    (
        "Domain Users remote access on cimv2 (any domain)",
        tree(root__cimv2=f"O:BAG:BAD:(A;CI;CCWP;;;{DOMAIN}-513)"),
        {"root": NONE, "root\\cimv2": {"broad_remote_access"}, "root\\cimv2\\sms": NONE, "root\\subscription": NONE},
    ),
    (
        "Domain Computers write on subscription",
        tree(root__subscription="O:BAG:BAD:(A;;CCSW;;;S-1-5-21-1-2-3-515)"),
        {"root": NONE, "root\\cimv2": NONE, "root\\cimv2\\sms": NONE, "root\\subscription": {"broad_write"}},
    ),
    (
        "Domain Guests, This Organization, Pre-Windows 2000, ALL APPLICATION PACKAGES",
        tree(
            root__cimv2="O:BAG:BAD:(A;;CCWP;;;S-1-5-21-9-8-7-514)(A;;CCLCSWRP;;;S-1-5-15)",
            root__subscription="O:BAG:BAD:(A;;WP;;;S-1-5-32-554)(A;;SW;;;S-1-15-2-1)(A;;WP;;;S-1-15-2-2)",
        ),
        {
            "root": NONE,
            "root\\cimv2": {"broad_remote_access", "broad_write"},
            "root\\cimv2\\sms": NONE,
            "root\\subscription": {"broad_remote_access", "broad_write"},
        },
    ),
    (
        "WriteSecurity alone for Users on cimv2",
        tree(root__cimv2="O:BAG:BAD:(A;CI;WD;;;BU)"),
        {
            "root": NONE,
            "root\\cimv2": {"non_admin_write_security"},
            "root\\cimv2\\sms": NONE,
            "root\\subscription": NONE,
        },
    ),
    (
        "a grant cancelled by an earlier deny is not a finding",
        tree(root__cimv2="O:BAG:BAD:(D;;WP;;;WD)(A;;WP;;;WD)"),
        {"root": NONE, **dict.fromkeys(CHILDREN, NONE)},
    ),
    (
        "admins holding WriteSecurity are fine; a local user is not",
        tree(root__cimv2=f"O:BAG:BAD:(A;;WD;;;{DOMAIN}-512)(A;;WD;;;SY)(A;;RCWD;;;{DOMAIN}-1107)"),
        {
            "root": NONE,
            "root\\cimv2": {"non_admin_write_security"},
            "root\\cimv2\\sms": NONE,
            "root\\subscription": NONE,
        },
    ),
    (
        "ProviderWrite for Authenticated Users is Windows' default, not a finding",
        tree(root__cimv2="O:BAG:BAD:(A;CI;CCDCRP;;;AU)"),
        {"root": NONE, **dict.fromkeys(CHILDREN, NONE)},
    ),
]


@pytest.mark.parametrize(("state", "expected"), [(t[1], t[2]) for t in TRUTH], ids=[t[0] for t in TRUTH])
def test_findings_match_the_hand_written_truth(state: dict[str, str | None], expected: dict[str, set[str]]) -> None:
    assert ids(namespace_reports(read(state), {})) == expected


def test_inherit_only_grant_lists_every_child_it_reaches() -> None:
    reports = namespace_reports(read(tree(ROOT + "(A;CIIO;CCDCLCSWRPWP;;;WD)")), None)
    write = next(f for f in reports[0]["findings"] if f["id"] == "broad_write")
    assert write["source_namespace"] == "root" and write["inherited"] is False
    assert write["affected_namespaces"] == list(CHILDREN)
    assert write["reaches_children"] is True and write["inherit"] == "children"
    assert write["rights"] == ["FullWrite", "PartialWrite"]  # only the offending rights, not the whole mask
    remote = next(f for f in reports[0]["findings"] if f["id"] == "broad_remote_access")
    assert remote["rights"] == ["RemoteAccess"]


def test_inherit_only_grant_is_reported_when_no_child_was_read() -> None:
    reports = namespace_reports(read(tree(ROOT + "(A;CIIO;WD;;;AU)"), only=["root"]), None)
    [finding] = reports[0]["findings"]
    assert finding["id"] == "non_admin_write_security" and finding["affected_namespaces"] == []
    assert "every child namespace" in finding["message"]


def test_grant_from_a_namespace_not_read_is_reported_on_the_topmost_read() -> None:
    state = tree(ROOT + "(A;CI;CCDCLCSWRPWP;;;WD)")
    reports = namespace_reports(read(state, only=["root\\cimv2", "root\\cimv2\\sms"]), None)
    assert ids(reports) == {"root\\cimv2": {"broad_write", "broad_remote_access"}, "root\\cimv2\\sms": NONE}
    write = next(f for f in reports[0]["findings"] if f["id"] == "broad_write")
    assert write["source_namespace"] is None and write["inherited"] is True
    assert write["affected_namespaces"] == ["root\\cimv2", "root\\cimv2\\sms"]
    assert "not read" in write["message"]


def test_write_security_only_grant_carries_what_a_fix_needs() -> None:
    reports = namespace_reports(read(tree(root__cimv2="O:BAG:BAD:(A;CI;WD;;;BU)")), None)
    [finding] = [f for report in reports for f in report["findings"]]
    assert finding["namespace"] == finding["source_namespace"] == "root\\cimv2"
    assert finding["sid"] == "S-1-5-32-545" and finding["rights"] == ["WriteSecurity"]
    assert finding["ace_type"] == "allow" and finding["inherit"] == "this_and_children"


def test_orphaned_sid_reported_where_explicit() -> None:
    orphan = f"{DOMAIN}-1109"
    reports = namespace_reports(read(tree(root__cimv2=f"O:BAG:BAD:(A;CI;CC;;;{orphan})")), {orphan: None})
    assert ids(reports)["root\\cimv2"] == {"orphaned_sid"}
    assert ids(reports)["root\\cimv2\\sms"] == NONE


def test_broad_list_covers_domain_relative_groups_on_any_domain() -> None:
    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Sid

    for rid in (513, 514, 515):
        assert is_broad_sid(Sid.parse(f"S-1-5-21-1-2-3-{rid}"))
        assert is_broad_sid(Sid.parse(f"{DOMAIN}-{rid}"))
    assert not is_broad_sid(Sid.parse(f"{DOMAIN}-512"))
    assert not is_broad_sid(Sid.parse("S-1-5-21-1-2-513"))  # not a domain SID (two sub-authorities)
    assert {"S-1-5-15", "S-1-5-32-554", "S-1-15-2-1", "S-1-15-2-2", "S-1-5-113"} <= BROAD_PRINCIPALS


# --- generated host states: never a false compliant -------------------------------------------------------------

# Written out here, not imported: the principals an auditor must flag, and the rights that make a grant drift.
ORACLE_BROAD = ["S-1-1-0", "S-1-5-11", "S-1-5-32-545", "S-1-5-2", "S-1-5-15", "S-1-5-21-5-6-7-513", "S-1-15-2-1"]
ORACLE_OTHERS = ["S-1-5-32-544", "S-1-5-18", "S-1-5-20", "S-1-5-21-5-6-7-1107"]
OFFENDING = {"broad_write": 0x4 | 0x8, "broad_remote_access": 0x20}
STATE_ACES = st.tuples(
    st.sampled_from(["A", "A", "D"]),
    st.sampled_from(["", "CI", "CIIO", "CINP"]),
    st.sampled_from(["CC", "CCWP", "CCDCLCSWRP", "CCDCRP", "WD", "RCWD", "CCDCLCSWRPWPRCWD", "WP"]),
    st.sampled_from(ORACLE_BROAD + ORACLE_OTHERS),
)


@st.composite
def host_states(draw: st.DrawFn) -> dict[str, str | None]:
    def sddl(owner: str) -> str:
        aces = draw(st.lists(STATE_ACES, max_size=3))
        return f"O:{owner}G:BAD:" + "".join(f"({k};{f};{r};;;{s})" for k, f, r, s in aces)

    state: dict[str, str | None] = {"root": sddl("BA").replace("D:", "D:" + ADMIN, 1)}
    for path in CHILDREN:
        state[path] = (
            sddl(draw(st.sampled_from(["BA", "SY", "BU", "WD", "S-1-5-21-5-6-7-1107"])))
            if draw(st.booleans())
            else None
        )
    return state


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(host_states())
def test_no_effective_broad_grant_goes_unreported(state: dict[str, str | None]) -> None:
    model = sim.NamespaceTree(pre_2003=False)
    for path, sddl in state.items():
        model.add(path, sddl)
    reports = namespace_reports(read(state), None)
    findings = [finding for report in reports for finding in report["findings"]]
    for node in model.walk("root"):
        effective = model.effective(node.path)
        if effective.owner not in ("S-1-5-32-544", "S-1-5-18"):
            assert any(f["id"] == "non_admin_owner" and f["namespace"] == node.path for f in findings), node.path
        aces = effective.aces or ()
        for ace in aces:
            if ace.type != sim.ACCESS_ALLOWED or ace.flags & sim.IO:
                continue
            # Denied anywhere in the DACL to the same SID or Everyone: the oracle does not judge (order matters).
            denied = [d for d in aces if d.type == sim.ACCESS_DENIED and d.sid in (ace.sid, "S-1-1-0")]
            if denied:
                continue
            for finding_id, bits in OFFENDING.items():
                if ace.sid in ORACLE_BROAD and ace.mask & bits:
                    assert any(
                        f["id"] == finding_id and f["sid"] == ace.sid and node.path in f["affected_namespaces"]
                        for f in findings
                    ), (node.path, finding_id, state)
            if ace.mask & 0x40000 and ace.sid not in ("S-1-5-32-544", "S-1-5-18"):
                assert any(
                    f["id"] == "non_admin_write_security"
                    and f["sid"] == ace.sid
                    and node.path in f["affected_namespaces"]
                    for f in findings
                ), (node.path, state)


# --- every broad well-known SID, every allow-like ACE type -----------------------------------------------------

# Written out here from Microsoft Learn's "Well-known SIDs" (MS-DTYP 2.4.2.4), not imported: each covers every
# account, logon or process of a kind, so write granted to it on a namespace is drift.
BROAD_WELL_KNOWN = [
    "S-1-1-0",  # Everyone
    "S-1-2-0",  # LOCAL
    "S-1-2-1",  # CONSOLE LOGON
    "S-1-5-1",  # DIALUP
    "S-1-5-2",  # NETWORK
    "S-1-5-3",  # BATCH
    "S-1-5-4",  # INTERACTIVE
    "S-1-5-6",  # SERVICE
    "S-1-5-7",  # ANONYMOUS LOGON
    "S-1-5-11",  # Authenticated Users
    "S-1-5-13",  # TERMINAL SERVER USER
    "S-1-5-14",  # REMOTE INTERACTIVE LOGON
    "S-1-5-15",  # This Organization
    "S-1-5-17",  # IUSR
    "S-1-5-64-10",  # NTLM Authentication
    "S-1-5-64-14",  # SChannel Authentication
    "S-1-5-64-21",  # Digest Authentication
    "S-1-5-65-1",  # This Organization Certificate
    "S-1-5-80-0",  # ALL SERVICES
    "S-1-5-83-0",  # Virtual Machines
    "S-1-5-84-0-0-0-0-0",  # USER MODE DRIVERS
    "S-1-5-113",  # Local account
    "S-1-5-1000",  # Other Organization
    "S-1-5-32-545",  # Users
    "S-1-5-32-546",  # Guests
    "S-1-5-32-554",  # Pre-Windows 2000 Compatible Access
    "S-1-5-32-568",  # IIS_IUSRS
    "S-1-15-2-1",  # ALL APPLICATION PACKAGES
    "S-1-15-2-2",  # ALL RESTRICTED APPLICATION PACKAGES
    "S-1-18-1",  # Authentication authority asserted identity
    "S-1-18-2",  # Service asserted identity
    "S-1-18-3",  # Fresh public key identity
    "S-1-18-4",  # Key trust identity
    "S-1-18-5",  # Key property MFA
    "S-1-18-6",  # Key property attestation
    f"{DOMAIN}-501",  # Guest
    f"{DOMAIN}-513",  # Domain Users
    f"{DOMAIN}-514",  # Domain Guests
    f"{DOMAIN}-515",  # Domain Computers
]
# Named accounts and administrators: write for them is not a broad grant (WriteSecurity still is a finding).
NOT_BROAD = ["S-1-5-32-544", "S-1-5-18", "S-1-5-19", "S-1-5-20", "S-1-5-114", f"{DOMAIN}-512", f"{DOMAIN}-1107"]
ALLOW_LIKE = {"A": 0x00, "OA": 0x05, "XA": 0x09, "ZA": 0x0B}
ALLOW_LIKE_NAMES = {
    "A": "allow",
    "OA": "access_allowed_object",
    "XA": "access_allowed_callback",
    "ZA": "access_allowed_callback_object",
}


def _with_ace(ace_type: int, flags: int, mask: int, sid: str, sddl: str = "O:BAG:BAD:" + ADMIN) -> t.Any:
    from dataclasses import replace

    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Ace, Acl, Sid, sd_from_sddl

    sd = sd_from_sddl(sddl)
    assert sd.dacl is not None
    data = b"artx\x00\x00\x00\x00" if ace_type in (0x09, 0x0B) else b""  # a callback ACE's (empty) condition
    return replace(sd, dacl=Acl((*sd.dacl.aces, Ace(ace_type, flags, mask, Sid.parse(sid), application_data=data))))


def _findings(sd: t.Any) -> list[dict[str, t.Any]]:
    from ansible_collections.winsec.wmi.plugins.plugin_utils._namespaces._namespace_findings import namespace_findings

    return namespace_findings([("root\\cimv2", sd)], {})["root\\cimv2"]


@pytest.mark.parametrize("sid", BROAD_WELL_KNOWN)
def test_every_broad_well_known_sid_is_broad(sid: str) -> None:
    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Sid

    assert is_broad_sid(Sid.parse(sid))
    found = {f["id"] for f in _findings(_with_ace(0x00, 0x02, 0x4 | 0x8 | 0x20, sid))}
    assert found == {"broad_write", "broad_remote_access"}


@pytest.mark.parametrize("sid", NOT_BROAD)
def test_named_accounts_and_administrators_are_not_broad(sid: str) -> None:
    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Sid

    assert not is_broad_sid(Sid.parse(sid))
    assert not {f["id"] for f in _findings(_with_ace(0x00, 0x02, 0x4 | 0x8 | 0x20, sid))} & {"broad_write"}


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(ALLOW_LIKE)),
    st.sampled_from([0x00, 0x02, 0x02 | 0x04]),
    st.integers(min_value=1, max_value=0xFF) | st.sampled_from([0x40000, 0x40004, 0x10000000]),
    st.sampled_from(BROAD_WELL_KNOWN),
)
def test_any_allow_like_ace_granting_a_broad_sid_write_is_found(token: str, flags: int, mask: int, sid: str) -> None:
    ace_type = ALLOW_LIKE[token]
    findings = _findings(_with_ace(ace_type, flags, mask, sid))
    found = {f["id"] for f in findings}
    if mask & (0x4 | 0x8):
        assert "broad_write" in found
    if mask & 0x20:
        assert "broad_remote_access" in found
    if mask & 0x40000:
        assert "non_admin_write_security" in found
    if mask & 0x10000000:
        assert "non_admin_other_rights" in found
    # A type SetSD cannot write is named, whatever its rights.
    assert ("unexpected_ace_type" in found) == (token != "A")
    for finding in findings:
        if finding["id"] != "unexpected_ace_type":
            assert finding["ace_type"] == ALLOW_LIKE_NAMES[token]
            assert finding["sid"] == sid


def test_unexpected_ace_type_names_the_ace_once_where_it_is_explicit() -> None:
    reports = namespace_reports(read(tree(root__cimv2="O:BAG:BAD:(OA;CI;CCDCLCSWRPWPRCWD;;;WD)")), {})
    found = ids(reports)
    assert found["root\\cimv2"] == {
        "unexpected_ace_type",
        "broad_write",
        "broad_remote_access",
        "non_admin_write_security",
    }
    assert found["root\\cimv2\\sms"] == NONE  # its inherited copy is reported at the source, once
    [odd] = [f for r in reports for f in r["findings"] if f["id"] == "unexpected_ace_type"]
    assert odd["namespace"] == odd["source_namespace"] == "root\\cimv2"
    assert odd["ace_type"] == "access_allowed_object" and odd["sid"] == "S-1-1-0"
    assert "WriteSecurity" in odd["rights"] and "SetSD cannot write" in odd["message"]


@pytest.mark.parametrize("token", ["OD", "XD"])
def test_a_deny_like_ace_is_named_and_cancels_no_grant(token: str) -> None:
    deny = {"OD": 0x06, "XD": 0x0A}[token]
    # The deny-like ACE comes first; only a plain deny is trusted to cancel the grant that follows it.
    sd = _with_ace(deny, 0x00, 0x4 | 0x8, "S-1-1-0", "O:BAG:BAD:")
    from dataclasses import replace

    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import Acl, sd_from_sddl

    grant = sd_from_sddl("O:BAG:BAD:(A;;CCLCSW;;;WD)" + ADMIN).dacl
    assert sd.dacl is not None and grant is not None
    sd = replace(sd, dacl=Acl((*sd.dacl.aces, *grant.aces)))
    found = {f["id"] for f in _findings(sd)}
    assert {"unexpected_ace_type", "broad_write"} <= found
    plain = {f["id"] for f in _findings(sd_from_sddl("O:BAG:BAD:(D;;LCSW;;;WD)(A;;CCLCSW;;;WD)" + ADMIN))}
    assert "broad_write" not in plain and "unexpected_ace_type" not in plain


# --- WMI-004's fix uses the same list and leaves what SetSD cannot write to a person ------------------------------


def _wmi004(sddl: str, enforce: bool = True) -> t.Any:
    from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
    from ansible_collections.winsec.wmi.plugins.plugin_utils._controls._namespace_controls import (
        BroadGrants,
        NamespaceTreeRead,
    )
    from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile

    host_facts = facts()
    host = HostContext(host_facts, os_profile(host_facts), check_mode=False, diff_mode=False, enforce=enforce)
    entries = read(tree(root__cimv2=sddl), only=["root", "root\\cimv2"])
    results: list[t.Mapping[str, t.Any]] = [{"op": "sd_get", "failed": False, "namespaces": entries, "principals": {}}]
    return BroadGrants(NamespaceTreeRead(["root"])).decide(host, results)


@pytest.mark.parametrize("sid", ["S-1-5-64-10", "S-1-18-1", "S-1-5-80-0", "S-1-5-17", f"{DOMAIN}-501"])
def test_wmi004_fix_removes_write_from_every_broad_sid(sid: str) -> None:
    from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import sd_from_bytes

    decision = _wmi004(f"O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;{sid})")
    assert decision.status == "drift" and decision.automatic
    [write] = decision.writes
    assert write["namespace"] == "root\\cimv2"
    after = sd_from_bytes(base64.b64decode(write["sd"]))
    assert after.dacl is not None
    [kept] = [ace for ace in after.dacl.aces if str(ace.sid) == sid and not ace.inherited]
    assert kept.mask == 0x1 | 0x2 | 0x10  # Enable, MethodExecute, ProviderWrite stay


def test_wmi004_does_not_call_an_object_ace_fixed() -> None:
    decision = _wmi004("O:BAG:BAD:(OA;CI;CCDCLCSWRPWPRCWD;;;WD)")
    assert decision.status == "drift"
    assert not decision.automatic and not decision.writes  # SetSD cannot write a descriptor that keeps it
    assert {f["ace_type"] for f in decision.findings} == {"access_allowed_object"}


def test_wmi004_beside_an_object_ace_is_not_fixed_automatically() -> None:
    decision = _wmi004("O:BAG:BAD:(OA;CI;LC;;;WD)(A;CI;CCLCSW;;;AU)")
    assert decision.status == "drift" and not decision.automatic and not decision.writes
    assert any("unknown_ace_type" in warning for warning in decision.warnings)  # why the plain grant stays
    assert {f["ace_type"] for f in decision.findings} == {"access_allowed_object", "allow"}
