# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The baseline's namespace controls: one recursive read of the namespace tree, judged by several controls.

WMI-002 applies explicit descriptors the user chose; WMI-003 to WMI-006 judge every namespace's effective DACL and
owner. Only WMI-002 and the broad-grant part of WMI-004 are fixed automatically; the rest needs a person's decision
(remediation "manual"), because removing a product's account or an orphaned SID blindly can break the product.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import typing as t
from dataclasses import replace

from .._control import Control, Decision, HostContext, Reference
from .._diff import combined, descriptor_diff
from .._namespaces._namespace_findings import (
    FULL_OR_PARTIAL_WRITE,
    OTHER_RIGHTS,
    REMOTE_ACCESS,
    WRITE_SECURITY,
    is_broad_sid,
    namespace_key,
    read_reports,
)
from .._namespaces._namespace_sd import DOCS_NAMESPACE_SECURITY, DOCS_SETSD, NamespaceSd
from .._namespaces._namespace_sd_info import parse_namespaces, sd_reads
from .._namespaces._namespace_sd_plan import NamespaceSdRefusal, encode_sd, parse_request, plan
from .._namespaces._namespace_tree import NamespaceEntry, NamespaceTree, read_tree
from .._sd._access_check import control_holders
from .._sd._principals import principal_name
from .._sd._sd import ACCESS_ALLOWED_ACE_TYPE, Sid
from .._sd._wmi_rights import mask_to_rights
from .._wmi_errors import WmiActionError, written_value
from ._exceptions import NO_EXCEPTIONS, ControlExceptions

if t.TYPE_CHECKING:
    from ._registry import BaselineOptions

# The rights a broad principal must not hold on any namespace (ProviderWrite stays: Windows grants it to AU), and the
# undocumented bits judged as write.
BROAD_RIGHTS_REMOVED = FULL_OR_PARTIAL_WRITE | REMOTE_ACCESS | WRITE_SECURITY | OTHER_RIGHTS

DOCS_ACCESS_TO_NAMESPACES = Reference(
    "Access to WMI Namespaces (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/access-to-wmi-namespaces",
)


class NamespaceTreeRead:
    """The one read every namespace control shares (the runner sends identical reads once, and builds its
    NamespaceTree once): the namespaces asked for and all their descendants, with account names. Holds no state
    between decide and verify: what it derives (the findings) is kept on the read model."""

    def __init__(self, namespaces: t.Sequence[str]) -> None:
        self.namespaces = parse_namespaces(namespaces)

    def reads(self) -> list[dict[str, t.Any]]:
        return sd_reads(self.namespaces, recurse=True, resolve_names=True)

    def reports(self, results: t.Sequence[t.Mapping[str, t.Any]]) -> list[dict[str, t.Any]]:
        return read_reports(self.namespaces, results, resolve_names=True)

    def model(self, results: t.Sequence[t.Mapping[str, t.Any]]) -> NamespaceTree:
        """Every namespace read, each once, its descriptor decoded (raises the first that does not decode)."""
        return read_tree(self.namespaces, results).readable()


class NamespaceFindingsControl(Control):
    """A control judged by namespace findings of some IDs (see _namespace_findings)."""

    finding_ids: t.ClassVar[frozenset[str]]
    expected: t.ClassVar[str]
    remediation: t.ClassVar[str]
    references = (DOCS_ACCESS_TO_NAMESPACES, DOCS_NAMESPACE_SECURITY)

    def __init__(self, tree: NamespaceTreeRead, *, exceptions: ControlExceptions = NO_EXCEPTIONS) -> None:
        self.tree = tree
        self.exceptions = exceptions

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> NamespaceFindingsControl:
        # One tree for every namespace control: its read is sent once and parsed once per host.
        return cls(options.namespace_tree, exceptions=options.exceptions)

    def reads(self) -> list[dict[str, t.Any]]:
        return self.tree.reads()

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        reports = self.tree.reports(results)
        unreadable = [report for report in reports if "error" in report]
        findings = [
            finding for report in reports for finding in report["findings"] if finding["id"] in self.finding_ids
        ]
        evidence = {report["namespace"]: report.get("sddl") for report in reports}
        if unreadable:
            # A namespace that cannot be read is never judged compliant.
            listed = "; ".join(report["msg"] for report in unreadable[:3])
            return Decision("error", self.expected, findings=findings, reason=listed, evidence=evidence)
        actual = f"{len(findings)} finding(s) in {len(reports)} namespaces" if findings else "no finding"
        if not findings:
            return Decision("compliant", self.expected, actual, evidence=evidence)
        decision = Decision(
            "drift", self.expected, actual, findings=findings, remediation=self.remediation, evidence=evidence
        )
        return self.plan_fix(host, results, decision)

    def plan_fix(self, host: HostContext, results: list[t.Mapping[str, t.Any]], decision: Decision) -> Decision:
        """Writes that fix the drift; by default none (remediation: manual)."""
        return decision


