# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Plan an explicit namespace security descriptor: parse the request, refuse what must never be written, merge
with the host's descriptor, and describe the change in words (pure, no I/O; _namespace_sd runs the module)."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import typing as t
from dataclasses import dataclass, replace

from .._sd._access_check import (
    CONTROL_HOLDERS,
    DENY_TYPES,
    OWNER_RIGHTS,
    ControlHolder,
    ControlLoss,
    control_loss,
    namespaces_after,
)
from .._sd._principals import principal_name, principal_to_sid
from .._sd._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    SE_DACL_PRESENT,
    SE_DACL_PROTECTED,
    Ace,
    Acl,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
    sd_from_sddl,
    sd_to_bytes,
)
from .._sd._sddl import DomainAliasError
from .._sd._wmi_rights import INHERIT_FLAGS, inherit_name, mask_to_rights, rights_to_mask
from .._text import as_written, plural
from .._wmi_errors import WmiActionError
from ._namespace_findings import is_admin_sid, namespace_key, normalise_namespace
from ._namespace_policy import (
    ALLOW_LOCKOUT_BYPASSES,
    NamespaceSdRefused,
    canonical_order,
    explicit_aces,
    lockout_refusal,
    namespace_sd_problems,
    same_explicit_state,
)

ACE_TYPES = {"allow": ACCESS_ALLOWED_ACE_TYPE, "deny": ACCESS_DENIED_ACE_TYPE}
DEFAULT_INHERIT = "this_and_children"  # what Windows' own namespace ACEs use (CI)
_STATE_FLAGS = 0x0F  # OI CI NP IO: the flags that are state (ID, SA, FA are not set by clients)
# Refusals that depend on the whole explicit DACL (decided after merging with the host's SD in present/absent
# mode) or on the owner/group (taken from the host when the request gives none).
_WHOLE_SD_CODES = ("empty_dacl", "lockout", "no_owner_group")
# Refusals of the request itself (the SD policy's codes are in _namespace_policy.REFUSAL_CODES).
REQUEST_REFUSAL_CODES = (
    "invalid_sddl",
    "invalid_principal",
    "unknown_principal",
    "invalid_rights",
    "no_rights",
    "no_aces_given",
    "sacl_given",
    "protected_needs_exact",
    "owner_conflict",
    "owner_change",
    "non_admin_owner",
    "dacl_too_large",
)
# The ACL header's AclSize and AceCount are 16-bit (MS-DTYP §2.4.5): a bigger DACL cannot be encoded at all.
MAX_ACL_BYTES = 0xFFFF
MAX_ACE_COUNT = 0xFFFF
_ACE_FIXED_BYTES = 8  # ACE header (4) + access mask (4), MS-DTYP §2.4.4.2
_SMALLEST_SID_BYTES = 12  # a SID with one sub-authority: the least a name the host still translates can take
_OWNER_FIXED = (
    "SetSD uses only the non-inherited ACEs of the DACL "
    "(https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsd-method-in-class---systemsecurity), so this "
    "module never changes a namespace's owner or group"
)


class NamespaceSdRefusal(WmiActionError):
    """A request refused by the controller; nothing was (or will be) written."""

    def __init__(self, refusal: NamespaceSdRefused, namespace: str, *, contacted: bool) -> None:
        when = "after reading the host's descriptor" if contacted else "before contacting the host"
        super().__init__(
            f"Refused to write the security descriptor of {namespace} ({refusal.code}, {when}, nothing written): "
            f"{refusal.message}",
            refusal=refusal.code,
        )


@dataclass(frozen=True)
class DesiredAce:
    """One ACE of the request. sid is None until the principal is looked up on the host; flags and mask are None
    in absent mode when the request leaves them out (= any)."""

    principal: str
    sid: Sid | None
    type: int
    flags: int | None
    mask: int | None
    where: str

    def to_ace(self) -> Ace:
        if self.sid is None or self.flags is None or self.mask is None:
            raise ValueError(f"{self.where}: the ACE is incomplete (principal not translated, or no rights)")
        return Ace(self.type, self.flags, self.mask, self.sid)


