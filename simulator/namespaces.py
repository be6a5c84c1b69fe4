"""The CIM namespace tree of one host: security descriptors, inheritance, SetSD's acceptance rules, access checks.

This is a model of *Windows* behaviour, written independently of the collection's policy code (plugin_utils), so an
end-to-end test can tell "the client refused" from "the host refused". Only the binary codec is shared: SD bytes are
parsed and built with the collection's ``_sd`` module (one codec, one place).

Sources: [MS-WMI] 2.2.30.2 __SystemSecurity::SetSD (which parent ACEs a child gets); the Windows SDK pages
__SystemSecurity.SetSD (only the non-inherited DACL ACEs are used; the WBEM_E_INVALID_PARAMETER list), GetSD,
GetCallerAccessRights, "Namespace ACE Flag Constants", "Establishing Inheritance of Namespace Security"; "Security
Changes in Windows Server 2003 WMI" (NULL SDs refused from Server 2003 on). What none of them settles is listed in
simulator/README.md ("Unverified on real Windows").
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ._paths import install_collection_path

install_collection_path()

from ansible_collections.winsec.wmi.plugins.plugin_utils._sd._sd import (  # noqa: E402
    Ace,
    Acl,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
    sd_from_bytes,
    sd_from_sddl,
    sd_to_bytes,
    sd_to_sddl,
)

# HRESULTs (wbemcli.h).
WBEM_E_ACCESS_DENIED = 0x80041003
WBEM_E_INVALID_PARAMETER = 0x80041008
WBEM_E_INVALID_NAMESPACE = 0x8004100E
WBEM_E_INVALID_OBJECT = 0x8004100F

HRESULT_MESSAGES = {
    WBEM_E_ACCESS_DENIED: "Access denied",
    WBEM_E_INVALID_PARAMETER: "Invalid parameter",
    WBEM_E_INVALID_NAMESPACE: "Invalid namespace",
    WBEM_E_INVALID_OBJECT: "Invalid object",
}

# Namespace rights (namespace-access-rights-constants.md, __SystemSecurity.GetCallerAccessRights).
WBEM_ENABLE = 0x1
WBEM_METHOD_EXECUTE = 0x2
WBEM_FULL_WRITE_REP = 0x4
WBEM_PARTIAL_WRITE_REP = 0x8
WBEM_WRITE_PROVIDER = 0x10
WBEM_REMOTE_ACCESS = 0x20
WBEM_RIGHT_SUBSCRIBE = 0x40
WBEM_RIGHT_PUBLISH = 0x80
READ_CONTROL = 0x20000
WRITE_DAC = 0x40000
# What SetSD accepts in an ACE mask ("an ACE has an unknown access bit set" is invalid); Subscribe/Publish are
# event-security bits, not among the namespace access rights constants, so treated as unknown.
SETSD_KNOWN_MASK = 0x3F | READ_CONTROL | WRITE_DAC
ALL_ACCESS = SETSD_KNOWN_MASK | WBEM_RIGHT_SUBSCRIBE | WBEM_RIGHT_PUBLISH

# ACE types and flags (namespace-ace-type-constants.md, namespace-ace-flag-constants.md).
ACCESS_ALLOWED = 0
ACCESS_DENIED = 1
OI = 0x01
CI = 0x02
NP = 0x04
IO = 0x08
ID = 0x10
SETSD_KNOWN_FLAGS = OI | CI | NP | IO | ID

SE_DACL_PROTECTED = 0x1000

ROOT_DEFAULT_SDDL = "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;NS)(A;CI;CCDCRP;;;LS)(A;CI;CCDCRP;;;AU)"


class WmiError(Exception):
    """A WMI call failed with an HRESULT; ``reason`` is the simulator's note for tests, never shown as Windows'.

    ``method`` is set when a __SystemSecurity method returned the HRESULT (as its ReturnValue) rather than the
    connection or query failing; wmi_state.ps1 words the two differently.
    """

    def __init__(self, hresult: int, reason: str = "", *, method: str | None = None, namespace: str = "") -> None:
        self.hresult = hresult
        self.reason = reason
        self.method = method
        self.namespace = namespace
        text = HRESULT_MESSAGES.get(hresult, "WMI error")
        super().__init__(f"{text} (0x{hresult:08X}){': ' + reason if reason else ''}")

    @property
    def message(self) -> str:
        """What a caller of wmi_state.ps1 sees (no simulator reason: Windows does not say which rule was broken)."""
        if self.method:
            return f"{self.method} on '{self.namespace}' returned {self.hresult}"
        return HRESULT_MESSAGES.get(self.hresult, "Generic failure")


@dataclass(frozen=True)
class NsAce:
    """An ACE in neutral form: the model does its own reasoning, the codec only reads and writes bytes."""

    type: int
    flags: int
    mask: int
    sid: str


@dataclass
class Namespace:
    path: str  # as WMI spells it, e.g. "root\\cimv2"
    owner: str | None = "S-1-5-32-544"
    group: str | None = "S-1-5-32-544"
    explicit: list[NsAce] = field(default_factory=list)
    protected: bool = False
    # Pre-2003 hole: SetSD accepted a NULL SD/DACL; the namespace then takes its parent's SD wholesale.
    null_sd: bool = False
    children: list[str] = field(default_factory=list)  # lower-case keys, in creation order
    # Audit (SYSTEM_AUDIT) ACEs set on this namespace: the S: part of its SDDL in a fleet file. GetSD returns them,
    # with those its ancestors pass down, only to a caller whose token has SeSecurityPrivilege enabled.
    audit: list[NsAce] = field(default_factory=list)


@dataclass(frozen=True)
class EffectiveSd:
    owner: str | None
    group: str | None
    aces: tuple[NsAce, ...] | None  # None = NULL DACL (everyone has full access)
    protected: bool


def leaf(path: str) -> str:
    """The last element of a namespace path (``root\\CIMV2`` -> ``CIMV2``)."""
    return path.replace("/", "\\").rstrip("\\").rsplit("\\", 1)[-1]


def normalize(path: str) -> str:
    """``ROOT/CIMV2`` and ``root\\cimv2`` are the same namespace; returns the lookup key."""
    return "\\".join(part for part in path.replace("/", "\\").split("\\") if part).lower()


def _aces_from_acl(acl: Acl | None) -> list[NsAce]:
    return [NsAce(a.type, a.flags, a.mask, str(a.sid)) for a in (acl.aces if acl else ())]


def audit_aces_from_sddl(sddl: str) -> list[NsAce]:
    """The explicit audit ACEs of the S: part of an SDDL string (fleet files describe SACLs in SDDL)."""
    return [a for a in _aces_from_acl(sd_from_sddl(sddl).sacl) if not a.flags & ID]


def aces_from_sddl(sddl: str) -> tuple[str | None, str | None, list[NsAce], bool]:
    """(owner, group, explicit ACEs, protected) from SDDL (fleet files describe SDs in SDDL)."""
    sd = sd_from_sddl(sddl)
    explicit = [a for a in _aces_from_acl(sd.dacl) if not a.flags & ID]
    return (
        str(sd.owner) if sd.owner else None,
        str(sd.group) if sd.group else None,
        explicit,
        bool(sd.control & SE_DACL_PROTECTED),
    )


def inherit_to_child(parent_aces: Iterable[NsAce]) -> list[NsAce]:
    """The parent ACEs a child namespace gets, by [MS-WMI] 2.2.30.2 (__SystemSecurity::SetSD), appended after the
    child's own:

    1. a parent ACE without CONTAINER_INHERIT_ACE is ignored (an OBJECT_INHERIT-only ACE reaches no namespace);
    2. otherwise it is appended; with NO_PROPAGATE_INHERIT_ACE, CONTAINER_INHERIT_ACE is cleared on the copy (so it
       stops at the immediate child);
    3. INHERIT_ONLY_ACE is cleared on the copy (it is effective on the child).

    The spec does not mention INHERITED_ACE; the copies carry it because the namespace ACE flag constants page says
    it "is reported to clients when the source of an ACE is a parent namespace". Other flags (OI, NP) are kept, as
    the spec clears only the bits it names.
    """
    inherited = []
    for ace in parent_aces:
        if not ace.flags & CI:
            continue
        flags = ace.flags & ~IO
        if ace.flags & NP:
            flags &= ~CI
        inherited.append(NsAce(ace.type, flags | ID, ace.mask, ace.sid))
    return inherited


def access_mask(sd: EffectiveSd, token: Iterable[str]) -> int:
    """The rights a token gets from an effective SD (ordered DACL walk, like AccessCheck with MAXIMUM_ALLOWED).

    The owner gets no implicit rights. AccessCheck grants an object's owner READ_CONTROL and WRITE_DAC, but no
    Microsoft document says WMI's namespace access check does the same; the stricter case is modelled, so a
    locked-out namespace stays locked out here (allow_lockout is never shown safer than it may be).
    """
    sids = {s.upper() for s in token}
    if sd.aces is None:
        return ALL_ACCESS
    granted = denied = 0
    for ace in sd.aces:
        if ace.flags & IO or ace.sid.upper() not in sids:
            continue
        if ace.type == ACCESS_DENIED:
            denied |= ace.mask & ~granted
        elif ace.type == ACCESS_ALLOWED:
            granted |= ace.mask & ~denied
    return granted


@dataclass
class SetSdOutcome:
    accepted_null: bool = False


class NamespaceTree:
    """All namespaces of a host, keyed by their lower-case path."""

    def __init__(self, pre_2003: bool, denial_as_cim_error: bool = False) -> None:
        self.pre_2003 = pre_2003
        # How a refused GetSD/SetSD surfaces is not documented: as the method's ReturnValue (default) or as a CIM
        # error of the call (fleet host key sd_denial: cim_error). wmi_state reports both as code WMI with the HRESULT.
        self.denial_as_cim_error = denial_as_cim_error
        self.nodes: dict[str, Namespace] = {}

    # --- structure --------------------------------------------------------------------------------------------

    def add(self, path: str, sddl: str | None = None) -> Namespace:
        """Create a namespace (and its missing parents). Without ``sddl`` it has no explicit ACEs: all inherited."""
        key = normalize(path)
        parts = path.replace("/", "\\").split("\\")
        parts = [p for p in parts if p]
        if key in self.nodes:
            node = self.nodes[key]
        else:
            parent_key = normalize("\\".join(parts[:-1])) if len(parts) > 1 else None
            if parent_key is not None and parent_key not in self.nodes:
                self.add("\\".join(parts[:-1]))
            # A child's path keeps its parent's spelling: only the leaf is the child's own.
            parent_path = self.nodes[parent_key].path if parent_key is not None else None
            node = Namespace(path=f"{parent_path}\\{parts[-1]}" if parent_path else parts[-1])
            self.nodes[key] = node
            if parent_key is not None:
                self.nodes[parent_key].children.append(key)
        if sddl is not None:
            node.owner, node.group, node.explicit, node.protected = aces_from_sddl(sddl)
            node.null_sd = False
            node.audit = audit_aces_from_sddl(sddl)
        return node

    def get(self, path: str) -> Namespace:
        node = self.nodes.get(normalize(path))
        if node is None:
            raise WmiError(WBEM_E_INVALID_NAMESPACE, f"no namespace {path!r}", namespace=path)
        return node

    def connect(self, path: str, token: Iterable[str]) -> Namespace:
        """Opening a namespace needs Enable (WBEM_ENABLE) on it, before any method runs."""
        node = self.get(path)
        if not self.rights(path, token) & WBEM_ENABLE:
            raise WmiError(WBEM_E_ACCESS_DENIED, f"caller lacks Enable on {path}", namespace=path)
        return node

    def children(self, path: str, token: Iterable[str]) -> list[str]:
        """Model paths of the immediate children, as ``Get-CimInstance __NAMESPACE`` lists them, in ordinal order of
        their names (wmi_state.ps1 sorts with StringComparer.Ordinal). Listing connects to ``path``: it needs Enable."""
        node = self.connect(path, list(token))
        paths = [self.nodes[key].path for key in node.children]
        return sorted(paths, key=lambda p: leaf(p).encode("utf-16-be"))  # UTF-16 code units, as .NET compares

    def audit_aces(self, path: str) -> list[NsAce]:
        """The namespace's SACL: its own audit ACEs, then the inheritable ones of its ancestors. Inheritance follows
        inherit_to_child ([MS-WMI] 2.2.30.2 states it for the DACL; that SACL entries propagate the same way is an
        assumption of this model)."""
        node = self.get(path)
        parent = self.parent_of(node)
        return [*node.audit, *(inherit_to_child(self.audit_aces(parent.path)) if parent is not None else [])]

    def set_sacl(self, path: str, sacl: Acl, token: Iterable[str]) -> None:
        """__SystemSecurity.SetSecurityDescriptor with only SE_SACL_PRESENT set: the namespace's own audit ACEs become
        the SACL's non-inherited ones; DACL, owner and group are kept (Microsoft Learn, SetSecurityDescriptor). The
        caller has SeSecurityPrivilege enabled (wmi_state checks it); the model asks only for the connection. Whether
        WMI also checks WriteSecurity for a SACL-only write is not documented (see simulator/README.md)."""
        node = self.connect(path, token)
        node.audit = [a for a in _aces_from_acl(sacl) if not a.flags & ID]

    def parent_of(self, node: Namespace) -> Namespace | None:
        key = normalize(node.path)
        if "\\" not in key:
            return None
        return self.nodes.get(key.rsplit("\\", 1)[0])

    def walk(self, path: str) -> Iterator[Namespace]:
        """The namespace and all its descendants, depth first, parents before children."""
        node = self.get(path)
        yield node
        for child in node.children:
            yield from self.walk(self.nodes[child].path)

    # --- security ---------------------------------------------------------------------------------------------

    def effective(self, path: str) -> EffectiveSd:
        node = self.get(path)
        parent = self.parent_of(node)
        if node.null_sd:
            if parent is None:
                return EffectiveSd(node.owner, node.group, None, False)
            inherited = self.effective(parent.path)
            aces = (
                None
                if inherited.aces is None
                else tuple(NsAce(a.type, a.flags | ID, a.mask, a.sid) for a in inherited.aces)
            )
            return EffectiveSd(inherited.owner, inherited.group, aces, False)
        effective_aces = list(node.explicit)
        if parent is not None:
            # [MS-WMI] 2.2.30.2: the PARENT's SE_DACL_PROTECTED decides whether its ACEs reach the child; the child's
            # own flag does not block them (unlike NTFS). "Establishing Inheritance of Namespace Security" agrees:
            # SE_DACL_PROTECTED "is not used" to give a child a specialized SD.
            parent_sd = self.effective(parent.path)
            if parent_sd.aces is not None and not parent_sd.protected:
                effective_aces.extend(inherit_to_child(parent_sd.aces))
        return EffectiveSd(node.owner, node.group, tuple(effective_aces), node.protected)

    def sd_model(self, path: str) -> SecurityDescriptor:
        eff = self.effective(path)
        control = 0x0004 | (SE_DACL_PROTECTED if eff.protected else 0)  # SE_DACL_PRESENT
        dacl = (
            None if eff.aces is None else Acl(tuple(Ace(a.type, a.flags, a.mask, Sid.parse(a.sid)) for a in eff.aces))
        )
        return SecurityDescriptor(
            control=control,
            owner=Sid.parse(eff.owner) if eff.owner else None,
            group=Sid.parse(eff.group) if eff.group else None,
            dacl=dacl,
        )

    def _denied_by(self, method: str, path: str) -> dict[str, Any]:
        return {"namespace": path} if self.denial_as_cim_error else {"method": method, "namespace": path}

    def get_sd(self, path: str, token: Iterable[str]) -> bytes:
        """__SystemSecurity.GetSD: needs READ_CONTROL on the namespace."""
        self.connect(path, token)
        if not self.rights(path, token) & READ_CONTROL:
            raise WmiError(
                WBEM_E_ACCESS_DENIED, f"caller lacks ReadSecurity on {path}", **self._denied_by("GetSD", path)
            )
        return sd_to_bytes(self.sd_model(path))

    def sddl(self, path: str) -> str:
        return sd_to_sddl(self.sd_model(path))

    def rights(self, path: str, token: Iterable[str]) -> int:
        """The caller's effective rights (what __SystemSecurity.GetCallerAccessRights returns once connected)."""
        return access_mask(self.effective(path), token)

    def caller_rights(self, path: str, token: Iterable[str]) -> int:
        """__SystemSecurity.GetCallerAccessRights, including the connection it needs."""
        self.connect(path, token)
        return self.rights(path, token)

    def set_sd(self, path: str, data: bytes, token: Iterable[str]) -> SetSdOutcome:
        """__SystemSecurity.SetSD with Windows' acceptance rules; raises WmiError, changes nothing on failure."""
        node = self.connect(path, token)
        if not self.rights(path, token) & WRITE_DAC:
            raise WmiError(
                WBEM_E_ACCESS_DENIED, f"caller lacks WriteSecurity on {path}", **self._denied_by("SetSD", path)
            )
        if not data:
            # A NULL SD: refused since Server 2003; before, accepted and the namespace inherits its parent's SD.
            if not self.pre_2003:
                raise WmiError(
                    WBEM_E_INVALID_PARAMETER,
                    "NULL security descriptor (refused since Server 2003)",
                    method="SetSD",
                    namespace=path,
                )
            node.null_sd = True
            return SetSdOutcome(accepted_null=True)
        try:
            sd = sd_from_bytes(data)
        except SecurityDescriptorError as exc:
            raise WmiError(
                WBEM_E_INVALID_OBJECT,
                f"descriptor does not pass basic validity tests: {exc}",
                method="SetSD",
                namespace=path,
            ) from None
        reason = setsd_rejection(sd, self.pre_2003)
        if reason:
            raise WmiError(WBEM_E_INVALID_PARAMETER, reason, method="SetSD", namespace=path)
        if sd.has_null_dacl:  # only reachable before Server 2003 (setsd_rejection refuses it otherwise)
            node.null_sd = True
            return SetSdOutcome(accepted_null=True)
        # SetSD's page: "The only part of the security descriptor that is used is the noninherited access control
        # entry (ACE) in the discretionary access control list (DACL)". Owner and group are validated (an SD without
        # them is refused) but not changed; inherited ACEs are recomputed from the parent.
        node.explicit = [a for a in _aces_from_acl(sd.dacl) if not a.flags & ID]
        node.protected = bool(sd.control & SE_DACL_PROTECTED)
        node.null_sd = False
        return SetSdOutcome()


