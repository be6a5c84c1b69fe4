# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Who keeps control of a WMI namespace: the Windows access check and namespace inheritance (pure, no I/O).

Access check: MS-DTYP §2.5.3.2 "Access Check Algorithm Pseudocode"
(https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-dtyp/4f1bbcbb-814a-4c70-a11e-2a5b8779a6f9):
the DACL is walked in order; an ACE applies when its SID is in the token; inherit-only ACEs apply to children only
and are skipped; a deny ACE decides the bits no earlier ACE granted, an allow ACE grants the bits no earlier ACE
denied. A NULL DACL grants everything; an empty DACL grants nothing (except the owner's implicit rights).

Inheritance: __SystemSecurity::SetSD (MS-WMI §2.2.30.2) keeps only the non-inherited ACEs of the DACL and the
namespace inherits the rest from its parent unless its DACL is protected; see inherit_to_child for the rules.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from .._wmi_names import namespace_key
from ._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    CONTAINER_INHERIT_ACE,
    DENY_LIKE_ACE_TYPES,
    INHERIT_ONLY_ACE,
    INHERITED_ACE,
    NO_PROPAGATE_INHERIT_ACE,
    SE_DACL_PROTECTED,
    Ace,
    SecurityDescriptor,
)

__all__ = [
    "CONTROL_HOLDERS",
    "REQUIRED_RIGHTS",
    "ControlHolder",
    "ControlLoss",
    "NamespaceAfter",
    "Token",
    "caller_holder",
    "control_holders",
    "control_loss",
    "granted_rights",
    "inherit_to_child",
    "namespaces_after",
]

ENABLE = 0x1  # WBEM_ENABLE: needed to connect to the namespace at all, before GetSD/SetSD can run
READ_SECURITY = 0x20000  # READ_CONTROL: __SystemSecurity.GetSD
WRITE_SECURITY = 0x40000  # WRITE_DAC: __SystemSecurity.SetSD
REQUIRED_RIGHTS = ENABLE | READ_SECURITY | WRITE_SECURITY
_RIGHT_NAMES = ((ENABLE, "Enable"), (READ_SECURITY, "ReadSecurity"), (WRITE_SECURITY, "WriteSecurity"))

OWNER_RIGHTS = "S-1-3-4"
# Deny-like ACE types (ACCESS_DENIED, _OBJECT, _CALLBACK, _CALLBACK_OBJECT) are all treated as deny: SetSD never
# writes them, but a descriptor read from a host may hold one, and counting it as a deny can only make the check
# stricter. Allow-like types other than ACCESS_ALLOWED grant nothing here, for the same reason.
DENY_TYPES = DENY_LIKE_ACE_TYPES
# Generic rights (GA, GX, GW, GR). How WMI maps them on a namespace is not documented, so the stricter reading is
# taken both ways: a deny holding any of them denies every right, an allow grants nothing through them.
GENERIC_RIGHTS = 0xF0000000


@dataclass(frozen=True)
class Token:
    """One logon token: ``sids`` it certainly holds (an allow or a deny to one of them applies), and SIDs it may hold
    depending on the account, the authentication package or the domain (``possible``, and any domain's accounts with
    a relative ID in ``possible_rids``): a deny to one of those is counted too, an allow is not. So the check never
    credits a token with a right it may lack, nor misses a deny it may be subject to."""

    name: str
    sids: frozenset[str]
    possible: frozenset[str] = frozenset()
    possible_rids: frozenset[int] = frozenset()

    def may_hold(self, sid: str) -> bool:
        if sid in self.sids or sid in self.possible:
            return True
        parts = sid.split("-")
        # S-1-5-21-<a>-<b>-<c>-<rid>: a domain's (or a machine's) account or group.
        return (
            len(parts) == 8
            and parts[:4] == ["S", "1", "5", "21"]
            and parts[7].isdigit()
            and (int(parts[7]) in self.possible_rids)
        )