class DaclIntegrity(NamespaceFindingsControl):
    id = "WMI-003"
    title = (
        "Every namespace has a non-empty DACL in canonical order that keeps Administrators and SYSTEM in control "
        "(no NULL or missing DACL)"
    )
    severity = "high"
    finding_ids = frozenset(
        {"no_dacl", "null_dacl", "empty_dacl", "non_canonical_order", "admin_control_lost", "unexpected_ace_type"}
    )
    expected = (
        "every namespace: a DACL (not NULL, not missing, not empty), explicit deny before explicit allow, "
        "only allow and deny ACEs (the types SetSD writes), "
        "Enable, ReadSecurity and WriteSecurity kept by Administrators and SYSTEM"
    )
    remediation = (
        "Give the namespace an explicit descriptor with winsec.wmi.namespace_sd (e.g. the parent's ACEs) - a NULL or "
        "missing DACL grants everyone full access; an empty one locks everyone out; an ACE of a type SetSD cannot "
        "write (object or callback ACEs) was written by another tool and is replaced only by an explicit descriptor."
    )
    references = (DOCS_SETSD, DOCS_NAMESPACE_SECURITY)


class BroadGrants(NamespaceFindingsControl):
    id = "WMI-004"
    title = "No write, RemoteAccess or WriteSecurity for broad principals or non-administrators"
    severity = "high"
    finding_ids = frozenset(
        {"broad_write", "broad_remote_access", "non_admin_write_security", "non_admin_other_rights"}
    )
    expected = (
        "Everyone, Authenticated Users, Users and other broad principals hold no FullWrite, PartialWrite, "
        "RemoteAccess or WriteSecurity; only administrators hold WriteSecurity"
    )
    remediation = (
        "Broad principals' write, remote and WriteSecurity rights are removed where their ACE is explicit "
        "(winsec.wmi.baseline mode=enforce). WriteSecurity held by a named non-admin account (often a product's "
        "service account) needs a decision: remove it with winsec.wmi.namespace_sd mode=absent, or record an "
        "exception with the reason."
    )
    fix_leaves_out_excepted = True

    def plan_fix(self, host: HostContext, results: list[t.Mapping[str, t.Any]], decision: Decision) -> Decision:
        tree = self.tree.model(results)
        resolved = tree.principals
        writes: list[dict[str, t.Any]] = []
        changes: list[str] = []
        diffs: list[dict[str, str]] = []
        notes: list[str] = []
        covered: set[tuple[str, str]] = set()
        for entry in tree.entries:
            targets = self._fix_targets(entry, resolved, tree)
            if not targets:
                continue
            params = {
                "namespace": entry.name,
                "mode": "absent",
                "sddl": None,
                "aces": [
                    {"principal": sid, "rights": mask_to_rights(mask), "type": "allow", "inherit": None}
                    for sid, mask in targets.items()
                ],
                "owner": None,
                "group": None,
                "allow_lockout": False,
            }
            descendants = [(below.name, below.descriptor) for below in tree.descendants(entry)]
            try:
                holders = control_holders(host.facts)
                fix = plan(parse_request(params), entry.descriptor, descendants=descendants, holders=holders)
            except NamespaceSdRefusal as refusal:
                notes.append(f"{entry.name}: not fixed automatically: {refusal.msg}")
                continue
            if not fix.changed:
                continue
            covered.update((entry.key, sid) for sid in targets)
            for sid, mask in targets.items():
                name = principal_name(Sid.parse(sid), resolved)
                changes.append(f"{entry.name}: remove {', '.join(mask_to_rights(mask))} from {name}")
            writes.append(
                {
                    "op": "sd_set",
                    "namespace": entry.name,
                    "sd": encode_sd(fix.candidate),
                    "expected_sd": entry.sd_base64,
                }
            )
            diffs.append(descriptor_diff(entry.name, entry.descriptor, fix.predicted, resolved))
        manual = [f for f in decision.findings if not _fixed(f, covered) and not self.excepted(self.id, f)]
        automatic = bool(writes) and not manual
        return replace(
            decision,
            writes=writes,
            changes=changes,
            automatic=automatic,
            warnings=notes,
            diff=combined(diffs),
            plan=frozenset(covered),
        )

    def _fix_targets(
        self, entry: NamespaceEntry, resolved: t.Mapping[str, str | None], tree: NamespaceTree
    ) -> dict[str, int]:
        """SID -> the rights to take away from its explicit allow ACEs on this namespace (excepted ones kept).

        Each ACE is asked about as the findings report it - where it is explicit and every namespace read where it
        applies - so an exception naming a namespace that inherits the grant keeps it (removing the ACE here would
        take it away there too)."""
        targets: dict[str, int] = {}
        for ace in entry.dacl:
            sid = str(ace.sid)
            offending = ace.mask & BROAD_RIGHTS_REMOVED
            if ace.inherited or ace.type != ACCESS_ALLOWED_ACE_TYPE or not is_broad_sid(ace.sid) or not offending:
                continue
            finding = {
                "namespace": entry.name,
                "source_namespace": entry.name,
                "affected_namespaces": tree.applies_on(entry, ace),
                "sid": sid,
                "principal": principal_name(ace.sid, resolved),
            }
            if self.excepted(self.id, finding):
                continue
            targets[sid] = targets.get(sid, 0) | offending
        return targets

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        for operation, result in zip(decision.writes, results, strict=True):
            written_value(result, f"writing the security descriptor of {operation['namespace']}")
        # The findings still carry the baseline's exception marks; a module run asks its own excepted check.
        left = [f for f in decision.findings if not _fixed(f, decision.plan or ())]
        if any(not (f.get("excepted") or self.excepted(self.id, f)) for f in left):
            return replace(decision, findings=left)  # still drift: what is left needs a decision
        return replace(decision, status="remediated", findings=left)  # fixed; what is left is excepted


