# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Namespace auditing (baseline control WMI-022): changes to a namespace's security are audited.

A change to a namespace's security descriptor is a WriteSecurity (WRITE_DAC, 0x40000) access to it. Windows logs it
(Security event 4662, "An operation was performed on an object") only when the namespace's SACL holds a
SYSTEM_AUDIT ACE for that access and the Audit Object Access policy is on. The SACL is part of the descriptor WMI
returns only to a caller whose token has SeSecurityPrivilege enabled (Microsoft Learn, __SystemSecurity
GetSecurityDescriptor: "If the SeSecurityPrivilege is not granted or enabled ... only the DACL is returned"), so a
descriptor read without it says nothing about auditing: that is reported as unknown, never as "no SACL".

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

from ._control import Control, Decision, HostContext, Reference
from ._namespace_findings import normalise_namespace
from ._sd import SecurityDescriptor, SecurityDescriptorError, sd_from_bytes, sd_from_sddl, sd_to_bytes, sd_to_sddl
from ._sd_model import (
    CONTAINER_INHERIT_ACE,
    INHERIT_ONLY_ACE,
    SE_SACL_PRESENT,
    SE_SACL_PROTECTED,
    SE_SELF_RELATIVE,
    SUCCESSFUL_ACCESS_ACE_FLAG,
    SYSTEM_AUDIT_ACE_TYPE,
    Ace,
    Acl,
)
from ._wmi_errors import WmiActionError, op_value

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
# Principals whose audit entry covers the administrators who can change a namespace's security.
COVERING_SIDS = {"S-1-1-0": "Everyone", "S-1-5-11": "Authenticated Users", "S-1-5-32-544": "Administrators"}
RECOMMENDED_SACL = "S:(AU;CISA;WD;;;WD)"  # audit successful WriteSecurity by Everyone, here and below
RECOMMENDED_ACE = t.cast(Acl, sd_from_sddl(RECOMMENDED_SACL).sacl).aces[0]


def audits_security_changes(ace: Ace) -> bool:
    """A success audit of WriteSecurity for a principal every administrator holds, effective on this namespace."""
    return (
        ace.type == SYSTEM_AUDIT_ACE_TYPE
        and bool(ace.flags & SUCCESSFUL_ACCESS_ACE_FLAG)
        and bool(ace.mask & WRITE_SECURITY)
        and not ace.flags & INHERIT_ONLY_ACE
        and str(ace.sid) in COVERING_SIDS
    )


def _sacl_sddl(sd: SecurityDescriptor) -> str:
    """The SACL part of a descriptor as SDDL ('S:' plus its flags and entries; 'none' when it has none)."""
    if sd.sacl is None:
        return "none"
    return sd_to_sddl(SecurityDescriptor(control=SE_SELF_RELATIVE | (sd.control & SE_SACL_PROTECTED), sacl=sd.sacl))


def sacl_write(namespace: str, read_sd: str, sd: SecurityDescriptor) -> tuple[dict[str, t.Any], SecurityDescriptor]:
    """The sacl_set operation that adds RECOMMENDED_ACE to the namespace's own SACL entries, and what it sends.

    The descriptor holds a SACL and nothing else (no DACL, owner or group): SetSecurityDescriptor keeps every part
    whose SE_*_PRESENT bit is clear, and wmi_state refuses any other descriptor for sacl_set. The SACL's protection
    is kept as read."""
    explicit = tuple(ace for ace in (sd.sacl.aces if sd.sacl is not None else ()) if not ace.inherited)
    written = SecurityDescriptor(
        control=SE_SELF_RELATIVE | SE_SACL_PRESENT | (sd.control & SE_SACL_PROTECTED),
        sacl=Acl((*explicit, RECOMMENDED_ACE)),
    )
    encoded = base64.b64encode(sd_to_bytes(written)).decode("ascii")
    return {"op": "sacl_set", "namespace": namespace, "sd": encoded, "expected_sd": read_sd}, written