@dataclass(frozen=True)
class Request:
    namespace: str
    mode: str
    aces: tuple[DesiredAce, ...]
    owner: tuple[str, Sid | None] | None
    group: tuple[str, Sid | None] | None
    protected: bool | None
    allow_lockout: bool
    # The SDDL's O:/G: when the owner/group option is also given: both must name the same account.
    sddl_owner: Sid | None = None
    sddl_group: Sid | None = None

    @property
    def lookups(self) -> list[str]:
        """Principal names only the host can translate (domain and local accounts, localized names)."""
        names = [ace.principal for ace in self.aces if ace.sid is None]
        names += [who[0] for who in (self.owner, self.group) if who is not None and who[1] is None]
        return list(dict.fromkeys(names))


@dataclass(frozen=True)
class Plan:
    current: SecurityDescriptor
    candidate: SecurityDescriptor
    predicted: SecurityDescriptor
    changed: bool
    changes: list[str]


def _refuse(code: str, message: str, namespace: str, *, contacted: bool = False) -> NamespaceSdRefusal:
    return NamespaceSdRefusal(NamespaceSdRefused(code, message), namespace, contacted=contacted)


def _principal(text: str, where: str, namespace: str) -> Sid | None:
    try:
        return principal_to_sid(text)
    except SecurityDescriptorError as exc:
        raise _refuse("invalid_principal", f"{where}: {exc}", namespace) from None


def _display(sid: Sid, resolved: t.Mapping[str, str | None] | None = None) -> str:
    """'Name (SID)', or the SID alone when no name is known (never the SID twice)."""
    name = principal_name(sid, resolved)
    return name if name == str(sid) else f"{name} ({sid})"


def _sddl_request(text: str, mode: str, namespace: str) -> tuple[SecurityDescriptor, list[DesiredAce]]:
    if not text:
        raise NamespaceSdRefusal(namespace_sd_problems(None)[0], namespace, contacted=False)
    try:
        sd = sd_from_sddl(text)
    except DomainAliasError as exc:
        raise WmiActionError(
            f"sddl: the alias {exc.alias!r} names a domain group (RID {exc.rid}) of a domain this module does not "
            f"know before it reads the host. Write the group's full SID (S-1-5-21-<domain>-{exc.rid}) in the SDDL, "
            "or give the ACE in aces with the account name (for example CORP\\Domain Admins), which the host "
            "translates in the same round trip.",
            refusal="invalid_sddl",
        ) from None
    except SecurityDescriptorError as exc:
        raise WmiActionError(f"sddl: {exc}", refusal="invalid_sddl") from None
    for problem in namespace_sd_problems(sd, allow_lockout=True):
        # Whole-SD problems of the request itself; ACE problems are checked below with the same rules.
        if problem.code in ("no_dacl", "null_dacl"):
            raise NamespaceSdRefusal(problem, namespace, contacted=False)
    if sd.has_sacl:
        raise _refuse(
            "sacl_given",
            "the SDDL has a SACL (S:); SetSD writes only the DACL's explicit ACEs, so the SACL would be dropped "
            "silently. Remove the S: part.",
            namespace,
        )
    if mode != "exact" and sd.control & SE_DACL_PROTECTED:
        raise _refuse(
            "protected_needs_exact",
            f"'D:P' (a protected DACL) only means something with mode=exact; with mode={mode} the ACEs are merged "
            "with the host's and the protection would be dropped silently. Use mode=exact to protect the DACL, or "
            "remove the P.",
            namespace,
        )
    aces = [
        DesiredAce(str(ace.sid), ace.sid, ace.type, ace.flags, ace.mask, f"sddl ACE {index}")
        for index, ace in enumerate(sd.dacl.aces if sd.dacl else ())
    ]
    return sd, aces


def _list_request(items: t.Any, mode: str, namespace: str) -> list[DesiredAce]:
    if not isinstance(items, list | tuple):
        raise _refuse("no_aces_given", f"aces must be a list of ACEs, not {type(items).__name__}", namespace)
    aces: list[DesiredAce] = []
    for index, item in enumerate(items):
        where = f"aces[{index}]"
        sid = _principal(item["principal"], f"{where}.principal", namespace)
        rights = item.get("rights")
        if rights is None and mode != "absent":
            raise WmiActionError(f"{where}.rights is required with mode={mode}", refusal="no_rights")
        try:
            mask = rights_to_mask(rights) if rights is not None else None
        except SecurityDescriptorError as exc:
            raise WmiActionError(f"{where}.rights: {exc}", refusal="invalid_rights") from None
        inherit = item.get("inherit") or (None if mode == "absent" else DEFAULT_INHERIT)
        flags = INHERIT_FLAGS[inherit] if inherit else None
        aces.append(DesiredAce(item["principal"], sid, ACE_TYPES[item.get("type") or "allow"], flags, mask, where))
    return aces


