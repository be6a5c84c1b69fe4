# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Namespace names, readable namespace security reports and their findings (pure, no I/O)."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import binascii
import re
import typing as t

from ._acl_view import acl_view
from ._namespace_policy import is_canonical
from ._principals import WELL_KNOWN_PRINCIPALS, principal_name
from ._sd import (
    ACCESS_ALLOWED_ACE_TYPE,
    INHERIT_ONLY_ACE,
    SecurityDescriptor,
    SecurityDescriptorError,
    Sid,
    sd_from_bytes,
    sd_to_sddl,
)
from ._wmi_errors import describe_error
from ._wmi_rights import mask_to_rights

# Principals that cover (almost) every account: granting them write or remote access opens the namespace to all.
BROAD_PRINCIPALS = {
    "S-1-1-0",  # Everyone
    "S-1-5-7",  # ANONYMOUS LOGON
    "S-1-5-11",  # Authenticated Users
    "S-1-5-32-545",  # BUILTIN\Users
    "S-1-5-32-546",  # BUILTIN\Guests
    "S-1-5-2",  # NETWORK
    "S-1-5-4",  # INTERACTIVE
}
# Accounts that legitimately hold WriteSecurity: Administrators, SYSTEM, TrustedInstaller; plus domain RIDs 500
# (Administrator), 512 (Domain Admins), 518 (Schema Admins), 519 (Enterprise Admins).
ADMIN_SIDS = {"S-1-5-32-544", "S-1-5-18", "S-1-5-80-956008885-3418522649-1831038044-1853292631-2271478464"}
ADMIN_DOMAIN_RIDS = {500, 512, 518, 519}

FULL_OR_PARTIAL_WRITE = 0x4 | 0x8  # ProviderWrite (0x10) is left out: the Windows default grants it to AU, LS, NS.
REMOTE_ACCESS = 0x20
WRITE_SECURITY = 0x40000

_INVALID_NAMESPACE_CHARS = re.compile(r'[*?"<>|:\x00-\x1f]')


def normalise_namespace(text: str) -> str:
    """'root/cimv2', 'ROOT\\CIMV2', '\\root\\cimv2\\' -> backslash form; raises ValueError for a bad name.

    Case is kept (WMI compares namespace names case-insensitively); use namespace_key() to compare.
    """
    if not isinstance(text, str):
        raise ValueError(f"namespace {text!r} must be a string")
    parts = [part.strip() for part in text.replace("/", "\\").split("\\") if part.strip()]
    if not parts:
        raise ValueError("namespace must not be empty; give e.g. root\\cimv2")
    if parts[0].lower() != "root":
        raise ValueError(f"namespace {text!r} must start with root (e.g. root\\cimv2)")
    for part in parts:
        if _INVALID_NAMESPACE_CHARS.search(part):
            raise ValueError(f"namespace {text!r} contains a character WMI does not allow in a name: {part!r}")
    return "\\".join(["root", *parts[1:]])


def namespace_key(namespace: str) -> str:
    return namespace.replace("/", "\\").strip("\\").lower()


def _parent_key(namespace: str) -> str | None:
    key = namespace_key(namespace)
    return key.rsplit("\\", 1)[0] if "\\" in key else None


def is_admin_sid(sid: Sid) -> bool:
    text = str(sid)
    if text in ADMIN_SIDS:
        return True
    return text.startswith("S-1-5-21-") and sid.rid in ADMIN_DOMAIN_RIDS