# Every SID below is documented in "Well-known SIDs" (https://learn.microsoft.com/en-us/windows/win32/secauthz/
# well-known-sids) and "Security identifiers" (https://learn.microsoft.com/en-us/windows-server/identity/ad-ds/
# manage/understand-security-identifiers). ``sids`` are the ones every such token holds; what depends on the account
# (its domain groups, the authentication package's SID, asserted identity) is ``possible``: a deny to one of them is
# refused, because some administrator's token holds it. The account this collection connects with is checked with
# its real token, read from the host (caller_holder).
_ADMIN_POSSIBLE = frozenset(
    (
        "S-1-5-64-10",  # NTLM Authentication
        "S-1-5-64-14",  # SChannel Authentication
        "S-1-5-64-21",  # Digest Authentication
        "S-1-18-1",  # Authentication authority asserted identity (Kerberos, smart card)
        "S-1-18-2",  # Service asserted identity
        "S-1-5-14",  # Remote Interactive Logon (Remote Desktop)
        "S-1-5-32-555",  # BUILTIN\Remote Desktop Users
        "S-1-5-32-580",  # BUILTIN\Remote Management Users (WinRM)
    )
)
# The built-in Administrator account, Domain Admins, Domain Users, Schema Admins, Enterprise Admins, Group Policy
# Creator Owners: in some administrator's token, in any domain (or, for 500 and 513, on the machine itself).
_ADMIN_POSSIBLE_RIDS = frozenset((500, 512, 513, 518, 519, 520))
_ADMIN_COMMON = (
    "S-1-5-32-544",  # BUILTIN\Administrators (enabled in the elevated token)
    "S-1-1-0",  # Everyone
    "S-1-5-11",  # NT AUTHORITY\Authenticated Users
    "S-1-5-32-545",  # BUILTIN\Users
    "S-1-5-15",  # NT AUTHORITY\This Organization
    "S-1-5-113",  # NT AUTHORITY\Local account
    "S-1-5-114",  # NT AUTHORITY\Local account and member of Administrators group
)
ADMIN_NETWORK_TOKEN = Token(
    "BUILTIN\\Administrators (elevated, network logon as over WinRM)",
    frozenset((*_ADMIN_COMMON, "S-1-5-2")),  # NT AUTHORITY\NETWORK: WinRM logons are network logons
    _ADMIN_POSSIBLE,
    _ADMIN_POSSIBLE_RIDS,
)
ADMIN_INTERACTIVE_TOKEN = Token(
    "BUILTIN\\Administrators (elevated, interactive logon)",
    # NT AUTHORITY\INTERACTIVE, LOCAL and CONSOLE LOGON: the console logon an administrator repairs a host from.
    frozenset((*_ADMIN_COMMON, "S-1-5-4", "S-1-2-0", "S-1-2-1")),
    _ADMIN_POSSIBLE,
    _ADMIN_POSSIBLE_RIDS,
)
SYSTEM_TOKEN = Token(
    "NT AUTHORITY\\SYSTEM",
    frozenset(("S-1-5-18", "S-1-5-32-544", "S-1-1-0", "S-1-5-11")),  # LocalSystem is a member of Administrators
    # A service running as LocalSystem (WMI itself, for one) also holds SERVICE, ALL SERVICES and its service SID.
    frozenset(("S-1-5-6", "S-1-5-80-0", "S-1-2-0")),
)


@dataclass(frozen=True)
class ControlHolder:
    """Who must keep control: keeps it when every token listed keeps Enable, ReadSecurity and WriteSecurity."""

    name: str
    tokens: tuple[Token, ...]


# The rule: a namespace stays under control only when BUILTIN\Administrators - both ways an administrator logs on:
# over WinRM (a network logon, which is how this collection itself reads and repairs the namespace) and at the
# console - AND LocalSystem keep all three rights. If the administrators' WinRM token lost them, this collection
# could no longer read or repair the namespace, even though a SYSTEM process still could: that is the lock-out the
# guard exists to prevent, so losing any one of the holders is refused (allow_lockout is the way through).
CONTROL_HOLDERS = (
    ControlHolder("BUILTIN\\Administrators", (ADMIN_NETWORK_TOKEN, ADMIN_INTERACTIVE_TOKEN)),
    ControlHolder("NT AUTHORITY\\SYSTEM", (SYSTEM_TOKEN,)),
)


def caller_holder(facts: t.Mapping[str, t.Any]) -> ControlHolder | None:
    """The account this collection connects with, by the token the host reported for it (wmi_state's facts:
    caller_sid, caller_groups, caller_deny_only_groups): a deny to that very account, or to any group it is in (its
    deny-only groups too), would lock this collection
    out even where the modelled administrator tokens keep control. None when the host did not report it."""
    sid = facts.get("caller_sid")
    if not isinstance(sid, str) or not sid:
        return None
    groups = [str(group) for group in facts.get("caller_groups") or [] if group]
    # WindowsIdentity.Groups leaves out the token's deny-only groups (SE_GROUP_USE_FOR_DENY_ONLY), which a deny ACE
    # still matches and an allow ACE never does (MS-DTYP 2.5.3.2): they are "possible" SIDs of the token.
    deny_only = [str(group) for group in facts.get("caller_deny_only_groups") or [] if group]
    name = str(facts.get("caller_name") or sid)
    token = Token(
        f"{name} (the account this collection connects with)", frozenset((sid, *groups)), frozenset(deny_only)
    )
    return ControlHolder(name, (token,))