def parse_request(params: t.Mapping[str, t.Any]) -> Request:
    """Validate the arguments alone; raises WmiActionError/NamespaceSdRefusal before any contact with the host."""
    try:
        namespace = normalise_namespace(params["namespace"])
    except ValueError as exc:
        raise WmiActionError(f"namespace: {exc}") from None
    mode = params["mode"]
    owner_sid: tuple[str, Sid | None] | None = None
    group_sid: tuple[str, Sid | None] | None = None
    protected: bool | None = None
    sddl, items = params.get("sddl"), params.get("aces")
    if sddl is None and items is None:
        # A null (an unset template variable, `sddl: null`) must never mean "exact, no ACEs": that would remove
        # every explicit ACE. Removing them all takes an explicit empty list (aces: []).
        raise _refuse(
            "no_aces_given",
            "neither sddl nor aces is given (a null value counts as not given). Give the ACEs; to remove every "
            "explicit ACE say so explicitly with aces: [] and mode: exact.",
            namespace,
        )
    if sddl is not None:
        sd, aces = _sddl_request(str(sddl).strip(), mode, namespace)
        owner_sid = (str(sd.owner), sd.owner) if sd.owner else None
        group_sid = (str(sd.group), sd.group) if sd.group else None
        protected = bool(sd.control & SE_DACL_PROTECTED) if mode == "exact" else None
    else:
        aces = _list_request(items, mode, namespace)
    sddl_owner = owner_sid[1] if owner_sid else None
    sddl_group = group_sid[1] if group_sid else None
    for key in ("owner", "group"):
        if params.get(key):
            value = (params[key], _principal(params[key], key, namespace))
            owner_sid, group_sid = (value, group_sid) if key == "owner" else (owner_sid, value)
    request = Request(
        namespace,
        mode,
        tuple(aces),
        owner_sid,
        group_sid,
        protected,
        params["allow_lockout"],
        sddl_owner=sddl_owner if params.get("owner") else None,
        sddl_group=sddl_group if params.get("group") else None,
    )
    _check_aces(request)
    return request


def _input_decides_access(request: Request) -> bool:
    """Whether the request alone fixes the namespace's effective DACL: an exact SD on root (no parent to inherit
    from; a protected DACL still inherits, MS-WMI §2.2.30.2), with every SID known, and the owner known when an
    OWNER RIGHTS ACE makes it matter. Otherwise inherited ACEs (or the host's owner) also count, and lock-out is
    decided after the read."""
    if request.mode != "exact" or request.lookups:
        return False
    if any(str(ace.sid) == OWNER_RIGHTS for ace in request.aces) and request.owner is None:
        return False
    return namespace_key(request.namespace) == namespace_key("root")


def _acl_bytes(sids: t.Iterable[Sid | None]) -> int:
    """The encoded size of an ACL of allow/deny ACEs for these SIDs (a SID not translated yet counts as the
    smallest SID, so the size is never overestimated before the lookup)."""
    return 8 + sum(_ACE_FIXED_BYTES + (sid.size if sid is not None else _SMALLEST_SID_BYTES) for sid in sids)


def _check_size(sids: t.Sequence[Sid | None], request: Request, *, contacted: bool, what: str) -> None:
    size = _acl_bytes(sids)
    if size > MAX_ACL_BYTES or len(sids) > MAX_ACE_COUNT:
        raise _refuse(
            "dacl_too_large",
            f"{what} would be a DACL of {len(sids)} ACEs and at least {size} bytes; an ACL holds at most "
            f"{MAX_ACL_BYTES} bytes and {MAX_ACE_COUNT} ACEs (16-bit AclSize and AceCount, MS-DTYP 2.4.5). "
            "Use groups instead of one ACE per account.",
            request.namespace,
            contacted=contacted,
        )


