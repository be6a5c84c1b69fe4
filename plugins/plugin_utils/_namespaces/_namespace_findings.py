# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Namespace names, readable namespace security reports and their findings (pure, no I/O)."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from .._sd._access_check import control_loss
from .._sd._acl_view import ACE_TYPE_WORDS, acl_view
from .._sd._principals import WELL_KNOWN_PRINCIPALS, principal_name
from .._sd._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    ACCESS_DENIED_ACE_TYPE,
    ACE_TYPE_NAMES,
    ALLOW_LIKE_ACE_TYPES,
    CONTAINER_INHERIT_ACE,
    INHERIT_ONLY_ACE,
    OBJECT_INHERIT_ACE,
    Ace,
    SecurityDescriptor,
    Sid,
    sd_to_sddl,
)
from .._sd._wmi_rights import inherit_name, mask_to_rights
from .._text import as_written
from .._wmi_errors import describe_error
from .._wmi_names import namespace_key, namespace_problem
from ._namespace_policy import is_canonical
from ._namespace_tree import NamespaceEntry, NamespaceTree, read_tree

# Principals that cover (almost) every account, or every account, logon or process of a kind: granting them write,
# remote access or WriteSecurity opens the namespace to all of them. This is the one list: the findings (WMI-004) and
# WMI-004's fix (is_broad_sid) both use it. Every SID of "Well-known SIDs" (MS-DTYP 2.4.2.4,
# https://learn.microsoft.com/en-us/openspecs/windows_protocols/ms-dtyp/81d92bba-d22b-4a8c-908a-554ab29148ab and
# https://learn.microsoft.com/en-us/windows/win32/secauthz/well-known-sids; names as in "Security identifiers",
# https://learn.microsoft.com/en-us/windows-server/identity/ad-ds/manage/understand-security-identifiers) was weighed;
# the ones left out are listed after the set, with the reason.
BROAD_PRINCIPALS = {
    "S-1-1-0",  # Everyone
    "S-1-2-0",  # LOCAL: every user logged on locally
    "S-1-2-1",  # CONSOLE LOGON: every user logged on at the physical console
    "S-1-5-1",  # NT AUTHORITY\DIALUP: every dial-up logon
    "S-1-5-2",  # NT AUTHORITY\NETWORK: every network logon
    "S-1-5-3",  # NT AUTHORITY\BATCH: every batch logon (scheduled tasks)
    "S-1-5-4",  # NT AUTHORITY\INTERACTIVE: every interactive logon
    "S-1-5-6",  # NT AUTHORITY\SERVICE: every service
    "S-1-5-7",  # NT AUTHORITY\ANONYMOUS LOGON: unauthenticated callers
    "S-1-5-11",  # NT AUTHORITY\Authenticated Users
    "S-1-5-13",  # NT AUTHORITY\TERMINAL SERVER USER: every Terminal Services user (application-compatibility mode)
    "S-1-5-14",  # NT AUTHORITY\REMOTE INTERACTIVE LOGON: every Remote Desktop logon
    "S-1-5-15",  # NT AUTHORITY\This Organization: every account of the forest
    "S-1-5-17",  # NT AUTHORITY\IUSR: the account anonymous IIS requests run as
    "S-1-5-64-10",  # NT AUTHORITY\NTLM Authentication: every NTLM logon
    "S-1-5-64-14",  # NT AUTHORITY\SChannel Authentication: every TLS client-certificate logon
    "S-1-5-64-21",  # NT AUTHORITY\Digest Authentication: every Digest logon
    "S-1-5-65-1",  # NT AUTHORITY\This Organization Certificate: every logon with a certificate of the organization
    "S-1-5-80-0",  # NT SERVICE\ALL SERVICES: every service's service SID
    "S-1-5-83-0",  # NT VIRTUAL MACHINE\Virtual Machines: every Hyper-V worker process
    "S-1-5-84-0-0-0-0-0",  # NT AUTHORITY\USER MODE DRIVERS: every user-mode (UMDF) driver host
    "S-1-5-113",  # NT AUTHORITY\Local account: every local account
    "S-1-5-1000",  # NT AUTHORITY\Other Organization: every account of a trusted external organization
    "S-1-5-32-545",  # BUILTIN\Users
    "S-1-5-32-546",  # BUILTIN\Guests
    "S-1-5-32-554",  # BUILTIN\Pre-Windows 2000 Compatible Access (often holds Everyone or Authenticated Users)
    "S-1-5-32-568",  # BUILTIN\IIS_IUSRS: every IIS application pool identity
    "S-1-15-2-1",  # APPLICATION PACKAGE AUTHORITY\ALL APPLICATION PACKAGES
    "S-1-15-2-2",  # APPLICATION PACKAGE AUTHORITY\ALL RESTRICTED APPLICATION PACKAGES
    "S-1-18-1",  # Authentication authority asserted identity: every Kerberos logon with a KDC-issued ticket
    "S-1-18-2",  # Service asserted identity: every S4U (protocol transition) logon
    "S-1-18-3",  # Fresh public key identity: every logon that just proved possession of a key (Windows Hello)
    "S-1-18-4",  # Key trust identity: every key-trust logon
    "S-1-18-5",  # Key property multi-factor authentication
    "S-1-18-6",  # Key property attestation
}
# Left out, on purpose:
# - S-1-0-0 NULL, S-1-3-0/1 CREATOR OWNER/GROUP, S-1-5-10 PRINCIPAL SELF: placeholders no logon token holds.
# - S-1-3-4 OWNER RIGHTS: the owner, judged by non_admin_owner (WMI-006).
# - S-1-5-5-x-y (one logon session), S-1-5-80-<service> (one service), S-1-5-19 LOCAL SERVICE, S-1-5-20 NETWORK
#   SERVICE: one account or session each; WriteSecurity or undocumented bits held by them are still findings.
# - S-1-5-12 RESTRICTED and S-1-5-33 WRITE RESTRICTED: checked only as a token's restricting SIDs, after its normal
#   SIDs; a grant to them alone lets nobody in.
# - S-1-5-9 ENTERPRISE DOMAIN CONTROLLERS and the operator groups (S-1-5-32-548..552 and the like): privileged
#   accounts an administrator chose, not every account of a kind.
# - S-1-5-114 Local account and member of Administrators: a non-elevated (UAC-filtered) token holds it for deny only,
#   so a grant reaches elevated local administrators, who hold Administrators' rights anyway.
# - S-1-16-x mandatory labels: integrity levels, which appear in SACL label ACEs, never in a DACL grant.
# Domain-relative SIDs that hold every account of a kind, matched on any domain or machine (S-1-5-21-x-y-z-RID):
# 501 Guest (the guest account), 513 Domain Users, 514 Domain Guests, 515 Domain Computers.
BROAD_DOMAIN_RIDS = {501, 513, 514, 515}
# Accounts that legitimately hold WriteSecurity: Administrators, SYSTEM, TrustedInstaller; plus domain RIDs 500
# (Administrator), 512 (Domain Admins), 518 (Schema Admins), 519 (Enterprise Admins).
ADMIN_SIDS = {"S-1-5-32-544", "S-1-5-18", "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"}
ADMIN_DOMAIN_RIDS = {500, 512, 518, 519}

