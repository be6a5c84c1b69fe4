# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within the winsec.wmi collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

"""Policy for WMI namespace security descriptors: what may be written with SetSD, and how to compare.

The codec (_sd) represents any SD; this module decides what must not be applied to a namespace (the
__SystemSecurity.SetSD rules, https://learn.microsoft.com/en-us/windows/win32/wmisdk/--systemsecurity-setsd) and
compares SDs the way SetSD uses them (explicit DACL ACEs only).
"""

from __future__ import annotations

import typing as t

from .._sd._access_check import DENY_TYPES, ControlLoss, control_loss
from .._sd._principals import principal_name
from .._sd._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    ACE_TYPE_NAMES,
    CONTAINER_INHERIT_ACE,
    INHERIT_ONLY_ACE,
    INHERITED_ACE,
    Ace,
    SecurityDescriptor,
    Sid,
)
from .._sd._wmi_rights import SETSD_RIGHTS_MASK, mask_to_rights
from .._text import truncate_for_message

__all__ = [
    "REFUSAL_CODES",
    "NamespaceSdRefused",
    "canonical_order",
    "explicit_aces",
    "is_canonical",
    "lockout_refusal",
    "namespace_sd_problems",
    "same_explicit_state",
    "validate_namespace_sd",
]

REFUSAL_CODES = (
    "null_sd",
    "no_dacl",
    "null_dacl",
    "empty_dacl",
    "lockout",
    "no_owner_group",
    "full_write_incomplete",
    "inherit_only_without_container_inherit",
    "unknown_access_bits",
    "unknown_ace_flags",
    "unknown_ace_type",
    "inherited_ace",
)

_FULL_WRITE = 0x4
_PARTIAL_WRITE = 0x8
_PROVIDER_WRITE = 0x10
# OI CI NP IO: the flags a client may send
# (https://learn.microsoft.com/en-us/windows/win32/wmisdk/namespace-ace-flag-constants). ID (0x10) is legal in the table
# but marks an inherited ACE, which SetSD recomputes from the parent and ignores - sending one is a mistake
# reported by its own code (inherited_ace).
_CLIENT_FLAGS = 0x01 | 0x02 | 0x04 | 0x08


