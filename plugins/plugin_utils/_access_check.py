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

from ._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    CONTAINER_INHERIT_ACE,
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
_DENY_TYPES = frozenset({ACCESS_DENIED_ACE_TYPE, 0x06, 0x0A, 0x0C})


@dataclass(frozen=True)
class Token:
    """The SIDs of one logon token (group membership is what the token holds: an ACE applies when its SID is one
    of them)."""

    name: str
    sids: frozenset[str]


# Every SID below is documented in "Well-known SIDs" (https://learn.microsoft.com/en-us/windows/win32/secauthz/
# well-known-sids) and "Security identifiers" (https://learn.microsoft.com/en-us/windows-server/identity/ad-ds/
# manage/understand-security-identifiers). Only the SIDs every such token holds are listed; domain groups (Domain
# Users, Domain Admins) and the NTLM/Kerberos authentication SIDs (S-1-5-64-x) depend on the account and are left
# out. A deny to a SID that is missing here is therefore not seen; the SIDs that are here cover the groups a hardening
# change is likely to deny (Everyone, Authenticated Users, Users, the logon groups).
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
)
ADMIN_INTERACTIVE_TOKEN = Token(
    "BUILTIN\\Administrators (elevated, interactive logon)",
    # NT AUTHORITY\INTERACTIVE, LOCAL and CONSOLE LOGON: the console logon an administrator repairs a host from.
    frozenset((*_ADMIN_COMMON, "S-1-5-4", "S-1-2-0", "S-1-2-1")),
)
SYSTEM_TOKEN = Token(
    "NT AUTHORITY\\SYSTEM",
    frozenset(("S-1-5-18", "S-1-5-32-544", "S-1-1-0", "S-1-5-11")),  # LocalSystem is a member of Administrators
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
        applies = sid in token.sids or (sid == OWNER_RIGHTS and owner_rule and is_owner)
        if not applies:
            continue
        if ace.type in _DENY_TYPES:
            denied |= ace.mask & ~granted
        elif ace.type == ACCESS_ALLOWED_ACE_TYPE:
            granted |= ace.mask & ~denied
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


def control_loss(namespace: str, dacl: t.Sequence[Ace] | None, owner: str | None) -> ControlLoss | None:
    """None when Administrators (both logon kinds) and SYSTEM keep Enable, ReadSecurity and WriteSecurity in both
    readings; else the first reading that locks any of them out, with what each token lacks."""
    for reading in READINGS:
        lacking = [
            (token.name, REQUIRED_RIGHTS & ~granted_rights(dacl, token, owner, owner_rule=reading == WITH_OWNER_RULE))
            for holder in CONTROL_HOLDERS
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


def _key(namespace: str) -> str:
    return namespace.replace("/", "\\").strip("\\").lower()


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
    state_by_key: dict[str, tuple[tuple[Ace, ...] | None, bool]] = {_key(namespace): (own, protected)}
    for path, sd in descendants:
        key = _key(path)
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