FULL_OR_PARTIAL_WRITE = 0x4 | 0x8  # ProviderWrite (0x10) is left out: the Windows default grants it to AU, LS, NS.
REMOTE_ACCESS = 0x20
WRITE_SECURITY = 0x40000
# Every bit outside the documented namespace rights (0x3f, Subscribe 0x40, Publish 0x80, ReadSecurity, WriteSecurity):
# DELETE, WRITE_OWNER, SYNCHRONIZE, ACCESS_SYSTEM_SECURITY and the generic rights. SetSD refuses them, yet a descriptor
# written another way may hold them, and WMI documents no effect for them - so held by a non-administrator they are
# judged as write access (WRITE_OWNER would let the account take ownership, then rewrite the DACL).
OTHER_RIGHTS = 0xFFFFFFFF & ~(0x3F | 0x40 | 0x80 | 0x20000 | WRITE_SECURITY)

# The ACE types __SystemSecurity.SetSD writes: ACCESS_ALLOWED and ACCESS_DENIED. It refuses every other type ("An ACE
# has a type not in the table", Microsoft Learn, "SetSD method of the __SystemSecurity class"), so another type on a
# namespace was written some other way: a finding (unexpected_ace_type).
# https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsd-method-in-class---systemsecurity
SETSD_ACE_TYPES = frozenset({ACCESS_ALLOWED_ACE_TYPE, ACCESS_DENIED_ACE_TYPE})
# Allow-like types (MS-DTYP 2.4.4.3, 2.4.4.6, 2.4.4.8): the grant findings count each as an allow, the stricter
# reading - an object ACE without an object type applies to the whole object (MS-DTYP 2.5.3.2), and whether WMI
# evaluates a callback's condition is not documented. Only a plain deny cancels a grant for the grant findings: a
# deny-like variant may not apply (a condition, an object type), and counting it would hide a grant. The lock-out
# check (_access_check) takes the stricter reading the other way and counts every deny-like type as a deny.
ALLOW_TYPES = ALLOW_LIKE_ACE_TYPES