def control_holders(facts: t.Mapping[str, t.Any] | None) -> tuple[ControlHolder, ...]:
    """Who must keep control on this host: CONTROL_HOLDERS and, when known, the connecting account."""
    holder = caller_holder(facts or {})
    return CONTROL_HOLDERS if holder is None else (*CONTROL_HOLDERS, holder)


# The owner of an object implicitly holds READ_CONTROL and WRITE_DAC unless the DACL has an OWNER RIGHTS ACE
# (MS-DTYP §2.5.3.2; https://learn.microsoft.com/en-us/windows/win32/secauthz/owner-rights). Microsoft does not say
# whether WMI's namespace check applies that rule, so both readings are evaluated and a change is refused when
# either one locks out:
#   WITH_OWNER_RULE: MS-DTYP as written - the owner's implicit rights (granted before the walk, so no deny takes
#     them away), and OWNER RIGHTS ACEs apply to a token that holds the owner SID;
#   WITHOUT_OWNER_RULE: ownership means nothing - no implicit rights and OWNER RIGHTS ACEs match no token.
WITH_OWNER_RULE = "with the owner's implicit ReadSecurity/WriteSecurity (MS-DTYP)"
WITHOUT_OWNER_RULE = "without the owner's implicit rights (WMI does not document them)"
READINGS = (WITHOUT_OWNER_RULE, WITH_OWNER_RULE)


def rights_words(mask: int) -> str:
    return ", ".join(name for bit, name in _RIGHT_NAMES if mask & bit)


def granted_rights(dacl: t.Sequence[Ace] | None, token: Token, owner: str | None, *, owner_rule: bool) -> int:
    """The rights ``token`` gets from an effective DACL (None = NULL DACL), per the reading ``owner_rule``."""
    if dacl is None:
        return 0xFFFFFFFF
    is_owner = owner is not None and owner in token.sids
    granted = denied = 0
    if owner_rule and is_owner and not any(str(ace.sid) == OWNER_RIGHTS for ace in dacl):
        # Any OWNER RIGHTS ACE (inherit-only too) turns the implicit rights off: counting an inherit-only one is
        # the stricter choice where the specification is not explicit.
        granted = READ_SECURITY | WRITE_SECURITY
    for ace in dacl:
        if ace.flags & INHERIT_ONLY_ACE:
            continue
        sid = str(ace.sid)
        owner_ace = sid == OWNER_RIGHTS and owner_rule and is_owner
        if ace.type in DENY_TYPES and (token.may_hold(sid) or owner_ace):
            mask = REQUIRED_RIGHTS if ace.mask & GENERIC_RIGHTS else ace.mask
            denied |= mask & ~granted
        elif ace.type == ACCESS_ALLOWED_ACE_TYPE and (sid in token.sids or owner_ace):
            granted |= ace.mask & ~GENERIC_RIGHTS & ~denied
    return granted


@dataclass(frozen=True)
class ControlLoss:
    """Why a namespace is out of control: the reading, and per holder the token and the rights it lacks."""

    namespace: str
    reading: str
    lacking: tuple[tuple[str, int], ...]  # (token name, required rights it lacks)

    def words(self) -> str:
        parts = "; ".join(f"{name} would lack {rights_words(mask)}" for name, mask in self.lacking)
        return f"on {self.namespace} {parts} ({self.reading})"


def control_loss(
    namespace: str,
    dacl: t.Sequence[Ace] | None,
    owner: str | None,
    holders: t.Sequence[ControlHolder] = CONTROL_HOLDERS,
) -> ControlLoss | None:
    """None when every holder's tokens (Administrators both ways, SYSTEM, and the connecting account when given) keep
    Enable, ReadSecurity and WriteSecurity in both readings; else the first reading that locks any of them out, with
    what each token lacks."""
    for reading in READINGS:
        lacking = [
            (token.name, REQUIRED_RIGHTS & ~granted_rights(dacl, token, owner, owner_rule=reading == WITH_OWNER_RULE))
            for holder in holders
            for token in holder.tokens
        ]
        lacking = [(name, mask) for name, mask in lacking if mask]
        if lacking:
            return ControlLoss(namespace, reading, tuple(lacking))
    return None


