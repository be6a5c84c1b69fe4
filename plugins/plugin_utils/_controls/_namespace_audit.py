# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Namespace auditing (baseline control WMI-022): changes to a namespace's security are audited.

A change to a namespace's security descriptor is a WriteSecurity (WRITE_DAC, 0x40000) access to it. Windows logs it
(Security event 4662, "An operation was performed on an object") only when the namespace's SACL holds a
SYSTEM_AUDIT ACE for that access and the Audit Object Access policy is on. The SACL is part of the descriptor WMI
returns only to a caller whose token has SeSecurityPrivilege enabled (Microsoft Learn, __SystemSecurity
GetSecurityDescriptor: "If the SeSecurityPrivilege is not granted or enabled ... only the DACL is returned"), so a
descriptor read without it says nothing about auditing: that is reported as unknown, never as "no SACL".

The control reads each configured namespace and every namespace below it, and judges each on the SACL Windows
returns for it (its own entries and the ones it inherits), so it does not depend on how SACL inheritance works for
WMI namespaces (no Microsoft document describes it; MS-WMI 2.2.30.2 describes the DACL's). Only an entry for Everyone
or Authenticated Users counts: one for Administrators misses a change by a non-administrator who was granted
WriteSecurity, which is exactly the change worth an event.

With ``set_sacl`` the control adds the recommended entry in enforce mode. __SystemSecurity.SetSD cannot do it (it
uses only the DACL's non-inherited ACEs, Microsoft Learn, SetSD); wmi_state's ``sacl_set`` calls SetSecurityDescriptor,
which updates only the parts whose SE_*_PRESENT bit is set (Microsoft Learn, SetSecurityDescriptor). The descriptor
sent holds the namespace's own SACL entries plus the new one, and no DACL, owner or group, so the write cannot change
who has access; wmi_state refuses any other descriptor. Entries the namespace inherits are not written: they stay
its parent's.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import typing as t
from dataclasses import replace

from .._control import Control, Decision, HostContext, Reference
from .._diff import combined, sacl_diff, sacl_sddl
from .._namespaces._namespace_findings import namespace_key, normalise_namespace
from .._namespaces._namespace_tree import NamespaceEntry, namespace_trees
from .._sd._sd import SecurityDescriptor, sd_from_sddl, sd_to_bytes
from .._sd._sd_model import (
    CONTAINER_INHERIT_ACE,
    INHERIT_ONLY_ACE,
    NO_PROPAGATE_INHERIT_ACE,
    SE_SACL_PRESENT,
    SE_SACL_PROTECTED,
    SE_SELF_RELATIVE,
    SUCCESSFUL_ACCESS_ACE_FLAG,
    SYSTEM_AUDIT_ACE_TYPE,
    Ace,
    Acl,
)
from .._text import plural
from .._wmi_errors import WmiActionError, written_value
from ._exceptions import NO_EXCEPTIONS, ControlExceptions

if t.TYPE_CHECKING:
    from ._registry import BaselineOptions

DOCS_GET_SECURITY_DESCRIPTOR = Reference(
    "GetSecurityDescriptor method of the __SystemSecurity class (Microsoft Learn): the SACL needs SeSecurityPrivilege",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/getsecuritydescriptor-method-in-class---systemsecurity-",
)
DOCS_SET_SD = Reference(
    "SetSD method of the __SystemSecurity class (Microsoft Learn): only the DACL is used",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/--systemsecurity-setsd",
)
DOCS_SET_SECURITY_DESCRIPTOR = Reference(
    "SetSecurityDescriptor method of the __SystemSecurity class (Microsoft Learn): the SACL is set with "
    "SeSecurityPrivilege enabled",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setsecuritydescriptor-method-in-class---systemsecurity",
)

WRITE_SECURITY = 0x40000  # WRITE_DAC: what changing a namespace's security descriptor needs
# Principals whose audit entry covers every account that can change a namespace's security (any account that connects
# to WMI is authenticated; SYSTEM's token holds both).
COVERING_SIDS = {"S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users"}
RECOMMENDED_SACL = "S:(AU;CISA;WD;;;WD)"  # audit successful WriteSecurity by Everyone, here and below
RECOMMENDED_ACE = t.cast(Acl, sd_from_sddl(RECOMMENDED_SACL).sacl).aces[0]


def audits_write_security(ace: Ace) -> bool:
    """A success audit of WriteSecurity, for whichever principal."""
    return ace.type == SYSTEM_AUDIT_ACE_TYPE and bool(
        ace.flags & SUCCESSFUL_ACCESS_ACE_FLAG and ace.mask & WRITE_SECURITY
    )


def audits_security_changes(ace: Ace) -> bool:
    """A success audit of WriteSecurity for every account (COVERING_SIDS), effective on this namespace."""
    return audits_write_security(ace) and not ace.flags & INHERIT_ONLY_ACE and str(ace.sid) in COVERING_SIDS


def reaches_every_descendant(ace: Ace) -> bool:
    """A covering entry meant for every namespace below: container-inherit, without no-propagate."""
    return (
        audits_write_security(ace)
        and str(ace.sid) in COVERING_SIDS
        and bool(ace.flags & CONTAINER_INHERIT_ACE)
        and not ace.flags & NO_PROPAGATE_INHERIT_ACE
    )


def sacl_write(namespace: str, read_sd: str, sd: SecurityDescriptor) -> tuple[dict[str, t.Any], SecurityDescriptor]:
    """The sacl_set operation that adds RECOMMENDED_ACE to the namespace's own SACL entries, and what it sends.

    The descriptor holds a SACL and nothing else (no DACL, owner or group): SetSecurityDescriptor keeps every part
    whose SE_*_PRESENT bit is clear, and wmi_state refuses any other descriptor for sacl_set. The SACL's protection
    is kept as read."""
    explicit = tuple(ace for ace in (sd.sacl.aces if sd.sacl is not None else ()) if not ace.inherited)
    # The write goes through Win32_ACE (BinarySDToWin32SD, then SetSecurityDescriptor), which carries AceType,
    # AceFlags, AccessMask and Trustee only (Microsoft Learn, Win32_ACE): an object, callback or label entry already
    # there would not survive it. wmi_state refuses such a descriptor; the control says so before any contact.
    foreign = sorted({f"0x{ace.type:02X}" for ace in explicit if ace.type != SYSTEM_AUDIT_ACE_TYPE})
    if foreign:
        raise WmiActionError(
            f"The SACL of {namespace} holds entries of ACE type {', '.join(foreign)}, which a write through "
            "SetSecurityDescriptor (Win32_ACE) cannot carry; nothing was written. Add the audit entry "
            f"{RECOMMENDED_SACL[2:]} with a tool that writes the binary descriptor, or leave set_sacl off for it."
        )
    written = SecurityDescriptor(
        control=SE_SELF_RELATIVE | SE_SACL_PRESENT | (sd.control & SE_SACL_PROTECTED),
        sacl=Acl((*explicit, RECOMMENDED_ACE)),
    )
    encoded = base64.b64encode(sd_to_bytes(written)).decode("ascii")
    return {"op": "sacl_set", "namespace": namespace, "sd": encoded, "expected_sd": read_sd}, written


def sacl_after(read: SecurityDescriptor, written: SecurityDescriptor) -> SecurityDescriptor:
    """The namespace's descriptor once ``written`` (from sacl_write) is set: its explicit SACL entries are the ones
    written, the inherited ones stay as read: they are the parent's, and explicit entries come before inherited ones
    (Microsoft Learn, "Order of ACEs in a DACL")."""
    inherited = tuple(ace for ace in (read.sacl.aces if read.sacl is not None else ()) if ace.inherited)
    explicit = written.sacl.aces if written.sacl is not None else ()
    return replace(read, control=read.control | SE_SACL_PRESENT, sacl=Acl((*explicit, *inherited)))


def is_audited(namespace: NamespaceEntry) -> bool:
    """Whether the namespace's SACL (as read) audits every account's changes to its security."""
    return any(audits_security_changes(ace) for ace in namespace.sacl)


def _below(namespace: str, ancestor: str) -> bool:
    return namespace_key(namespace).startswith(namespace_key(ancestor) + "\\")


def _subtree_roots(namespaces: t.Sequence[str]) -> list[str]:
    """The configured namespaces without those inside another one's subtree (each is read with its descendants)."""
    roots: list[str] = []
    for namespace in namespaces:
        if any(namespace_key(namespace) == namespace_key(root) or _below(namespace, root) for root in roots):
            continue
        roots = [root for root in roots if not _below(root, namespace)] + [namespace]
    return roots


class NamespaceAudit(Control):
    """WMI-022: each namespace's SACL audits changes to its security (reported; with set_sacl, enforced)."""

    id = "WMI-022"
    title = "Changes to namespace security are audited (SACL, Security event 4662)"
    severity = "medium"
    references = (DOCS_GET_SECURITY_DESCRIPTOR, DOCS_SET_SD, DOCS_SET_SECURITY_DESCRIPTOR)
    fix_leaves_out_excepted = True

    def __init__(
        self,
        *,
        namespaces: t.Sequence[str] | None = None,
        set_sacl: bool = False,
        exceptions: ControlExceptions = NO_EXCEPTIONS,
    ) -> None:
        try:
            self.namespaces = _subtree_roots([normalise_namespace(name) for name in (namespaces or ["root"])])
        except ValueError as exc:
            raise WmiActionError(f"namespaces: {exc}") from None
        self.set_sacl = set_sacl
        self.exceptions = exceptions

    @classmethod
    def from_options(
        cls, options: t.Mapping[str, t.Any] | None, exceptions: ControlExceptions = NO_EXCEPTIONS
    ) -> NamespaceAudit:
        """``{namespaces: [...], set_sacl: bool}`` (default: root and every namespace below it; report only)."""
        options = options or {}
        return cls(
            namespaces=options.get("namespaces"),
            set_sacl=bool(options.get("set_sacl", False)),
            exceptions=exceptions,
        )

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> NamespaceAudit:
        return cls.from_options(options.params.get("namespace_audit"), options.exceptions)

    def reads(self) -> list[dict[str, t.Any]]:
        return [
            {"op": "sd_get", "namespace": namespace, "recurse": True, "sacl": True} for namespace in self.namespaces
        ]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        findings: list[dict[str, t.Any]] = []
        unreadable: list[str] = []
        audited: list[str] = []
        targets: dict[str, NamespaceEntry] = {}  # where the entry is to be added, by namespace key
        read = 0  # namespaces whose SACL was read
        for root, result in zip(self.namespaces, results, strict=True):
            context = f"reading the security descriptors and SACLs of {root} and below"
            (read_tree,) = namespace_trees([result], [context])
            if not read_tree.sacl_read:
                unreadable.append(root)
                findings.append(
                    {
                        "id": "sacl_unreadable",
                        "severity": "info",
                        "namespace": root,
                        "message": f"The SACL of {root} could not be read: the connecting account does not hold "
                        "SeSecurityPrivilege ('Manage auditing and security log'), so whether changes are audited is "
                        "unknown (not 'no SACL').",
                    }
                )
                continue
            # A descriptor whose SACL the host did not return (GetSD's bytes, without SE_SACL_PRESENT) is "SACL
            # unknown", never "no SACL": writing then would replace audit entries nobody has read.
            not_returned = [e.name for e in read_tree.entries if e.sd_base64 and e.sacl_returned is not True]
            if not_returned:
                unreadable.append(root)
                findings.append(
                    {
                        "id": "sacl_unreadable",
                        "severity": "info",
                        "namespace": root,
                        "message": f"The host did not return the SACL of {', '.join(not_returned)} (its descriptor "
                        "came from GetSD, which is not documented to carry it, because GetSecurityDescriptor failed), "
                        "so whether changes are audited is unknown (not 'no SACL') and nothing is written.",
                    }
                )
                continue
            tree = [_judged(entry) for entry in read_tree.entries]
            if not tree:
                raise WmiActionError(f"The host returned no security descriptor for {root}.")
            read += len(tree)
            audited.extend(namespace.name for namespace in tree if is_audited(namespace))
            findings.extend(self._subtree_findings(tree, targets))
        if unreadable:
            return self._unknown(host, unreadable, audited, read, findings)
        writes: list[dict[str, t.Any]] = []
        changes: list[str] = []
        diffs: list[dict[str, str]] = []
        # A target whose finding is excepted keeps its SACL: the entry written there would audit every namespace
        # the finding lists, the excepted ones included.
        kept = {namespace_key(str(f["namespace"])) for f in findings if self.excepted(self.id, f)}
        if self.set_sacl:
            for key, target in targets.items():
                if key in kept:
                    continue
                write, written = sacl_write(target.name, t.cast(str, target.sd_base64), target.descriptor)
                writes.append(write)
                changes.append(f"{target.name}: SACL + {RECOMMENDED_SACL[2:]}")
                diffs.append(sacl_diff(target.name, target.descriptor, sacl_after(target.descriptor, written)))
        result_keys: dict[str, t.Any] = {
            "os": host.os_facts,
            "audited": audited,
            "sacl_unreadable": [],
            "findings": findings,
        }
        expected, actual, remediation = self._texts(audited, read, unreadable)
        if not findings:
            result_keys["msg"] = f"Changes to the security of {', '.join(self.namespaces)} and below are audited."
            return Decision("compliant", expected, actual, remediation=remediation, result=result_keys)
        result_keys["msg"] = (
            "Namespace security changes are not audited on "
            + ", ".join(str(finding["namespace"]) for finding in findings)
            + "."
        )
        return Decision(
            "drift",
            expected,
            actual,
            findings=findings,
            writes=writes,
            changes=changes,
            remediation=remediation,
            automatic=bool(writes),
            diff=combined(diffs),
            result=result_keys,
        )

    def _subtree_findings(
        self, tree: list[NamespaceEntry], targets: dict[str, NamespaceEntry]
    ) -> list[dict[str, t.Any]]:
        """The namespaces of one subtree that are not audited, as one finding per place the recommended entry would
        fix them (recorded in ``targets``): the subtree's root, unless the root's own entry is already meant for every
        namespace below, and otherwise each top-most namespace that entry does not reach. Either way the namespace
        written lacks the entry, so a run after the write finds it and writes nothing (no endless rewrites)."""
        root = tree[0]
        inherits_from_root = any(reaches_every_descendant(ace) for ace in root.sacl if not ace.inherited)
        groups: dict[str, list[NamespaceEntry]] = {}
        tops: list[NamespaceEntry] = []
        for namespace in tree:
            if is_audited(namespace):
                continue
            top = next((top for top in tops if namespace.is_below(top)), None)
            if top is None:
                tops.append(namespace)
                top = namespace
            target = root if top is root or not inherits_from_root else top
            targets.setdefault(target.key, target)
            groups.setdefault(target.name, []).append(namespace)
        return [self._finding(root, targets[namespace_key(name)], members) for name, members in groups.items()]

    def _finding(self, root: NamespaceEntry, target: NamespaceEntry, members: list[NamespaceEntry]) -> dict[str, t.Any]:
        """``members`` are not audited; ``target`` is where the recommended entry would fix them (its SACL is the
        evidence)."""
        narrow_entries = [ace for n in members for ace in n.sacl if audits_write_security(ace)]
        others = sorted({str(ace.sid) for ace in narrow_entries if str(ace.sid) not in COVERING_SIDS})
        narrow = (
            f" Entries there audit WriteSecurity only for {', '.join(others)}: a change by another account (e.g. a "
            "service account granted WriteSecurity) leaves no event."
            if others
            else ""
        )
        names = [n.name for n in members]
        shown = ", ".join(names[:5]) + (f" and {plural(len(names) - 5, 'more namespace')}" if len(names) > 5 else "")
        if members[0] is root:
            finding_id = "security_changes_not_audited"
            message = (
                f"No SACL entry of {root.name} audits successful WriteSecurity by Everyone or Authenticated Users: a "
                f"change to its security leaves no event 4662 (not audited: {shown}).{narrow}"
            )
        else:
            finding_id = "security_audit_not_inherited"
            message = (
                f"{plural(len(names), 'namespace')} below {root.name} {'is' if len(names) == 1 else 'are'} not "
                f"audited ({shown}): no entry auditing WriteSecurity by Everyone or Authenticated Users reaches "
                "them (the entry above is not container-inherit, stops with no-propagate, or does not pass to them)."
                f"{narrow}"
            )
        return {
            "id": finding_id,
            "severity": self.severity,
            "namespace": target.name,
            "namespaces": names,
            "sacl": sacl_sddl(target.descriptor),
            "message": message,
        }

    def _texts(self, audited: list[str], read: int, unreadable: list[str]) -> tuple[str, str, str]:
        where = ", ".join(self.namespaces)
        expected = f"a SACL entry auditing WriteSecurity by Everyone, e.g. {RECOMMENDED_SACL}, on {where} and below"
        actual = f"{len(audited)} of {plural(read, 'namespace')} audited" + (
            f"; SACL unreadable (no SeSecurityPrivilege): {', '.join(unreadable)}" if unreadable else ""
        )
        remediation = (
            f"Add {RECOMMENDED_SACL} to the SACL of {where} (namespace_audit.set_sacl=true in enforce mode does it; "
            "by hand: wmimgmt.msc, WMI Control, Properties, Security, Advanced, Auditing) and turn on the Audit "
            "Object Access policy, so that Windows logs Security event 4662 when a namespace's security changes."
        )
        return expected, actual, remediation

    def _unknown(
        self, host: HostContext, unreadable: list[str], audited: list[str], read: int, findings: list[dict[str, t.Any]]
    ) -> Decision:
        expected, actual, remediation = self._texts(audited, read, unreadable)
        reason = (
            f"Cannot tell whether namespace security changes are audited on {', '.join(unreadable)}: reading a "
            "SACL needs SeSecurityPrivilege, which the connecting account does not hold (connect as an account "
            "that has 'Manage auditing and security log', e.g. an elevated administrator)."
        )
        result_keys = {
            "os": host.os_facts,
            "audited": audited,
            "sacl_unreadable": unreadable,
            "findings": findings,
            "msg": reason,
        }
        return Decision(
            "error", expected, actual, findings=findings, remediation=remediation, reason=reason, result=result_keys
        )

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        """Each SACL read back must now hold the entry; the write is checked, not assumed. (Namespaces below are not
        read again here: the next run judges them.)"""
        audited = list(decision.result.get("audited", []))
        for operation, result in zip(decision.writes, results, strict=True):
            name = operation["namespace"]
            written = written_value(result, f"writing the SACL of {name}")
            namespace = _judged(NamespaceEntry.read(name, written.get("sd")))
            if not (is_audited(namespace) and RECOMMENDED_ACE in namespace.sacl):
                raise WmiActionError(
                    f"The SACL of {name} was written, but the descriptor read back does not audit WriteSecurity "
                    f"(SACL read back: {sacl_sddl(namespace.descriptor)})."
                )
            audited.append(name)
        written_to = ", ".join(operation["namespace"] for operation in decision.writes)
        msg = f"Added {RECOMMENDED_SACL} to the SACL of {written_to}."
        return replace(decision, status="remediated", result={**decision.result, "audited": audited, "msg": msg})


def _judged(entry: NamespaceEntry) -> NamespaceEntry:
    """The entry, its descriptor decoded; a namespace the host could not read, or whose descriptor does not decode,
    leaves its auditing unknown: the control is in error (never "not audited", never "audited")."""
    if entry.unread:
        raise WmiActionError(
            f"The security descriptor and SACL of {entry.name} could not be read, so whether changes to its security "
            "are audited is unknown.",
            error=entry.error,
        )
    entry.descriptor  # noqa: B018 - raises the decoder's named sentence
    return entry