class NamespaceSdRefused(ValueError):
    """An SD that must not be written to a WMI namespace. ``code`` is one of REFUSAL_CODES."""

    def __init__(self, code: str, message: str, ace_index: int | None = None, principal: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.ace_index = ace_index
        self.principal = principal

    def __repr__(self) -> str:
        return f"NamespaceSdRefused({self.code!r}, {self.message!r})"


def _where(index: int, name: str, sid: Sid | None) -> str:
    return f"DACL ACE {index} ({name})" if sid is None or name == str(sid) else f"DACL ACE {index} ({name}, {sid})"


def _ace_problems(index: int, ace: Ace, written: str | None = None) -> list[NamespaceSdRefused]:
    """The SetSD rules for one ACE. ``written``: the principal as the user wrote it, when its SID is not known yet
    (the ACE then carries a placeholder SID that must never appear in a message)."""
    problems: list[NamespaceSdRefused] = []
    name = truncate_for_message(written) if written is not None else principal_name(ace.sid)
    where = _where(index, name, None if written is not None else ace.sid)

    def add(code: str, text: str) -> None:
        problems.append(NamespaceSdRefused(code, f"{where}: {text}", index, name))

    if ace.type not in (ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE):
        type_name = ACE_TYPE_NAMES.get(ace.type, f"{ace.type:#x}")
        add(
            "unknown_ace_type",
            f"ACE type {type_name} is not allowed on a WMI namespace; SetSD accepts only allow (A) and deny (D) "
            "ACEs (WBEM_E_INVALID_PARAMETER). Replace it with an allow or deny ACE.",
        )
    if ace.flags & INHERITED_ACE:
        add(
            "inherited_ace",
            "the ACE is marked inherited (ID); SetSD ignores inherited ACEs and recomputes them from the parent "
            "namespace. Remove the ID flag to make it explicit, or drop the ACE.",
        )
    unknown_flags = ace.flags & ~(_CLIENT_FLAGS | INHERITED_ACE)
    if unknown_flags:
        add(
            "unknown_ace_flags",
            f"ACE flags {unknown_flags:#x} are not namespace ACE flags (only OI, CI, NP, IO are accepted; "
            "SetSD returns WBEM_E_INVALID_PARAMETER). Remove them.",
        )
    if ace.flags & INHERIT_ONLY_ACE and not ace.flags & CONTAINER_INHERIT_ACE:
        add(
            "inherit_only_without_container_inherit",
            "Inherit-Only (IO) without Container-Inherit (CI) applies to nothing and SetSD rejects it. "
            "Add CI (inherit: children) or remove IO.",
        )
    unknown_bits = ace.mask & ~SETSD_RIGHTS_MASK
    if unknown_bits:
        # Subscribe/Publish (0x40/0x80) are event-security rights; SetSD documents only 0x3f | READ_CONTROL |
        # WRITE_DAC for namespaces ("unknown access bit" -> invalid parameter), so they count as unknown here.
        add(
            "unknown_access_bits",
            f"access bits {unknown_bits:#x} ({', '.join(mask_to_rights(unknown_bits))}) are not namespace rights; "
            "SetSD accepts only Enable, MethodExecute, FullWrite, PartialWrite, ProviderWrite, RemoteAccess, "
            "ReadSecurity and WriteSecurity. Remove the other bits.",
        )
    if ace.mask & _FULL_WRITE and (ace.mask & (_PARTIAL_WRITE | _PROVIDER_WRITE)) != (_PARTIAL_WRITE | _PROVIDER_WRITE):
        # The SetSD doc says FullWrite "without PartialWrite or ProviderWrite" is invalid - ambiguous between
        # and/or. Requiring both whenever FullWrite is set is the reading that can never be refused by Windows.
        add(
            "full_write_incomplete",
            "FullWrite is granted without both PartialWrite and ProviderWrite, which SetSD may reject "
            "(WBEM_E_INVALID_PARAMETER). Add PartialWrite and ProviderWrite, or remove FullWrite.",
        )
    return problems


ALLOW_LOCKOUT_BYPASSES = (
    "allow_lockout: true is the only way through; it bypasses only the empty-DACL and lock-out checks (the access "
    "check of Administrators and SYSTEM on the namespace and its descendants), never the SetSD rules"
)


def lockout_refusal(losses: t.Sequence[ControlLoss], *, what: str = "the DACL") -> NamespaceSdRefused:
    """The lock-out refusal: which token loses which right on which namespace, and the only way through."""
    where = "; ".join(loss.words() for loss in losses[:5])
    more = f" (and {len(losses) - 5} more namespaces)" if len(losses) > 5 else ""
    return NamespaceSdRefused(
        "lockout",
        f"{what} would take Enable, ReadSecurity or WriteSecurity from BUILTIN\\Administrators (S-1-5-32-544, "
        "as it connects over WinRM or at the console, whatever its domain groups or authentication), from "
        "NT AUTHORITY\\SYSTEM (S-1-5-18) or from the account this collection connects with - this collection "
        f"could no longer open, read or repair the namespace: {where}{more}. "
        "Keep e.g. '(A;CI;CCDCLCSWRPWPRCWD;;;BA)' without a deny before it that covers Administrators, SYSTEM or "
        "the connecting account (Everyone, Authenticated Users, Users, NETWORK, INTERACTIVE, OWNER RIGHTS, Domain "
        f"Admins, Domain Users, the account itself...). {ALLOW_LOCKOUT_BYPASSES}.",
    )


def namespace_sd_problems(
    sd: SecurityDescriptor | None,
    *,
    allow_lockout: bool = False,
    namespace: str = "the namespace",
    written: t.Sequence[str | None] = (),
) -> list[NamespaceSdRefused]:
    """Every reason this SD must not be written with __SystemSecurity.SetSD (empty list = acceptable).

    Empty DACL and lock-out are judged on the explicit ACEs alone, as the effective DACL of a namespace that
    inherits nothing (root, or a protected DACL); the planner judges a child namespace and the descendants on
    their effective DACLs (_access_check.namespaces_after). ``written[i]``: the principal of DACL ACE i as the user
    wrote it, for ACEs whose SID the host has not translated yet."""
    if sd is None:
        return [
            NamespaceSdRefused(
                "null_sd",
                "a NULL security descriptor would make the namespace inherit its parent's SD (pre-2003 behaviour) "
                "and Windows Server 2003+ refuses it. Give an explicit SD with owner, group and a DACL.",
            )
        ]
    problems: list[NamespaceSdRefused] = []
    if sd.owner is None and sd.group is None:
        problems.append(
            NamespaceSdRefused(
                "no_owner_group",
                "the SD has neither owner nor group; SetSD rejects it (WBEM_E_INVALID_PARAMETER). "
                "Add 'O:BAG:BA' (what Windows uses for namespaces) or the owner and group read with GetSD.",
            )
        )
    if not sd.has_dacl:
        problems.append(
            NamespaceSdRefused(
                "no_dacl",
                "the SD has no DACL, which grants everyone full access and SetSD rejects it. Add a 'D:' part "
                "with explicit ACEs.",
            )
        )
        return problems
    if sd.dacl is None:
        problems.append(
            NamespaceSdRefused(
                "null_dacl",
                "the DACL is NULL (D:NO_ACCESS_CONTROL), which grants everyone full access; it is refused on every "
                "OS. Give explicit ACEs.",
            )
        )
        return problems
    for index, ace in enumerate(sd.dacl.aces):
        problems.extend(_ace_problems(index, ace, written[index] if index < len(written) else None))
    if allow_lockout:
        return problems
    explicit = explicit_aces(sd)
    if not sd.dacl.aces:
        problems.append(
            NamespaceSdRefused(
                "empty_dacl",
                "the DACL is empty, which denies everyone - including Administrators, SYSTEM and this module - all "
                f"access to the namespace. Add ACEs. {ALLOW_LOCKOUT_BYPASSES}.",
            )
        )
    # In canonical order (denies first), as SetSD's caller writes them.
    else:
        loss = control_loss(namespace, canonical_order(explicit), str(sd.owner) if sd.owner else None)
        if loss is not None:
            problems.append(lockout_refusal([loss], what="the explicit DACL ACEs"))
    return problems


def validate_namespace_sd(sd: SecurityDescriptor | None, *, allow_lockout: bool = False) -> None:
    """Raise the first NamespaceSdRefused for ``sd``; return None when it may be written."""
    problems = namespace_sd_problems(sd, allow_lockout=allow_lockout)
    if problems:
        raise problems[0]


def explicit_aces(sd: SecurityDescriptor | None) -> tuple[Ace, ...]:
    """Non-inherited DACL ACEs - the only ones SetSD uses (https://learn.microsoft.com/en-us/windows/win32/wmisdk/--systemsecurity-setsd)."""
    if sd is None or sd.dacl is None:
        return ()
    return tuple(ace for ace in sd.dacl.aces if not ace.inherited)


def _ace_key(ace: Ace) -> tuple[int, int, int, Sid]:
    # flags & 0x0f: OI CI NP IO are state; ID is recomputed by SetSD and SA/FA are audit flags, not set by clients.
    return (ace.type, ace.flags & 0x0F, ace.mask, ace.sid)


def same_explicit_state(a: SecurityDescriptor | None, b: SecurityDescriptor | None) -> bool:
    """DACL presence/NULL-ness and the ordered explicit ACEs (type, flags & 0x0f, mask, SID): what SetSD uses.

    Owner and group are not compared: SetSD uses only the non-inherited DACL ACEs
    (https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsd-method-in-class---systemsecurity), so this
    collection never changes them and a host that keeps or rewrites them must not fail the read-back check.
    Inherited ACEs, control bits other than presence, ACL revision and layout are ignored too.
    """
    if a is None or b is None:
        return a is b
    if a.has_dacl != b.has_dacl or a.has_null_dacl != b.has_null_dacl:
        return False
    return [_ace_key(x) for x in explicit_aces(a)] == [_ace_key(x) for x in explicit_aces(b)]


def canonical_order(aces: tuple[Ace, ...] | list[Ace]) -> tuple[Ace, ...]:
    """Explicit deny ACEs, the other explicit ACEs, then inherited ACEs in their original order.

    Stable within each group (inherited ACEs keep inheritance order:
    https://learn.microsoft.com/en-us/windows/win32/secauthz/order-of-aces-in-a-dacl).
    """
    explicit = [ace for ace in aces if not ace.inherited]
    inherited = [ace for ace in aces if ace.inherited]
    # Deny-like types (DENY_TYPES) sort first among explicit ACEs.
    deny = [ace for ace in explicit if ace.type in DENY_TYPES]
    rest = [ace for ace in explicit if ace.type not in DENY_TYPES]
    return (*deny, *rest, *inherited)


def is_canonical(aces: tuple[Ace, ...] | list[Ace]) -> bool:
    return tuple(aces) == canonical_order(aces)