def _fixed(finding: t.Mapping[str, t.Any], covered: t.Collection[tuple[str, str]]) -> bool:
    """Taken away by a write plan_fix planned: the finding's grant is a plain allow, explicit on a namespace that
    was read, whose write was planned for its SID. Not a refused plan, an ACE inherited from an ancestor that
    was not read, nor an allow-like ACE of another type (SetSD cannot write a descriptor that still holds it)."""
    source = finding.get("source_namespace")
    return (
        bool(source)
        and finding.get("ace_type") == "allow"
        and (namespace_key(str(source)), str(finding.get("sid"))) in covered
    )


class OrphanedSids(NamespaceFindingsControl):
    id = "WMI-005"
    title = "No ACE of a deleted account or untrusted domain (orphaned SID)"
    severity = "low"
    finding_ids = frozenset({"orphaned_sid"})
    expected = "every SID in a namespace descriptor resolves to an account"
    remediation = (
        "Check that the account is really gone (not a domain the host cannot reach right now), then remove its ACEs "
        "with winsec.wmi.namespace_sd mode=absent."
    )


class NamespaceOwner(NamespaceFindingsControl):
    id = "WMI-006"
    title = "Every namespace is owned by an administrator"
    severity = "high"
    finding_ids = frozenset({"non_admin_owner"})
    expected = "owner: BUILTIN\\Administrators, SYSTEM or a domain administrators group"
    remediation = (
        "A non-admin owner may be able to rewrite the namespace's DACL. __SystemSecurity.SetSD does not change the "
        "owner: take ownership back as an administrator (for example with a WMI-aware tool running as SYSTEM), then "
        "review the DACL."
    )


NAMESPACE_CONTROLS: tuple[type[NamespaceFindingsControl], ...] = (
    DaclIntegrity,
    BroadGrants,
    OrphanedSids,
    NamespaceOwner,
)


