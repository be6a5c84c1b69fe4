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

from ._acl_view import acl_view
from ._namespace_findings import namespace_key, normalise_namespace
from ._namespace_policy import (
    NamespaceSdRefused,
    canonical_order,
    explicit_aces,
    keeps_security_access,
    namespace_sd_problems,
    same_explicit_state,
)
from ._principals import principal_name, principal_to_sid
from ._sd import (
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
    sd_to_sddl,
)
from ._wmi_errors import WmiActionError
from ._wmi_rights import INHERIT_FLAGS, inherit_name, mask_to_rights, rights_to_mask

ACE_TYPES = {"allow": ACCESS_ALLOWED_ACE_TYPE, "deny": ACCESS_DENIED_ACE_TYPE}
DEFAULT_INHERIT = "this_and_children"  # what Windows' own namespace ACEs use (CI)
_STATE_FLAGS = 0x0F  # OI CI NP IO: the flags that are state (ID, SA, FA are not set by clients)
# Refusals that depend on the whole explicit DACL (decided after merging with the host's SD in present/absent
# mode) or on the owner/group (taken from the host when the request gives none).
_WHOLE_SD_CODES = ("empty_dacl", "lockout", "no_owner_group")


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
    aces: list[DesiredAce] = []
    if params.get("sddl") is not None:
        text = params["sddl"].strip()
        if not text:
            raise NamespaceSdRefusal(namespace_sd_problems(None)[0], namespace, contacted=False)
        try:
            sd = sd_from_sddl(text)
        except SecurityDescriptorError as exc:
            raise WmiActionError(f"sddl: {exc}") from None
        for problem in namespace_sd_problems(sd, allow_lockout=True):
            # Whole-SD problems of the request itself; ACE problems are checked below with the same rules.
            if problem.code in ("no_dacl", "null_dacl"):
                raise NamespaceSdRefusal(problem, namespace, contacted=False)
        owner_sid = (str(sd.owner), sd.owner) if sd.owner else None
        group_sid = (str(sd.group), sd.group) if sd.group else None
        protected = bool(sd.control & SE_DACL_PROTECTED) if mode == "exact" else None
        for index, ace in enumerate(sd.dacl.aces if sd.dacl else ()):
            aces.append(DesiredAce(str(ace.sid), ace.sid, ace.type, ace.flags, ace.mask, f"sddl ACE {index}"))
    else:
        for index, item in enumerate(params.get("aces") or []):
            where = f"aces[{index}]"
            sid = _principal(item["principal"], f"{where}.principal", namespace)
            if item.get("rights") is None and mode != "absent":
                raise WmiActionError(f"{where}.rights is required with mode={mode}")
            try:
                mask = rights_to_mask(item["rights"]) if item.get("rights") is not None else None
            except SecurityDescriptorError as exc:
                raise WmiActionError(f"{where}.rights: {exc}") from None
            inherit = item.get("inherit") or (None if mode == "absent" else DEFAULT_INHERIT)
            flags = INHERIT_FLAGS[inherit] if inherit else None
            aces.append(DesiredAce(item["principal"], sid, ACE_TYPES[item["type"]], flags, mask, where))
    for key in ("owner", "group"):
        if params.get(key):
            value = (params[key], _principal(params[key], key, namespace))
            owner_sid, group_sid = (value, group_sid) if key == "owner" else (owner_sid, value)
    request = Request(namespace, mode, tuple(aces), owner_sid, group_sid, protected, params["allow_lockout"])
    _check_aces(request)
    return request


def _input_decides_access(request: Request) -> bool:
    """Whether the request alone fixes the namespace's effective DACL: an exact SD on root (no parent to inherit
    from) or a protected one. Otherwise inherited ACEs also count, and lock-out is decided after the read."""
    return request.mode == "exact" and (namespace_key(request.namespace) == "root" or bool(request.protected))