def normalise_namespace(text: str) -> str:
    """'root/cimv2', 'ROOT\\CIMV2', '\\root\\cimv2\\' -> backslash form; raises ValueError for a bad name.

    Case is kept (WMI compares namespace names case-insensitively); use namespace_key() to compare.
    """
    if not isinstance(text, str):
        raise ValueError(f"namespace {as_written(text)} must be a string")
    problem = namespace_problem(text)
    if problem == "is empty":
        raise ValueError("namespace must not be empty; give e.g. root\\cimv2")
    if problem == "does not start with root":
        raise ValueError(f"namespace {as_written(text)} must start with root (e.g. root\\cimv2)")
    parts = [part.strip() for part in text.replace("/", "\\").split("\\") if part.strip()]
    if problem is not None:
        bad = next(part for part in parts if namespace_problem(f"root\\{part}"))
        raise ValueError(
            f"namespace {as_written(text)} contains a character WMI does not allow in a name: {as_written(bad)}"
        )
    return "\\".join(["root", *parts[1:]])


def _domain_rid(sid: Sid) -> int | None:
    """The RID of a domain-relative SID (S-1-5-21-x-y-z-RID), else None."""
    subs = sid.sub_authorities
    return subs[4] if sid.authority == 5 and len(subs) == 5 and subs[0] == 21 else None


def is_admin_sid(sid: Sid) -> bool:
    return str(sid) in ADMIN_SIDS or _domain_rid(sid) in ADMIN_DOMAIN_RIDS


def is_broad_sid(sid: Sid) -> bool:
    return str(sid) in BROAD_PRINCIPALS or _domain_rid(sid) in BROAD_DOMAIN_RIDS


def ace_type_name(ace_type: int) -> str:
    """'allow', 'deny', or the MS-DTYP name in lower case ('access_allowed_object'); acl_view's spelling."""
    return ACE_TYPE_WORDS.get(ace_type, ACE_TYPE_NAMES.get(ace_type, f"{ace_type:#x}").lower())


def _finding(namespace: str, finding_id: str, severity: str, message: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"namespace": namespace, "id": finding_id, "severity": severity, "message": message, **extra}


# What each grant finding looks for: (id, severity, offending bits, whether only broad principals count, words).
_GRANT_RULES: tuple[tuple[str, str, int, bool, str], ...] = (
    ("broad_write", "high", FULL_OR_PARTIAL_WRITE, True, "any account can change WMI data"),
    ("broad_remote_access", "medium", REMOTE_ACCESS, True, "any account can use the namespace over the network"),
    ("non_admin_write_security", "high", WRITE_SECURITY, False, "it can change the namespace's permissions"),
    (
        "non_admin_other_rights",
        "high",
        OTHER_RIGHTS,
        False,
        "rights outside the documented namespace rights (generic, WRITE_OWNER, DELETE, ...) whose effect WMI does not "
        "document, judged as write access; WRITE_OWNER lets the account take ownership and then rewrite the DACL",
    ),
)


@dataclass
class _Grant:
    """One explicit allow ACE that grants offending rights, with every namespace of the report where it applies."""

    source: str | None  # the namespace where the ACE is explicit; None when that namespace was not read
    held_by: str  # the namespace the finding is reported on: the source, else the topmost namespace read that has it
    ace: Ace
    reaches_children: bool
    affected: dict[str, int] = field(default_factory=dict)  # namespace -> offending bits not denied before the ACE


def _applies(ace: Ace) -> bool:
    return ace.type in ALLOW_TYPES and not ace.flags & INHERIT_ONLY_ACE


def _same_grant(a: Ace, b: Ace) -> bool:
    return a.type == b.type and a.sid == b.sid and a.mask == b.mask