# --- inheritance -----------------------------------------------------------------------------------------------


def inherit_to_child(parent_effective: t.Iterable[Ace]) -> tuple[Ace, ...]:
    """The ACEs a child namespace inherits from its parent's effective DACL, appended after its own explicit ACEs
    (MS-WMI §2.2.30.2, __SystemSecurity::SetSD):

    1. a parent ACE without CONTAINER_INHERIT_ACE is not inherited (an OBJECT_INHERIT-only ACE reaches no namespace);
    2. with NO_PROPAGATE_INHERIT_ACE, CONTAINER_INHERIT_ACE is cleared on the copy, so it stops at the immediate child;
    3. INHERIT_ONLY_ACE is cleared on the copy: the ACE is effective on the child.

    Other flags (OI, NP) are kept, as the specification clears only the bits it names; the copy carries INHERITED_ACE,
    which the namespace ACE flag constants say is reported when the source of an ACE is a parent namespace
    (https://learn.microsoft.com/en-us/windows/win32/wmisdk/namespace-ace-flag-constants).
    """
    inherited = []
    for ace in parent_effective:
        if not ace.flags & CONTAINER_INHERIT_ACE:
            continue
        flags = ace.flags & ~INHERIT_ONLY_ACE
        if ace.flags & NO_PROPAGATE_INHERIT_ACE:
            flags &= ~CONTAINER_INHERIT_ACE
        inherited.append(Ace(ace.type, flags | INHERITED_ACE, ace.mask, ace.sid))
    return tuple(inherited)


@dataclass(frozen=True)
class NamespaceAfter:
    """A namespace's state after a change: its effective DACL (None = NULL DACL) and, for a descendant, the one it
    had before (what GetSD returned)."""

    namespace: str
    owner: str | None
    effective: tuple[Ace, ...] | None
    before: tuple[Ace, ...] | None
    changed: bool


def _dacl(sd: SecurityDescriptor) -> tuple[Ace, ...] | None:
    if not sd.has_dacl or sd.dacl is None:
        return None  # no DACL or a NULL DACL: everyone has every right
    return tuple(sd.dacl.aces)


def namespaces_after(
    namespace: str,
    owner: str | None,
    explicit: t.Sequence[Ace],
    protected: bool,
    inherited_from_parent: t.Sequence[Ace],
    descendants: t.Sequence[tuple[str, SecurityDescriptor]] = (),
) -> list[NamespaceAfter]:
    """The effective DACL of ``namespace`` and of every descendant after its explicit ACEs/protection change.

    MS-WMI §2.2.30.2: a namespace gets its parent's inheritable ACEs unless the PARENT's DACL is protected
    (SE_DACL_PROTECTED); its own protection flag does not stop it inheriting - it stops its ACEs reaching its
    children ("Establishing Inheritance of Namespace Security" says SE_DACL_PROTECTED is not used to give a child
    a specialized SD). So the namespace keeps ``inherited_from_parent`` (the ID ACEs GetSD returned: its parent does
    not change), and each descendant keeps its own explicit ACEs and inherits from its parent's new effective DACL,
    parents before children. A descendant whose parent is not in the list keeps the ACEs it inherits today.
    """
    # The namespace itself has no "before": its lock-out is judged on the result alone.
    own = tuple(explicit) + tuple(inherited_from_parent)
    results = [NamespaceAfter(namespace, owner, own, None, True)]
    state_by_key: dict[str, tuple[tuple[Ace, ...] | None, bool]] = {namespace_key(namespace): (own, protected)}
    for path, sd in descendants:
        key = namespace_key(path)
        before = _dacl(sd)
        child_owner = str(sd.owner) if sd.owner else None
        parent_key = key.rsplit("\\", 1)[0] if "\\" in key else None
        if before is None or parent_key not in state_by_key:
            effective = before
        else:
            own_explicit = tuple(ace for ace in before if not ace.flags & INHERITED_ACE)
            parent_effective, parent_protected = state_by_key[parent_key]
            if parent_protected or parent_effective is None:
                # A protected parent passes nothing down; a NULL-DACL parent has no ACEs to pass on.
                effective = own_explicit
            else:
                effective = own_explicit + inherit_to_child(parent_effective)
        state_by_key[key] = (effective, bool(sd.control & SE_DACL_PROTECTED))
        results.append(NamespaceAfter(path, child_owner, effective, before, effective != before))
    return results