def _check_aces(request: Request, *, contacted: bool = False) -> None:
    """The per-ACE SetSD rules on the request's ACEs, and empty-DACL/lock-out when the request alone decides."""
    if request.mode == "absent":
        return  # removing ACEs can only be refused for the resulting whole SD (checked after the merge)
    placeholder = Sid(0, (0,))  # NULL SID: stands for principals the host still has to translate
    aces = tuple(Ace(a.type, a.flags or 0, a.mask or 0, a.sid or placeholder) for a in request.aces)
    sd = SecurityDescriptor(owner=Sid(5, (32, 544)), group=Sid(5, (32, 544)), dacl=Acl(aces))
    # A name the host translates may be Administrators (localized): lock-out waits for the lookup.
    decides = _input_decides_access(request) and not request.lookups
    for problem in namespace_sd_problems(sd, allow_lockout=request.allow_lockout):
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
                f"{where}: {name!r} does not resolve to an account on the host. Give a SID or an account that exists.",
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


def plan(request: Request, current: SecurityDescriptor) -> Plan:
    """Merge the request with the host's descriptor; refuse (after the read, before any write) what must not be
    written."""
    new_explicit = merge(request, current)
    owner = request.owner[1] if request.owner else current.owner
    group = request.group[1] if request.group else current.group
    protected = request.protected if request.protected is not None else bool(current.control & SE_DACL_PROTECTED)
    control = SE_DACL_PRESENT | (SE_DACL_PROTECTED if protected else 0)
    candidate = SecurityDescriptor(control=control, owner=owner, group=group, dacl=Acl(tuple(new_explicit)))
    changed = not same_explicit_state(current, candidate) or protected != bool(current.control & SE_DACL_PROTECTED)
    # What GetSD will return: the explicit ACEs written, then the ones inherited from the parent (unless protected).
    inherited = () if protected else tuple(ace for ace in (current.dacl.aces if current.dacl else ()) if ace.inherited)
    predicted_control = (current.control & ~SE_DACL_PROTECTED) | control
    effective = (*new_explicit, *inherited)
    predicted = SecurityDescriptor(control=predicted_control, owner=owner, group=group, dacl=Acl(effective))
    if changed:
        for problem in namespace_sd_problems(candidate, allow_lockout=request.allow_lockout):
            # Empty DACL and lock-out are about the namespace's effective DACL: inherited ACEs the host keeps count.
            if problem.code == "empty_dacl" and effective:
                continue
            if problem.code == "lockout":
                if keeps_security_access(effective):
                    continue
                problem = NamespaceSdRefused(
                    "lockout",
                    f"after this change neither BUILTIN\\Administrators (S-1-5-32-544) nor NT AUTHORITY\\SYSTEM "
                    f"(S-1-5-18) would keep ReadSecurity and WriteSecurity on {request.namespace} (explicit or "
                    "inherited ACEs), so nobody could repair it. Add e.g. '(A;CI;CCDCLCSWRPWPRCWD;;;BA)', or force "
                    "it explicitly (allow_lockout).",
                )
            raise NamespaceSdRefusal(problem, request.namespace, contacted=True)
    return Plan(current, candidate, predicted if changed else current, changed, describe_changes(current, candidate))


def ace_words(ace: Ace, resolved: t.Mapping[str, str | None] | None = None) -> str:
    kind = "deny" if ace.type == ACCESS_DENIED_ACE_TYPE else "allow"
    rights = ", ".join(mask_to_rights(ace.mask)) or "no rights"
    return f"{kind} {principal_name(ace.sid, resolved)} ({ace.sid}) {rights}, inherit {inherit_name(ace.flags)}"


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
    return "none" if sid is None else f"{principal_name(sid, resolved)} ({sid})"


def acl_table(sd: SecurityDescriptor, resolved: t.Mapping[str, str | None] | None = None) -> str:
    """SDDL plus a readable ACL table, for diff mode."""
    view = acl_view(sd, resolved)
    lines = [f"sddl: {sd_to_sddl(sd)}"]
    for what in ("owner", "group"):
        who = view[what]
        lines.append(f"{what}: {who['name']} ({who['sid']})" if who else f"{what}: none")
    lines.append(f"dacl: {view['dacl']}")
    for ace in view["aces"]:
        origin = "inherited" if ace["inherited"] else "explicit"
        lines.append(
            f"  {ace['type']:<5} {ace['principal']} ({ace['sid']}): {', '.join(ace['rights']) or 'no rights'}; "
            f"{ace['inherit']}; {origin}"
        )
    return "\n".join(lines) + "\n"


def encode_sd(sd: SecurityDescriptor) -> str:
    return base64.b64encode(sd_to_bytes(sd)).decode("ascii")