def _check_owner(request: Request, *, contacted: bool) -> None:
    for what, wanted, in_sddl in (
        ("owner", request.owner, request.sddl_owner),
        ("group", request.group, request.sddl_group),
    ):
        if wanted is None or wanted[1] is None:
            continue
        if in_sddl is not None and in_sddl != wanted[1]:
            raise _refuse(
                "owner_conflict",
                f"the SDDL's {what} ({_display(in_sddl)}) and the {what} option ({as_written(wanted[0])}, {wanted[1]}) "
                f"differ; one would be dropped silently. Give the {what} once.",
                request.namespace,
                contacted=contacted,
            )
        if what == "owner" and not is_admin_sid(wanted[1]):
            # The owner implicitly holds ReadSecurity and WriteSecurity (MS-DTYP 2.5.3.2): a non-admin owner could
            # rewrite the namespace's DACL.
            raise _refuse(
                "non_admin_owner",
                f"the owner {as_written(wanted[0])} ({wanted[1]}) is not an administrative account; an owner can "
                "read and rewrite the namespace's permissions whatever the DACL says. Use "
                f"BUILTIN\\Administrators (BA) or NT AUTHORITY\\SYSTEM (SY); {_OWNER_FIXED}.",
                request.namespace,
                contacted=contacted,
            )


def _check_aces(request: Request, *, contacted: bool = False) -> None:
    """The per-ACE SetSD rules on the request's ACEs, size, owner and, when the request alone decides, empty-DACL
    and lock-out. Principals not translated yet are named as the user wrote them."""
    _check_owner(request, contacted=contacted)
    for desired in request.aces:
        if desired.mask == 0:
            raise _refuse(
                "no_rights",
                f"{desired.where} ({as_written(desired.principal)}): the ACE has no rights (empty list or mask 0); "
                "an ACE without rights is never written. Give the rights, or leave them out in mode=absent to remove "
                "every ACE of the principal.",
                request.namespace,
                contacted=contacted,
            )
    _check_size([ace.sid for ace in request.aces], request, contacted=contacted, what="the request")
    if request.mode == "absent":
        return  # removing ACEs can only be refused for the resulting whole SD (checked after the merge)
    placeholder = Sid(0, (0,))  # stands for principals the host still has to translate; never shown
    aces = tuple(Ace(a.type, a.flags or 0, a.mask or 0, a.sid or placeholder) for a in request.aces)
    owner = request.owner[1] if request.owner and request.owner[1] else Sid(5, (32, 544))
    sd = SecurityDescriptor(owner=owner, group=owner, dacl=Acl(aces))
    written = [None if a.sid is not None else a.principal for a in request.aces]
    decides = _input_decides_access(request)
    problems = namespace_sd_problems(
        sd, allow_lockout=request.allow_lockout, namespace=request.namespace, written=written
    )
    for problem in problems:
        if problem.code in _WHOLE_SD_CODES and (problem.code == "no_owner_group" or not decides):
            continue
        raise NamespaceSdRefusal(problem, request.namespace, contacted=contacted)


def resolve(request: Request, accounts: t.Iterable[t.Mapping[str, t.Any]]) -> Request:
    """Fill in the SIDs the host translated; an untranslatable name is refused (nothing is written)."""
    found = {str(account.get("name")): account.get("sid") for account in accounts}

    def sid_of(name: str, where: str) -> Sid:
        text = found.get(name)
        if not text:
            raise _refuse(
                "unknown_principal",
                f"{where}: {as_written(name)} does not resolve to an account on the host. Give a SID or an account "
                "that exists.",
                request.namespace,
                contacted=True,
            )
        return Sid.parse(str(text))

    aces = tuple(ace if ace.sid else replace(ace, sid=sid_of(ace.principal, ace.where)) for ace in request.aces)
    owner = (
        request.owner
        if not request.owner or request.owner[1]
        else (request.owner[0], sid_of(request.owner[0], "owner"))
    )
    group = (
        request.group
        if not request.group or request.group[1]
        else (request.group[0], sid_of(request.group[0], "group"))
    )
    return replace(request, aces=aces, owner=owner, group=group)


def _matches(ace: Ace, desired: DesiredAce) -> bool:
    if ace.type != desired.type or ace.sid != desired.sid:
        return False
    return desired.flags is None or ace.flags & _STATE_FLAGS == desired.flags