def _origin(entry: NamespaceEntry, ace: Ace, tree: NamespaceTree) -> tuple[str | None, str]:
    """(namespace where ``ace`` of ``entry`` is explicit or None if not read, namespace to report it on)."""
    while ace.inherited:
        holder = tree.parent(entry)
        dacl = holder.dacl if holder is not None else ()
        candidates = [a for a in dacl if _same_grant(a, ace) and a.flags & (CONTAINER_INHERIT_ACE | OBJECT_INHERIT_ACE)]
        if holder is None or not candidates:
            return None, entry.name
        explicit = [a for a in candidates if not a.inherited]
        entry, ace = holder, (explicit or candidates)[0]
    return entry.name, entry.name


def _denied_before(dacl: t.Sequence[Ace], ace: Ace) -> int:
    """Bits denied, before ``ace``, to its SID or to Everyone (which covers every principal)."""
    denied = 0
    for other in dacl:
        if other is ace:
            break
        applies = other.type == ACCESS_DENIED_ACE_TYPE and not other.flags & INHERIT_ONLY_ACE
        if applies and (other.sid == ace.sid or str(other.sid) == "S-1-1-0"):
            denied |= other.mask
    return denied


def _grants(tree: NamespaceTree) -> list[_Grant]:
    """Every offending grant, keyed by where it is explicit; each namespace judged on its effective DACL (what
    GetSD returns: explicit plus inherited ACEs, including an ancestor's inherit-only grants that reach it)."""
    grants: dict[tuple[str, int, int, str], _Grant] = {}
    for ns in tree.entries:
        dacl = ns.dacl if ns.descriptor.has_dacl else ()
        for ace in dacl:
            if ace.type not in ALLOW_TYPES or not _offending(ace, ace.mask):
                continue
            if not _applies(ace) and not ace.flags & CONTAINER_INHERIT_ACE:
                continue  # inherit-only without CI applies to no namespace (SetSD refuses it)
            source, held_by = _origin(ns, ace, tree)
            # One grant per ACE where it is explicit (its inherited copies have other flags, same type/mask/SID).
            key = (namespace_key(held_by), ace.type, ace.mask, str(ace.sid))
            grant = grants.setdefault(key, _Grant(source, held_by, ace, False))
            grant.reaches_children |= bool(ace.flags & CONTAINER_INHERIT_ACE)
            if _applies(ace):
                bits = _offending(ace, ace.mask & ~_denied_before(dacl, ace))
                if bits:
                    grant.affected[ns.name] = grant.affected.get(ns.name, 0) | bits
    return list(grants.values())


def _offending(ace: Ace, bits: int) -> int:
    """The bits of ``bits`` that make a grant to the ACE's SID a finding."""
    found = 0
    for _id, _severity, rule_bits, broad_only, _words in _GRANT_RULES:
        if (broad_only and not is_broad_sid(ace.sid)) or (not broad_only and is_admin_sid(ace.sid)):
            continue
        found |= bits & rule_bits
    return found


def _grant_findings(grant: _Grant, resolved: t.Mapping[str, str | None] | None) -> list[dict[str, t.Any]]:
    who = principal_name(grant.ace.sid, resolved)
    findings = []
    all_bits = 0
    for bits in grant.affected.values():
        all_bits |= bits
    if not all_bits and grant.reaches_children:
        # Not effective on any namespace read (inherit-only, or its children were not read): it still reaches every
        # child namespace, present or created later.
        all_bits = _offending(grant.ace, grant.ace.mask)
    for finding_id, severity, rule_bits, broad_only, words in _GRANT_RULES:
        if (broad_only and not is_broad_sid(grant.ace.sid)) or (not broad_only and is_admin_sid(grant.ace.sid)):
            continue
        bits = all_bits & rule_bits
        if not bits:
            continue
        rights = mask_to_rights(bits)
        where = (
            f"explicit on {grant.source}"
            if grant.source
            else f"inherited from an ancestor of {grant.held_by} that was not read"
        )
        affected = [name for name, mask in grant.affected.items() if mask & bits]
        reach = " and every child namespace" if grant.reaches_children else ""
        scope = ", ".join(affected[:5]) + (f" (and {len(affected) - 5} more)" if len(affected) > 5 else "")
        applies = f"applies on {scope or 'no namespace read'}{reach}"
        findings.append(
            _finding(
                grant.held_by,
                finding_id,
                severity,
                f"{who} has {', '.join(rights)} ({where}; {applies}): {words}.",
                principal=who,
                sid=str(grant.ace.sid),
                rights=rights,
                inherited=grant.source is None,
                source_namespace=grant.source,
                affected_namespaces=affected,
                reaches_children=grant.reaches_children,
                ace_type=ace_type_name(grant.ace.type),
                inherit=inherit_name(grant.ace.flags),
            )
        )
    return findings