class NamespaceAudit(Control):
    """WMI-022: each namespace's SACL audits changes to its security (reported; with set_sacl, enforced)."""

    id = "WMI-022"
    title = "Changes to namespace security are audited (SACL, Security event 4662)"
    severity = "medium"
    references = (DOCS_GET_SECURITY_DESCRIPTOR, DOCS_SET_SD, DOCS_SET_SECURITY_DESCRIPTOR)

    def __init__(self, *, namespaces: t.Sequence[str] | None = None, set_sacl: bool = False) -> None:
        try:
            self.namespaces = [normalise_namespace(name) for name in (namespaces or ["root"])]
        except ValueError as exc:
            raise WmiActionError(f"namespaces: {exc}") from None
        self.set_sacl = set_sacl

    @classmethod
    def from_options(cls, options: t.Mapping[str, t.Any] | None) -> NamespaceAudit:
        """For the baseline: ``{namespaces: [...], set_sacl: bool}`` (default: root, whose inheritable entry covers
        every namespace; report only)."""
        options = options or {}
        return cls(namespaces=options.get("namespaces"), set_sacl=bool(options.get("set_sacl", False)))

    def reads(self) -> list[dict[str, t.Any]]:
        return [{"op": "sd_get", "namespace": namespace, "sacl": True} for namespace in self.namespaces]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        findings: list[dict[str, t.Any]] = []
        unreadable: list[str] = []
        audited: list[str] = []
        writes: list[dict[str, t.Any]] = []
        changes: list[str] = []
        before: list[str] = []
        after: list[str] = []
        for namespace, result in zip(self.namespaces, results, strict=True):
            value = op_value(result, f"reading the security descriptor and SACL of {namespace}")
            entry = (value.get("namespaces") or [{}])[0]
            if not value.get("sacl_read"):
                unreadable.append(namespace)
                findings.append(
                    {
                        "id": "sacl_unreadable",
                        "severity": "info",
                        "namespace": namespace,
                        "message": f"The SACL of {namespace} could not be read: the connecting account does not hold "
                        "SeSecurityPrivilege ('Manage auditing and security log'), so whether changes are audited is "
                        "unknown (not 'no SACL').",
                    }
                )
                continue
            sd = _read_sd(namespace, entry)
            aces = sd.sacl.aces if sd.sacl is not None else ()
            covering = [ace for ace in aces if audits_security_changes(ace)]
            if not covering:
                findings.append(
                    {
                        "id": "security_changes_not_audited",
                        "severity": self.severity,
                        "namespace": namespace,
                        "sacl": _sacl_sddl(sd),
                        "message": f"No SACL entry of {namespace} audits successful WriteSecurity by Everyone, "
                        "Authenticated Users or Administrators: a change to its security leaves no event 4662.",
                    }
                )
                if self.set_sacl:
                    write, written = sacl_write(namespace, entry["sd"], sd)
                    writes.append(write)
                    changes.append(f"{namespace}: SACL + {RECOMMENDED_SACL[2:]}")
                    before.append(f"{namespace} SACL: {_sacl_sddl(sd)}\n")
                    after.append(f"{namespace} SACL: {_sacl_sddl(written)}\n")
            elif not any(ace.flags & CONTAINER_INHERIT_ACE for ace in covering):
                findings.append(
                    {
                        "id": "security_audit_not_inherited",
                        "severity": "low",
                        "namespace": namespace,
                        "sacl": _sacl_sddl(sd),
                        "message": f"The audit entry of {namespace} does not apply to the namespaces below it "
                        "(no container-inherit flag).",
                    }
                )
            else:
                audited.append(namespace)
        result_keys: dict[str, t.Any] = {
            "os": host.os_facts,
            "audited": audited,
            "sacl_unreadable": unreadable,
            "findings": findings,
        }
        expected = f"a SACL entry auditing WriteSecurity, e.g. {RECOMMENDED_SACL}, on {', '.join(self.namespaces)}"
        actual = f"audited: {', '.join(audited) or 'none'}" + (
            f"; SACL unreadable (no SeSecurityPrivilege): {', '.join(unreadable)}" if unreadable else ""
        )
        remediation = (
            f"Add {RECOMMENDED_SACL} to the SACL of {', '.join(self.namespaces)} (namespace_audit.set_sacl=true in "
            "enforce mode does it; by hand: wmimgmt.msc, WMI Control, Properties, Security, Advanced, Auditing) and "
            "turn on the Audit Object Access policy, so that Windows logs Security event 4662 when a namespace's "
            "security changes."
        )
        if unreadable:
            reason = (
                f"Cannot tell whether namespace security changes are audited on {', '.join(unreadable)}: reading a "
                "SACL needs SeSecurityPrivilege, which the connecting account does not hold (connect as an account "
                "that has 'Manage auditing and security log', e.g. an elevated administrator)."
            )
            result_keys["msg"] = reason
            return Decision(
                "error", expected, actual, findings=findings, remediation=remediation, reason=reason, result=result_keys
            )
        if any(f["severity"] != "low" for f in findings):
            result_keys["msg"] = f"Namespace security changes are not audited on {', '.join(self.namespaces)}."
            return Decision(
                "drift",
                expected,
                actual,
                findings=findings,
                writes=writes,
                changes=changes,
                remediation=remediation,
                automatic=bool(writes),
                diff={"before": "".join(before), "after": "".join(after)} if writes else None,
                result=result_keys,
            )
        result_keys["msg"] = f"Changes to the security of {', '.join(audited)} are audited."
        return Decision("compliant", expected, actual, findings=findings, remediation=remediation, result=result_keys)

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        """Each SACL read back must now audit WriteSecurity; the write is checked, not assumed."""
        audited = list(decision.result.get("audited", []))
        for operation, result in zip(decision.writes, results, strict=True):
            namespace = operation["namespace"]
            written = op_value(result, f"writing the SACL of {namespace}")
            sd = _read_sd(namespace, {"sd": written.get("sd")})
            if not any(audits_security_changes(ace) for ace in (sd.sacl.aces if sd.sacl is not None else ())):
                raise WmiActionError(
                    f"The SACL of {namespace} was written, but the descriptor read back does not audit "
                    f"WriteSecurity (SACL read back: {_sacl_sddl(sd)})."
                )
            audited.append(namespace)
        written_to = ", ".join(operation["namespace"] for operation in decision.writes)
        msg = f"Added {RECOMMENDED_SACL} to the SACL of {written_to}."
        return replace(decision, status="remediated", result={**decision.result, "audited": audited, "msg": msg})


def _read_sd(namespace: str, entry: t.Mapping[str, t.Any]) -> SecurityDescriptor:
    if entry.get("error") or not entry.get("sd"):
        raise WmiActionError(f"The security descriptor of {namespace} could not be read.", error=entry.get("error"))
    try:
        return sd_from_bytes(base64.b64decode(entry["sd"]))
    except (SecurityDescriptorError, ValueError) as exc:
        raise WmiActionError(
            f"The host returned a security descriptor of {namespace} this collection cannot parse: {exc}"
        ) from None