def merge(request: Request, current: SecurityDescriptor) -> list[Ace]:
    """The explicit ACEs after the request, in canonical order (explicit deny before explicit allow)."""
    existing = list(explicit_aces(current))
    if request.mode == "exact":
        return list(canonical_order([desired.to_ace() for desired in request.aces]))
    if request.mode == "present":
        changed = False
        for desired in request.aces:
            match = next((i for i, ace in enumerate(existing) if _matches(ace, desired)), None)
            if match is None:
                existing.append(desired.to_ace())
                changed = True
            elif existing[match].mask & desired.mask != desired.mask:  # type: ignore[operator]
                existing[match] = replace(existing[match], mask=existing[match].mask | desired.mask)  # type: ignore[operator]
                changed = True
        return list(canonical_order(existing)) if changed else existing
    kept: list[Ace] = []
    changed = False
    for ace in existing:
        mask = ace.mask
        for desired in request.aces:
            if _matches(ace, desired):
                mask = 0 if desired.mask is None else mask & ~desired.mask
        if mask != ace.mask:
            changed = True
        if mask:
            kept.append(replace(ace, mask=mask))
    return list(canonical_order(kept)) if changed else existing


def subtree_losses(
    namespace: str,
    current: SecurityDescriptor,
    new_explicit: t.Sequence[Ace],
    protected: bool,
    descendants: t.Sequence[tuple[str, SecurityDescriptor]] = (),
    holders: t.Sequence[ControlHolder] = CONTROL_HOLDERS,
) -> list[ControlLoss]:
    """Where a holder (Administrators, SYSTEM, the connecting account) would lose control after the write: the
    namespace itself, and every descendant that had control before and would lose it (its effective DACL recomputed
    from the new parent's)."""
    owner = str(current.owner) if current.owner else None
    losses: list[ControlLoss] = []
    for state in namespaces_after(namespace, owner, new_explicit, protected, _inherited(current), descendants):
        loss = control_loss(state.namespace, state.effective, state.owner, holders)
        if loss is None or not state.changed:
            continue
        if state.before is not None and control_loss(state.namespace, state.before, state.owner, holders) is not None:
            continue  # a descendant already out of control is not this change's doing
        losses.append(loss)
    return losses


def _inherited(current: SecurityDescriptor) -> tuple[Ace, ...]:
    """What the namespace inherits from its parent - unchanged by a write to the namespace itself, whatever its
    own protection (MS-WMI §2.2.30.2: only the parent's SE_DACL_PROTECTED stops inheritance)."""
    return tuple(ace for ace in (current.dacl.aces if current.dacl else ()) if ace.inherited)


def only_widens(current: SecurityDescriptor, new_explicit: t.Sequence[Ace], protected: bool) -> bool:
    """True when the write can only add rights: no new deny, every explicit allow kept with at least its rights, the
    protection unchanged. Such a change cannot lock anyone out anywhere below, read or not."""
    if protected != bool(current.control & SE_DACL_PROTECTED):
        return False
    before = [ace for ace in (current.dacl.aces if current.dacl else ()) if not ace.inherited]
    if any(ace.type in DENY_TYPES for ace in new_explicit if ace not in before):
        return False
    return all(
        any(
            new.type == old.type and new.sid == old.sid and new.flags == old.flags and old.mask & ~new.mask == 0
            for new in new_explicit
        )
        for old in before
        if old.type not in DENY_TYPES
    )