def _unexpected_type_findings(
    ns: NamespaceEntry, tree: NamespaceTree, resolved: t.Mapping[str, str | None] | None
) -> list[dict[str, t.Any]]:
    """One finding per ACE of a type SetSD cannot write, on the namespace where it is explicit (or, inherited from a
    namespace not read, on this one): whatever wrote it bypassed SetSD, and this collection cannot rewrite the
    namespace while it is there (SetSD refuses the type), so a person must decide."""
    findings = []
    for ace in ns.dacl:
        if ace.type in SETSD_ACE_TYPES:
            continue
        source, held_by = _origin(ns, ace, tree)
        if namespace_key(held_by) != namespace_key(ns.name):
            continue  # reported where it is explicit
        who = principal_name(ace.sid, resolved)
        type_name = ace_type_name(ace.type)
        rights = mask_to_rights(ace.mask)
        where = f"explicit on {source}" if source else f"inherited from an ancestor of {held_by} that was not read"
        findings.append(
            _finding(
                held_by,
                "unexpected_ace_type",
                "high" if ace.type in ALLOW_TYPES else "medium",
                f"{type_name} ACE for {who} with {', '.join(rights) or 'no rights'} ({where}): "
                "__SystemSecurity.SetSD cannot write this type, so the descriptor was written some other way; "
                + (
                    "its rights are judged as an allow. "
                    if ace.type in ALLOW_TYPES
                    else "it is not counted as cancelling any grant. "
                )
                + "Review it and replace the namespace's explicit ACEs (winsec.wmi.namespace_sd mode=exact).",
                principal=who,
                sid=str(ace.sid),
                rights=rights,
                ace_type=type_name,
                inherited=source is None,
                source_namespace=source,
                inherit=inherit_name(ace.flags),
            )
        )
    return findings


def _namespace_findings(
    ns: NamespaceEntry, tree: NamespaceTree, resolved: t.Mapping[str, str | None] | None
) -> list[dict[str, t.Any]]:
    """Findings about one namespace's descriptor as a whole: DACL state, order, owner, orphaned SIDs."""
    sd, namespace = ns.descriptor, ns.name
    findings: list[dict[str, t.Any]] = []
    if sd.owner is not None and not is_admin_sid(sd.owner):
        who = principal_name(sd.owner, resolved)
        findings.append(
            _finding(
                namespace,
                "non_admin_owner",
                "high",
                f"The namespace is owned by {who}, not an administrative account: an owner can read and rewrite the "
                "namespace's permissions whatever the DACL says.",
                principal=who,
                sid=str(sd.owner),
            )
        )
    if not sd.has_dacl:
        no_dacl = "The namespace has no DACL: everyone has full access."
        return [*findings, _finding(namespace, "no_dacl", "high", no_dacl)]
    if sd.dacl is None:
        return [
            *findings,
            _finding(namespace, "null_dacl", "high", "The namespace has a NULL DACL: everyone has full access."),
        ]
    if not sd.dacl.aces:
        findings.append(
            _finding(
                namespace, "empty_dacl", "medium", "The DACL is empty: nobody, not even Administrators, has access."
            )
        )
    elif (loss := control_loss(namespace, sd.dacl.aces, str(sd.owner) if sd.owner else None)) is not None:
        # The same access check the lock-out guard uses: the namespace is already out of the control of
        # Administrators (over WinRM or at the console) or SYSTEM, so this collection may not be able to repair it.
        findings.append(
            _finding(
                namespace,
                "admin_control_lost",
                "high",
                "Administrators or SYSTEM lack rights they need to open, read or repair the namespace: "
                f"{loss.words().replace(' would lack ', ' lacks ')}.",
            )
        )
    findings.extend(_unexpected_type_findings(ns, tree, resolved))
    if not is_canonical(sd.dacl.aces):
        findings.append(
            _finding(
                namespace,
                "non_canonical_order",
                "medium",
                "The DACL is not in canonical order (explicit deny, "
                "explicit allow, then inherited): a deny ACE may not take effect.",
            )
        )
    if resolved is not None:
        seen: set[str] = set()
        # Owner, group and the ACEs reported on this namespace (explicit here, or inherited from a namespace
        # that was not read): an inherited ACE is judged where it is explicit.
        sids = [sd.owner, sd.group]
        sids += [ace.sid for ace in sd.dacl.aces if _origin(ns, ace, tree)[1] == namespace]
        for sid_value in sids:
            if sid_value is None or str(sid_value) in seen:
                continue
            text = str(sid_value)
            seen.add(text)
            if text in resolved and resolved[text] is None and text not in WELL_KNOWN_PRINCIPALS:
                findings.append(
                    _finding(
                        namespace,
                        "orphaned_sid",
                        "low",
                        f"{text} does not resolve to an account (deleted "
                        "account or a domain the host no longer trusts); remove its ACEs.",
                        sid=text,
                        principal=text,
                    )
                )
    return findings