def setsd_rejection(sd: SecurityDescriptor, pre_2003: bool) -> str | None:
    """Why SetSD answers WBEM_E_INVALID_PARAMETER for this SD, or None if it accepts it.

    The rules of the __SystemSecurity.SetSD page, checked over every DACL ACE (the DACL must be valid as a
    whole even though only its non-inherited ACEs are kept):
    owner or group missing; DACL missing; NULL DACL (2003+ only); ACE type not Allow/Deny; ACE flag outside
    OI|CI|NP|IO|ID; INHERIT_ONLY without CONTAINER_INHERIT; access bit outside 0x3f|ReadSecurity|WriteSecurity;
    FullWrite (0x4) without both PartialWrite (0x8) and ProviderWrite (0x10) - the safe reading of the page's
    ambiguous wording.
    """
    if sd.owner is None or sd.group is None:
        missing = " and ".join(n for n, v in (("owner", sd.owner), ("group", sd.group)) if v is None)
        return f"{missing} missing"
    if not sd.has_dacl:
        return "DACL missing"
    if sd.has_null_dacl:
        return None if pre_2003 else "NULL DACL (refused since Server 2003)"
    assert sd.dacl is not None
    for index, ace in enumerate(sd.dacl.aces):
        where = f"ACE {index}"
        if ace.type not in (ACCESS_ALLOWED, ACCESS_DENIED):
            return f"{where}: unknown ACE type 0x{ace.type:x}"
        if ace.flags & ~SETSD_KNOWN_FLAGS:
            return f"{where}: unknown ACE flags 0x{ace.flags & ~SETSD_KNOWN_FLAGS:x}"
        if ace.flags & IO and not ace.flags & CI:
            return f"{where}: INHERIT_ONLY without CONTAINER_INHERIT"
        if ace.mask & ~SETSD_KNOWN_MASK:
            return f"{where}: unknown access bits 0x{ace.mask & ~SETSD_KNOWN_MASK:x}"
        if ace.mask & WBEM_FULL_WRITE_REP and (ace.mask & (WBEM_PARTIAL_WRITE_REP | WBEM_WRITE_PROVIDER)) != (
            WBEM_PARTIAL_WRITE_REP | WBEM_WRITE_PROVIDER
        ):
            return f"{where}: FullWrite without PartialWrite and ProviderWrite"
    return None


def sids_in(sd_bytes: bytes) -> list[str]:
    """Every SID string in a descriptor (owner, group, DACL then SACL ACEs), in order of first appearance, as the
    ps1's Get-SdSid lists them for resolve_names."""
    sd = sd_from_bytes(sd_bytes)
    seen: dict[str, None] = {}
    for sid in (sd.owner, sd.group):
        if sid is not None:
            seen.setdefault(str(sid))
    for acl in (sd.dacl, sd.sacl):
        for ace in acl.aces if acl else ():
            seen.setdefault(str(ace.sid))
    return list(seen)