class ExplicitSds(Control):
    """WMI-002: the explicit descriptors the user chose, one NamespaceSd per namespace, as one control."""

    id = "WMI-002"
    title = "Chosen namespaces carry the explicit security descriptor the baseline sets"
    severity = "high"
    references = (DOCS_SETSD, DOCS_NAMESPACE_SECURITY)
    fix_leaves_out_excepted = True

    def __init__(
        self, items: t.Sequence[t.Mapping[str, t.Any]] | None, *, exceptions: ControlExceptions = NO_EXCEPTIONS
    ) -> None:
        self.exceptions = exceptions
        self.parts: list[NamespaceSd] = []
        for index, item in enumerate(items or []):
            params = {"mode": "exact", "sddl": None, "aces": None, "owner": None, "group": None, "allow_lockout": False}
            params.update(item)
            try:
                self.parts.append(NamespaceSd(params))
            except WmiActionError as exc:
                raise WmiActionError(f"namespace_sds[{index}]: {exc.msg}", **exc.result) from None

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> ExplicitSds:
        return cls(options.params["namespace_sds"], exceptions=options.exceptions)

    def reads(self) -> list[dict[str, t.Any]]:
        return [operation for part in self.parts for operation in part.reads()]

    def _split(
        self, results: t.Sequence[t.Mapping[str, t.Any]], sizes: t.Sequence[int]
    ) -> list[list[t.Mapping[str, t.Any]]]:
        chunks, start = [], 0
        for size in sizes:
            chunks.append(list(results[start : start + size]))
            start += size
        return chunks

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        if not self.parts:
            return Decision("not_applicable", reason="no explicit namespace descriptor is configured (namespace_sds)")
        decisions = [
            self._unless_excepted(part.decide(host, chunk))
            for part, chunk in zip(self.parts, self._split(results, [len(p.reads()) for p in self.parts]), strict=True)
        ]
        merged = _merge(decisions, "drift" if any(d.status == "drift" for d in decisions) else "compliant")
        return replace(merged, plan=tuple(decisions))

    def _unless_excepted(self, decision: Decision) -> Decision:
        """A namespace with an excepted finding keeps its descriptor: its write is dropped (the finding stays, for
        the baseline to mark excepted)."""
        if decision.writes and any(self.excepted(self.id, finding) for finding in decision.findings):
            return replace(decision, writes=[], changes=[], diff=None)
        return decision

    def verify(self, host: HostContext, decision: Decision, results: list[t.Mapping[str, t.Any]]) -> Decision:
        decisions: tuple[Decision, ...] = decision.plan
        chunks = self._split(results, [len(d.writes) for d in decisions])
        verified = [
            part.verify(host, part_decision, chunk) if part_decision.writes else part_decision
            for part, part_decision, chunk in zip(self.parts, decisions, chunks, strict=True)
        ]
        # The findings and warnings as the baseline left them: its exception marks (and notes) stay in the result.
        return replace(_merge(verified, "remediated"), findings=decision.findings, warnings=decision.warnings)


def _merge(decisions: t.Sequence[Decision], status: str) -> Decision:
    return Decision(
        status,
        expected={d.result.get("namespace"): d.expected for d in decisions},
        actual={d.result.get("namespace"): d.actual for d in decisions},
        findings=[finding for d in decisions for finding in d.findings],
        writes=[operation for d in decisions for operation in d.writes],
        changes=[change for d in decisions for change in d.changes],
        diff=combined(d.diff for d in decisions if d.writes),
        remediation="Apply the explicit descriptors (winsec.wmi.baseline mode=enforce, or winsec.wmi.namespace_sd).",
        automatic=True,
        warnings=[warning for d in decisions for warning in d.warnings],
    )


def contradictions(explicit: ExplicitSds, broad: BroadGrants) -> list[str]:
    """namespace_sds entries that grant a broad principal what WMI-004 takes away (unless an exception accepts it):
    in one baseline the two would undo each other on every run, each reporting itself fixed."""
    problems = []
    for index, part in enumerate(explicit.parts):
        request = part.request
        if request.mode == "absent":
            continue
        for ace in request.aces:
            offending = (ace.mask or 0) & BROAD_RIGHTS_REMOVED
            if ace.type != ACCESS_ALLOWED_ACE_TYPE or ace.sid is None or not offending or not is_broad_sid(ace.sid):
                continue
            finding = {
                "namespace": request.namespace,
                "source_namespace": request.namespace,
                "sid": str(ace.sid),
                "principal": ace.principal,
            }
            if not broad.excepted(broad.id, finding):
                problems.append(
                    f"namespace_sds[{index}] grants {ace.principal} {', '.join(mask_to_rights(offending))} on "
                    f"{request.namespace}, which {broad.id} takes away from broad principals"
                )
    return problems