def plan(
    request: Request,
    current: SecurityDescriptor,
    descendants: t.Sequence[tuple[str, SecurityDescriptor]] = (),
    *,
    unreadable: t.Sequence[str] = (),
    holders: t.Sequence[ControlHolder] = CONTROL_HOLDERS,
) -> Plan:
    """Merge the request with the host's descriptor; refuse (after the read, before any write - in check mode too)
    what must not be written.

    ``descendants``: (namespace, descriptor read with GetSD) for every descendant, depth first, parents before
    children; the lock-out check covers each of them. Left empty, only the namespace itself is checked.
    ``unreadable``: descendants whose descriptor could not be read; a change that may take rights away is refused,
    since the check cannot judge them. ``holders``: who must keep control (control_holders(facts) adds the
    connecting account)."""
    for what, wanted, have in (("owner", request.owner, current.owner), ("group", request.group, current.group)):
        if wanted is not None and wanted[1] != have:
            raise _refuse(
                "owner_change",
                f"the request sets the {what} to {as_written(wanted[0])} ({wanted[1]}) but the namespace's {what} is "
                f"{_who(have, None)}; {_OWNER_FIXED}. Leave the {what} out, or give the current one.",
                request.namespace,
                contacted=True,
            )
    new_explicit = merge(request, current)
    _check_size([ace.sid for ace in new_explicit], request, contacted=True, what="the merged explicit ACEs")
    owner, group = current.owner, current.group
    protected = request.protected if request.protected is not None else bool(current.control & SE_DACL_PROTECTED)
    control = SE_DACL_PRESENT | (SE_DACL_PROTECTED if protected else 0)
    candidate = SecurityDescriptor(control=control, owner=owner, group=group, dacl=Acl(tuple(new_explicit)))
    changed = not same_explicit_state(current, candidate) or protected != bool(current.control & SE_DACL_PROTECTED)
    # What GetSD will return: the explicit ACEs written, then the ones inherited from the parent (the namespace's
    # own protection does not stop them: it only stops its ACEs reaching its children).
    predicted_control = (current.control & ~SE_DACL_PROTECTED) | control
    effective = (*new_explicit, *_inherited(current))
    predicted = SecurityDescriptor(control=predicted_control, owner=owner, group=group, dacl=Acl(effective))
    if changed:
        problems = namespace_sd_problems(candidate, allow_lockout=request.allow_lockout, namespace=request.namespace)
        for problem in problems:
            # Empty DACL and lock-out are about effective DACLs: inherited ACEs the host keeps count, and the
            # descendants count too (judged below).
            if problem.code == "lockout" or (problem.code == "empty_dacl" and effective):
                continue
            raise NamespaceSdRefusal(problem, request.namespace, contacted=True)
        if not request.allow_lockout:
            losses = subtree_losses(request.namespace, current, new_explicit, protected, descendants, holders)
            if losses:
                refusal = lockout_refusal(losses, what="after this change the effective DACLs")
                raise NamespaceSdRefusal(refusal, request.namespace, contacted=True)
            if unreadable and not only_widens(current, new_explicit, protected):
                raise _refuse(
                    "lockout",
                    f"this change may take rights away below {request.namespace}, and the lock-out check cannot "
                    f"judge {plural(len(unreadable), 'descendant namespace')} whose descriptor could not be read "
                    f"({', '.join(unreadable[:5])}): the administrators may keep control there only through what "
                    f"this namespace passes down. Find out why they cannot be read first. {ALLOW_LOCKOUT_BYPASSES}.",
                    request.namespace,
                    contacted=True,
                )
    return Plan(current, candidate, predicted if changed else current, changed, describe_changes(current, candidate))


def ace_words(ace: Ace, resolved: t.Mapping[str, str | None] | None = None) -> str:
    kind = "deny" if ace.type == ACCESS_DENIED_ACE_TYPE else "allow"
    rights = ", ".join(mask_to_rights(ace.mask)) or "no rights"
    return f"{kind} {_display(ace.sid, resolved)} {rights}, inherit {inherit_name(ace.flags)}"


def describe_changes(
    current: SecurityDescriptor, candidate: SecurityDescriptor, resolved: t.Mapping[str, str | None] | None = None
) -> list[str]:
    def key(ace: Ace) -> tuple[int, int, int, Sid]:
        return (ace.type, ace.flags & _STATE_FLAGS, ace.mask, ace.sid)

    before = list(explicit_aces(current))
    after = list(explicit_aces(candidate))
    before_keys = [key(ace) for ace in before]
    after_keys = [key(ace) for ace in after]
    changes = [f"removed: {ace_words(ace, resolved)}" for ace in before if key(ace) not in after_keys]
    changes += [f"added: {ace_words(ace, resolved)}" for ace in after if key(ace) not in before_keys]
    if not changes and before_keys != after_keys:
        changes.append("reordered the explicit ACEs into canonical order (deny before allow)")
    for what, old, new in (("owner", current.owner, candidate.owner), ("group", current.group, candidate.group)):
        if old != new:
            changes.append(f"{what}: {_who(old, resolved)} -> {_who(new, resolved)}")
    if bool(current.control & SE_DACL_PROTECTED) != bool(candidate.control & SE_DACL_PROTECTED):
        state = "protected" if candidate.control & SE_DACL_PROTECTED else "inheriting"
        changes.append(f"DACL becomes {state}")
    return changes


def _who(sid: Sid | None, resolved: t.Mapping[str, str | None] | None) -> str:
    return "none" if sid is None else _display(sid, resolved)


def encode_sd(sd: SecurityDescriptor) -> str:
    return base64.b64encode(sd_to_bytes(sd)).decode("ascii")