def decode_sd(sd_base64: str) -> SecurityDescriptor:
    try:
        data = base64.b64decode(sd_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise SecurityDescriptorError(f"the host returned a security descriptor that is not base64: {exc}") from None
    return sd_from_bytes(data)


def _finding(namespace: str, finding_id: str, severity: str, message: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"namespace": namespace, "id": finding_id, "severity": severity, "message": message, **extra}


def namespace_findings(
    namespace: str,
    sd: SecurityDescriptor,
    resolved: t.Mapping[str, str | None] | None = None,
    *,
    report_inherited: bool = True,
) -> list[dict[str, t.Any]]:
    """What is wrong with one namespace's SD. Inherited ACEs are judged only when report_inherited (the caller
    turns it off when the parent namespace is in the same report, so a parent's ACE is reported once)."""
    if not sd.has_dacl:
        return [_finding(namespace, "no_dacl", "high", "The namespace has no DACL: everyone has full access.")]
    if sd.dacl is None:
        return [_finding(namespace, "null_dacl", "high", "The namespace has a NULL DACL: everyone has full access.")]
    findings: list[dict[str, t.Any]] = []
    if not sd.dacl.aces:
        findings.append(
            _finding(
                namespace, "empty_dacl", "medium", "The DACL is empty: nobody, not even Administrators, has access."
            )
        )
    for ace in sd.dacl.aces:
        if ace.inherited and not report_inherited:
            continue
        if ace.type != ACCESS_ALLOWED_ACE_TYPE or ace.flags & INHERIT_ONLY_ACE:
            continue
        sid = str(ace.sid)
        who = principal_name(ace.sid, resolved)
        extra = {"principal": who, "sid": sid, "rights": mask_to_rights(ace.mask), "inherited": ace.inherited}
        source = "inherited" if ace.inherited else "explicit"
        if sid in BROAD_PRINCIPALS and ace.mask & FULL_OR_PARTIAL_WRITE:
            rights = ", ".join(mask_to_rights(ace.mask & FULL_OR_PARTIAL_WRITE))
            findings.append(
                _finding(
                    namespace,
                    "broad_write",
                    "high",
                    f"{who} has {rights} ({source} ACE): any account can change WMI data here.",
                    **extra,
                )
            )
        if sid in BROAD_PRINCIPALS and ace.mask & REMOTE_ACCESS:
            findings.append(
                _finding(
                    namespace,
                    "broad_remote_access",
                    "medium",
                    f"{who} has RemoteAccess ({source} ACE): any account can use this namespace over the network.",
                    **extra,
                )
            )
        if ace.mask & WRITE_SECURITY and not is_admin_sid(ace.sid):
            findings.append(
                _finding(
                    namespace,
                    "non_admin_write_security",
                    "high",
                    f"{who} has WriteSecurity ({source} ACE): it can change this namespace's permissions.",
                    **extra,
                )
            )
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
        sids = [sd.owner, sd.group, *(ace.sid for ace in sd.dacl.aces if not ace.inherited or report_inherited)]
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


def namespace_report(
    entry: t.Mapping[str, t.Any],
    resolved: t.Mapping[str, str | None] | None,
    *,
    report_inherited: bool = True,
) -> dict[str, t.Any]:
    """One sd_get namespace entry ({namespace, sd, error}) -> the readable report of namespace_sd_info."""
    namespace = str(entry.get("namespace"))
    if entry.get("error") or not entry.get("sd"):
        error = describe_error(entry.get("error") or {"code": "NOT_FOUND", "message": "no security descriptor"})
        return {
            "namespace": namespace,
            "error": error.to_dict(),
            "msg": error.sentence(f"reading {namespace}"),
            "findings": [],
        }
    sd = decode_sd(str(entry["sd"]))
    view = acl_view(sd, resolved)
    return {
        "namespace": namespace,
        "sddl": sd_to_sddl(sd),
        "owner": view["owner"],
        "group": view["group"],
        "dacl": view["dacl"],
        "aces": view["aces"],
        "explicit_aces": [ace for ace in view["aces"] if not ace["inherited"]],
        "findings": namespace_findings(namespace, sd, resolved, report_inherited=report_inherited),
    }


def namespace_reports(
    entries: t.Iterable[t.Mapping[str, t.Any]], resolved: t.Mapping[str, str | None] | None
) -> list[dict[str, t.Any]]:
    """Reports for every namespace read, once each, in the order read."""
    unique: dict[str, t.Mapping[str, t.Any]] = {}
    for entry in entries:
        unique.setdefault(namespace_key(str(entry.get("namespace"))), entry)
    return [
        namespace_report(entry, resolved, report_inherited=_parent_key(str(entry.get("namespace"))) not in unique)
        for entry in unique.values()
    ]