def namespace_findings(
    namespaces: t.Sequence[tuple[str, SecurityDescriptor]] | NamespaceTree,
    resolved: t.Mapping[str, str | None] | None = None,
) -> dict[str, list[dict[str, t.Any]]]:
    """Findings for namespaces read together (each once), keyed by namespace as read: the readable entries of a
    NamespaceTree, or (name, descriptor) pairs.

    Each namespace is judged on its effective DACL - what GetSD returns, explicit plus inherited ACEs, so an
    ancestor's inherit-only grant counts where it arrives. A grant is reported ONCE, on the namespace where its ACE
    is explicit (``source_namespace``), listing every namespace read where it applies (``affected_namespaces``)
    and whether it reaches child namespaces; an inherit-only grant is reported at its source even when no child
    was read. A grant inherited from a namespace that was not read is reported on the topmost namespace read that
    has it, with ``source_namespace`` null. ``rights`` holds only the offending rights. A descriptor that does not
    decode raises its named sentence (WmiActionError).
    """
    tree = namespaces.readable() if isinstance(namespaces, NamespaceTree) else NamespaceTree.of_descriptors(namespaces)
    found: dict[str, list[dict[str, t.Any]]] = {ns.name: [] for ns in tree.entries}
    for ns in tree.entries:
        found[ns.name].extend(_namespace_findings(ns, tree, resolved))
    for grant in _grants(tree):
        for finding in _grant_findings(grant, resolved):
            found[t.cast(NamespaceEntry, tree.entry(grant.held_by)).name].append(finding)
    return found


def namespace_report(
    entry: NamespaceEntry,
    resolved: t.Mapping[str, str | None] | None,
    findings: list[dict[str, t.Any]] | None = None,
) -> dict[str, t.Any]:
    """One namespace of the tree -> the readable report of namespace_sd_info. ``findings`` are the namespace's
    findings when judged with others (namespace_reports); left out, it is judged alone."""
    namespace = entry.name
    if entry.unread:
        error = describe_error(entry.error or {"code": "NOT_FOUND", "message": "no security descriptor"})
        return {
            "namespace": namespace,
            "error": error.to_dict(),
            "msg": error.sentence(f"reading {namespace}"),
            "findings": [],
        }
    sd = entry.descriptor
    view = acl_view(sd, resolved)
    if findings is None:
        findings = namespace_findings([(namespace, sd)], resolved)[namespace]
    return {
        "namespace": namespace,
        "sddl": sd_to_sddl(sd),
        "owner": view["owner"],
        "group": view["group"],
        "dacl": view["dacl"],
        "aces": view["aces"],
        "findings": findings,
    }


def namespace_reports(
    tree: NamespaceTree | t.Iterable[t.Mapping[str, t.Any]], resolved: t.Mapping[str, str | None] | None
) -> list[dict[str, t.Any]]:
    """Reports for every namespace read, once each, in the order read; findings judged across all of them.
    ``tree``: the read model, or sd_get namespace entries ({namespace, sd, error})."""
    if not isinstance(tree, NamespaceTree):
        tree = NamespaceTree.from_entries(tree)
    findings = namespace_findings(tree, resolved)
    return [namespace_report(entry, resolved, findings.get(entry.name, [])) for entry in tree.entries]


def read_reports(
    namespaces: t.Sequence[str], results: t.Sequence[t.Mapping[str, t.Any]], *, resolve_names: bool
) -> list[dict[str, t.Any]]:
    """sd_get results -> one readable report per namespace read (each once, in the order read). Judged once per
    reply, whichever control asks first (WMI-003 to WMI-006 share them)."""
    tree = read_tree(namespaces, results)
    resolved = tree.principals if resolve_names else None
    return t.cast(
        list[dict[str, t.Any]],
        tree.derived(f"reports resolve_names={resolve_names}", (), lambda: namespace_reports(tree, resolved)),
    )
