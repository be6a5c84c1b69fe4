# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The WMI hardening baseline (winsec.wmi.baseline): which controls run, exceptions, and the host's verdict.

Every control is read in one round trip per host and, in enforce mode, fixed in at most one more (see _control).
Hosts Ansible cannot reach (NT 4.0, 2000, XP: no WinRM; Server 2003: PowerShell 2.0 is below ansible-core's floor)
are classified from inventory without contacting them.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import datetime
import difflib
import re
import typing as t
from dataclasses import dataclass, replace

from ._control import (
    STATUSES,
    Control,
    ControlRun,
    Decision,
    HostContext,
    host_verdict,
    read_host,
    settle_writes,
    write_host,
)
from ._controls._dcom_hardening import DcomHardening
from ._controls._namespace_audit import NamespaceAudit
from ._controls._namespace_controls import (
    NAMESPACE_CONTROLS,
    BroadGrants,
    ExplicitSds,
    NamespaceTreeRead,
    contradictions,
)
from ._controls._unsecapp_lockdown import UnsecappLockdown
from ._diff import labelled
from ._os_profile import PRE_2003_MITIGATIONS
from ._scripts._script_audit import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_TOTAL_BYTES,
    DEFAULT_PATTERNS,
    AdsiScriptAudit,
    AsyncScriptAudit,
)
from ._subscriptions._event_subscriptions import EventSubscriptions
from ._wmi_errors import WmiActionError, WmiCaller
from ._wmi_names import namespace_key, wmi_case_key

# Inventory values (the documented host variable winsec_wmi_os, AD's operatingSystem attribute, or a
# Win32_OperatingSystem Caption) of releases Ansible cannot manage: NT 4.0, 2000 and XP have no WinRM; Server 2003
# has PowerShell 2.0 at most, below the PowerShell 3.0 (ansible-core 2.18) and 5.1 (2.19+) that ansible-core's
# bootstrap requires.
#
# A value is read as words: case, "(R)"/"(TM)"/"®"/"™", punctuation, "Microsoft"/"Windows", edition and product
# words, architectures, R2 (2003 only) and service packs do not count. What is left - the release itself - must be
# exactly one of the spellings below, or the value is not classified and the host is read as before. So "Windows
# Server 2003 based appliance" (a word that is not part of a release name) or "Windows NT 6.1" (Windows 7's kernel)
# connect: a host is skipped only when the whole value names an unmanageable release.
SERVER_2003 = "Windows Server 2003"
_RELEASES: dict[tuple[str, ...], str] = {
    # AD writes "Windows NT" for NT 4.0 (operatingSystemVersion "4.0"); NT 5.x is the kernel of 2000, XP, 2003
    # (https://learn.microsoft.com/en-us/windows/win32/sysinfo/operating-system-version).
    **{core: "Windows NT 4.0" for core in [("nt",), ("nt", "4"), ("nt", "4.0"), ("nt", "4.00")]},
    **{core: "Windows 2000" for core in [("2000",), ("nt", "5.0")]},
    **{core: "Windows XP" for core in [("xp",), ("nt", "5.1")]},
    # NT 5.2 is Server 2003 and XP Professional x64 Edition: either way PowerShell 2.0 at most.
    **{core: SERVER_2003 for core in [("2003",), ("2003", "r2"), ("nt", "5.2")]},
}
# Glued and short spellings, as one word, and what they stand for.
_ALIASES = {
    "nt4": ("nt", "4"),
    "nt4.0": ("nt", "4.0"),
    "winnt": ("nt",),
    "winnt4": ("nt", "4"),
    "w2k": ("2000",),
    "win2k": ("2000",),
    "win2000": ("2000",),
    "w2000": ("2000",),
    "winxp": ("xp",),
    "w2k3": ("2003",),
    "win2k3": ("2003",),
    "win2003": ("2003",),
    "w2003": ("2003",),
    "ws2003": ("2003",),
    "2003r2": ("2003", "r2"),
    "w2k3r2": ("2003", "r2"),
    "ws2003r2": ("2003", "r2"),
}
# Words that qualify a release without naming it: vendor, product line, editions (Server 2003's Standard,
# Enterprise, Datacenter, Web, Small Business, Storage, Compute Cluster; XP's Home, Professional, Media Center,
# Tablet PC, Embedded, N, Starter; 2000's Professional, Advanced Server, Datacenter; NT 4.0's Workstation, Server,
# Terminal Server Edition), architectures and service packs.
_QUALIFIERS = frozenset(
    [
        *("microsoft", "ms", "windows", "win", "family"),
        *("server", "workstation", "standard", "enterprise", "datacenter", "data", "center", "web", "edition"),
        *("professional", "pro", "home", "advanced", "small", "business", "sbs", "storage", "compute", "cluster"),
        *("embedded", "media", "tablet", "pc", "n", "starter", "terminal"),
        *("x64", "x86", "amd64", "ia64", "itanium", "32", "64", "bit"),
    ]
)
_SERVICE_PACK = re.compile(r"^sp\d+[a-z]?$")
_TRADEMARKS = re.compile(r"\((?:r|tm|c)\)|[\u00ae\u2122\u00a9]")
_ITANIUM_SYSTEMS = re.compile(r"\bfor (?:64 bit )?itanium based systems\b")

SERVER_2003_REASON = (
    "Windows Server 2003 has PowerShell 2.0 at most, below the PowerShell that ansible-core's bootstrap requires "
    "(3.0 for ansible-core 2.18, 5.1 from 2.19), so Ansible cannot audit it. Check by hand that "
    "HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault is 1, prefer synchronous or "
    "semisynchronous WMI scripts, and plan the host's retirement."
)


def _release_words(inventory_os: str) -> tuple[str, ...]:
    """The words of an inventory value that name the release, qualifiers dropped (see _RELEASES)."""
    text = _TRADEMARKS.sub(" ", inventory_os.lower())
    text = re.sub(r"[^a-z0-9.]+", " ", text)
    # A dot belongs to a version ("4.0"), never to a word's end ("Edition.").
    text = re.sub(r"(?<![0-9])\.|\.(?![0-9])", " ", text)
    text = _ITANIUM_SYSTEMS.sub(" ", f" {' '.join(text.split())} ")
    words = text.split()
    core: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        index += 1
        if word in ("sp", "pack") and index < len(words) and re.fullmatch(r"\d+[a-z]?", words[index]):
            index += 1  # "SP 4", "Service Pack 3"
        elif word in _QUALIFIERS or word == "service" or _SERVICE_PACK.match(word):
            continue
        elif word != "sp":
            core.extend(_ALIASES.get(word, (word,)))
    return tuple(core)


def unmanageable_os(inventory_os: str | None) -> tuple[str, str] | None:
    """(family, reason) when the inventory says Ansible cannot manage this host; None otherwise (connect)."""
    if not inventory_os or not isinstance(inventory_os, str):
        return None
    family = _RELEASES.get(_release_words(inventory_os))
    if family is None:
        return None
    if family == SERVER_2003:
        return family, SERVER_2003_REASON
    return family, f"{family} has no WinRM, so Ansible cannot connect. {PRE_2003_MITIGATIONS}"


# --- exceptions ---------------------------------------------------------------------------------------------------


# The controls whose own fix leaves out what an excepted finding covers (they are given the excepted check, see
# build_controls): their findings each name one place (a namespace, a grant), so one exception keeps one write out.
# Every other control writes one value for all its findings: an excepted finding there drops the control's writes.
WRITES_FILTERED_PER_FINDING = frozenset({ExplicitSds.id, BroadGrants.id, NamespaceAudit.id})
_ISO_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# Every control an exception may name, whether or not this run selects or enables it (an exceptions file is shared
# between audits that select different controls).
CONTROL_IDS = frozenset(
    {
        UnsecappLockdown.id,
        ExplicitSds.id,
        *(control_class.id for control_class in NAMESPACE_CONTROLS),
        EventSubscriptions.id,
        DcomHardening.id,
        NamespaceAudit.id,
        AdsiScriptAudit.id,
        AsyncScriptAudit.id,
    }
)


# Controls that run only where an option says what they read (scripts: files; WMI-022: SACLs, which need
# SeSecurityPrivilege), and the option of winsec.wmi.baseline (of the wmi_hardening role) that turns each on.
OPT_IN_CONTROLS = {
    AdsiScriptAudit.id: "scripts.paths (wmi_hardening_script_paths)",
    AsyncScriptAudit.id: "scripts.paths (wmi_hardening_script_paths)",
    NamespaceAudit.id: "namespace_audit.enabled (wmi_hardening_namespace_audit)",
}


@dataclass(frozen=True)
class ControlException:
    """An accepted finding: {control, namespace?, principal?, reason, expires?} (wmi_hardening_exceptions)."""

    control: str
    reason: str
    namespace: str | None = None
    principal: str | None = None
    expires: datetime.date | None = None
    # Where the item was given (exceptions[2]), so a warning about it names it.
    where: str = "exception"

    def expired(self, today: datetime.date) -> bool:
        return self.expires is not None and today > self.expires

    def matches(self, control_id: str, finding: t.Mapping[str, t.Any]) -> bool:
        """The one test of "this exception covers this finding", for the findings and for each control's own fix.

        ``namespace`` matches where the finding is reported (``namespace``), where its ACE is explicit
        (``source_namespace``), and every namespace where it applies (``affected_namespaces`` of a grant, the
        ``namespaces`` an unaudited SACL leaves uncovered): the fix of one of them changes them all."""
        if control_id.upper() != self.control.upper():
            return False
        if self.namespace is not None and namespace_key(self.namespace) not in finding_namespaces(finding):
            return False
        if self.principal is not None:
            # Account names compare as Windows compares them (ordinal, case-insensitive per code unit): lower() would
            # let an exception for 'svc_backup' cover a lookalike account 'svc_bac\u212aup' the host reports.
            wanted = wmi_case_key(self.principal)
            if wanted not in {wmi_case_key(str(finding.get(key) or "")) for key in ("principal", "sid")}:
                return False
        return True

    def describe(self) -> str:
        """exceptions[1] (WMI-004, namespace ' root\\cimv2', principal 'Everyone'): the values as written."""
        given = (("namespace", self.namespace), ("principal", self.principal))
        # Quoted as written (a repr would double every backslash): a leading space or a stray \\.\\ must show.
        parts = [self.control, *(f"{key} '{value}'" for key, value in given if value is not None)]
        return f"{self.where} ({', '.join(parts)})"

    def to_dict(self) -> dict[str, t.Any]:
        return {
            "control": self.control,
            "namespace": self.namespace,
            "principal": self.principal,
            "reason": self.reason,
            "expires": self.expires.isoformat() if self.expires else None,
        }


def finding_namespaces(finding: t.Mapping[str, t.Any]) -> set[str]:
    """Every namespace a finding covers (see ControlException.matches), compared case-insensitively."""
    names = [finding.get("namespace"), finding.get("source_namespace")]
    for key in ("affected_namespaces", "namespaces"):
        names.extend(finding.get(key) or [])
    return {namespace_key(str(name)) for name in names if name}


def _expiry(where: str, expires: t.Any) -> datetime.date | None:
    """None (no expiry), a date, or the text YYYY-MM-DD. An empty text is refused: a template default of '' would
    otherwise make the exception permanent without anyone writing so; ISO 8601's other forms (2099-W01-1, 20991231)
    are refused because the documented form is YYYY-MM-DD and a reviewer must read the same date the run does."""
    if expires is None:
        return None
    if isinstance(expires, datetime.datetime):
        return expires.date()
    if isinstance(expires, datetime.date):
        return expires
    text = expires if isinstance(expires, str) else None
    if text is not None and not text.strip():
        raise WmiActionError(
            f"{where}.expires: empty; give the last day the exception applies (YYYY-MM-DD), or leave expires out "
            "(null) for an exception that never expires."
        )
    if text is None or not _ISO_DATE.match(text):
        raise WmiActionError(f"{where}.expires: {str(expires)[:40]!r} is not a date (YYYY-MM-DD).")
    try:
        return datetime.date.fromisoformat(text)
    except ValueError:
        raise WmiActionError(f"{where}.expires: {text[:40]!r} is not a date (YYYY-MM-DD).") from None


def parse_exceptions(items: t.Sequence[t.Mapping[str, t.Any]] | None) -> list[ControlException]:
    """The exceptions as validated by the action plugin (see modules/baseline.py); checked again here because a
    null must never become the text "None" (an exception for control "None" matches nothing, silently)."""
    parsed = []
    for index, item in enumerate(items or []):
        where = f"exceptions[{index}]"
        if not isinstance(item, t.Mapping):
            raise WmiActionError(f"{where}: expected a dictionary (control, reason, ...).")
        for key in ("control", "reason", "namespace", "principal"):
            if not isinstance(item.get(key), (str, type(None))):
                raise WmiActionError(f"{where}.{key}: expected a string.")
        control = (item.get("control") or "").strip()
        if not control:
            raise WmiActionError(f"{where}: give a control; an exception for no control matches nothing.")
        reason = (item.get("reason") or "").strip()
        if not reason:
            raise WmiActionError(f"{where}: give a reason; an exception without one cannot be reviewed.")
        parsed.append(
            ControlException(
                control=control,
                reason=reason,
                namespace=item.get("namespace") or None,
                principal=item.get("principal") or None,
                expires=_expiry(where, item.get("expires")),
                where=where,
            )
        )
    return parsed


def unmatched_exception_warning(item: ControlException) -> str:
    """The same text on every host an exception matches nothing on, without the host's name: Ansible prints an
    identical warning once, so a fleet-wide exception meant for a few hosts warns once per run, not once per host
    (each host's result keeps it under unmatched_exceptions)."""
    return (
        f"{item.describe()} matches no finding of {item.control.upper()} on some hosts (their results list it under "
        "unmatched_exceptions); if it was meant for them, check its namespace and principal: the finding stays drift."
    )


def apply_exceptions(
    control_id: str, decision: Decision, exceptions: t.Sequence[ControlException], today: datetime.date
) -> Decision:
    """Mark excepted findings; an expired exception does not apply and says so. All excepted -> 'excepted'.

    A control outside WRITES_FILTERED_PER_FINDING writes one value for all its findings, so one excepted finding
    drops its writes. An exception of this control that matches none of its findings on this host is reported: a
    typo (a namespace spelled \\.\\root\\cimv2, a leading space) must not leave the finding drift silently."""
    mine = [item for item in exceptions if item.control.upper() == control_id.upper()]
    if not mine or decision.status == "not_applicable":
        return decision
    findings = []
    used: set[int] = set()
    for finding in decision.findings:
        matching = [item for item in mine if item.matches(control_id, finding)]
        used.update(id(item) for item in matching)
        active = [item for item in matching if not item.expired(today)]
        if active:
            finding = {**finding, "excepted": True, "reason": active[0].reason}
        elif matching:
            expired = matching[0]
            finding = {
                **finding,
                "excepted": False,
                "reason": f"exception expired on {expired.expires}: {expired.reason}",
            }
        findings.append(finding)
    # A control that could not read everything (status error) may lack the very finding an exception is for.
    unmatched = [item for item in mine if id(item) not in used and decision.status != "error"]
    warnings = [unmatched_exception_warning(item) for item in unmatched]
    decision = replace(decision, findings=findings, warnings=[*decision.warnings, *warnings])
    if (
        decision.writes
        and control_id.upper() not in WRITES_FILTERED_PER_FINDING
        and any(finding.get("excepted") for finding in findings)
    ):
        decision = replace(decision, writes=[], changes=[], diff=None, automatic=False)
    if decision.status == "drift" and findings and all(finding.get("excepted") for finding in findings):
        reasons = sorted({finding["reason"] for finding in findings})
        return replace(decision, status="excepted", reason="; ".join(reasons))
    return decision


# --- the controls -------------------------------------------------------------------------------------------------


def build_controls(
    params: t.Mapping[str, t.Any], exceptions: t.Sequence[ControlException], today: datetime.date
) -> list[Control]:
    """The selected controls, in ID order, each knowing the exceptions (a fix never touches an excepted finding)."""

    def excepted(control_id: str, finding: t.Mapping[str, t.Any]) -> bool:
        return any(item.matches(control_id, finding) and not item.expired(today) for item in exceptions)

    tree = NamespaceTreeRead(params["namespaces"])
    available: dict[str, Control] = {
        UnsecappLockdown.id: UnsecappLockdown("enabled", params["unsecapp_value_type"]),
        ExplicitSds.id: ExplicitSds(params["namespace_sds"], excepted),
        EventSubscriptions.id: EventSubscriptions.from_options(params.get("event_subscriptions")),
        DcomHardening.id: DcomHardening.from_options(params.get("dcom")),
    }
    for control_class in NAMESPACE_CONTROLS:
        available[control_class.id] = control_class(tree, excepted)
    namespace_audit = params.get("namespace_audit") or {}
    if namespace_audit.get("enabled"):  # reading SACLs needs SeSecurityPrivilege: only where the user asks
        available[NamespaceAudit.id] = NamespaceAudit.from_options(namespace_audit, excepted)
    scripts = params.get("scripts") or {}
    if scripts.get("paths"):  # the script controls read files: only where the user says which
        budget = (
            scripts["paths"],
            scripts.get("patterns") or DEFAULT_PATTERNS,
            scripts.get("max_file_bytes") or DEFAULT_MAX_FILE_BYTES,
            scripts.get("max_total_bytes") or DEFAULT_MAX_TOTAL_BYTES,
            scripts.get("max_files") or DEFAULT_MAX_FILES,
        )
        available[AdsiScriptAudit.id] = AdsiScriptAudit(*budget)
        available[AsyncScriptAudit.id] = AsyncScriptAudit(*budget)
    unknown_excepted = [item for item in exceptions if item.control.upper() not in CONTROL_IDS]
    if unknown_excepted:
        # An exception for a misspelt control (WMI-04) would accept nothing on every host, silently.
        raise WmiActionError(
            "; ".join(f"{item.where}.control: unknown control ID {item.control!r}" for item in unknown_excepted)
            + f"; known: {', '.join(sorted(CONTROL_IDS))}"
        )
    selected = [control.upper() for control in params.get("controls") or available]
    unknown = sorted(set(selected) - CONTROL_IDS)
    if unknown:
        raise WmiActionError(
            f"controls: unknown control ID(s) {', '.join(unknown)}; known: {', '.join(sorted(CONTROL_IDS))}"
        )
    off = sorted(set(selected) - set(available))
    if off:
        # Known controls that read what the user must name first: say which option turns each on.
        raise WmiActionError(
            f"controls: {', '.join(off)} selected but not enabled; "
            + "; ".join(f"{control_id} needs {OPT_IN_CONTROLS[control_id]}" for control_id in off)
            + f". Enabled here: {', '.join(sorted(available))}"
        )
    skipped = {control.upper() for control in params.get("skip_controls") or []}
    unknown_skipped = sorted(skipped - CONTROL_IDS)
    if unknown_skipped:
        # A misspelt skip (WMI-4) would run the very control the user meant to leave out, silently.
        raise WmiActionError(
            f"skip_controls: unknown control ID(s) {', '.join(unknown_skipped)}; "
            f"known: {', '.join(sorted(CONTROL_IDS))}"
        )
    return [available[key] for key in sorted(available) if key in selected and key not in skipped]


def _record(run: ControlRun, evidence: bool) -> dict[str, t.Any]:
    if run.error is not None or run.decision is None:
        # An error wins over any decision made before it (a write that failed leaves the drift it was to fix).
        error = run.error
        planned = run.decision or Decision("error")
        decision = replace(planned, status="error", reason=error.msg if error else "the control did not run")
        record = run.control.outcome(decision)
        if error is not None and "error" in error.result:
            record["error"] = error.result["error"]
        return record
    record = run.control.outcome(run.decision)
    if not evidence:
        record.pop("evidence", None)
    return record


def not_applicable_result(
    params: t.Mapping[str, t.Any], family: str, reason: str, today: datetime.date
) -> dict[str, t.Any]:
    """A host the inventory says Ansible cannot manage: every control not applicable, never contacted."""
    controls = build_controls(params, [], today)
    records = [control.outcome(Decision("not_applicable", reason=reason, remediation=reason)) for control in controls]
    return summarise(
        records,
        {"family": family, "pre_2003": family != SERVER_2003, "source": "inventory"},
        contacted=False,
        changed=False,
    )


def summarise(
    records: list[dict[str, t.Any]], os_facts: t.Mapping[str, t.Any], *, contacted: bool, changed: bool
) -> dict[str, t.Any]:
    counts = {status: 0 for status in STATUSES}
    for record in records:
        counts[record["status"]] += 1
    status = host_verdict(record["status"] for record in records)
    return {
        "changed": changed,
        "status": status,
        "os": dict(os_facts),
        "contacted": contacted,
        "counts": counts,
        "controls": records,
    }


def verdict_line(result: t.Mapping[str, t.Any], *, writes: str | None = None) -> str:
    """'drift (WMI-001 drift, WMI-004 drift): 4 of 6 controls compliant' - the one line a user reads first.

    ``writes`` is what the run does to the host: None (audit: it never writes), 'check' (enforce in check mode:
    the line ends with what a real run would change) or 'run' (what this run changed)."""
    records = result["controls"]
    passing = sum(1 for record in records if record["status"] in ("compliant", "remediated"))
    judged = sum(1 for record in records if record["status"] != "not_applicable")
    problems = [f"{record['id']} {record['status']}" for record in records if record["status"] in ("drift", "error")]
    detail = f" ({', '.join(problems)})" if problems else ""
    if result["status"] == "not_applicable":
        return f"not_applicable: {records[0].get('reason', '') if records else 'no control applies'}"
    line = f"{result['status']}{detail}: {passing} of {judged} controls compliant"
    changing = [record["id"] for record in records if record.get("changes")]
    if writes == "check":
        line += f"; a real run would change {', '.join(changing)}" if changing else "; a real run would change nothing"
    elif writes == "run" and changing:
        line += f"; changed {', '.join(changing)}"
    return line


# Verdicts a person must see even when ANSIBLE_DISPLAY_OK_HOSTS=false hides ok results: the baseline prints them as
# a warning naming the host (warnings always print, and identical warnings collapse, so each names its host).
VERDICTS_WARNED = frozenset({"drift", "error"})


DECISIONS_SHOWN = 4


def verdict_warning(host: str, result: t.Mapping[str, t.Any]) -> list[str]:
    """One line for a host a person must act on: 'web01: drift (WMI-004 drift): 5 of 6 controls compliant; needs a
    decision: WMI-004 on root\\ContosoBackup'. None for the others."""
    if result.get("status") not in VERDICTS_WARNED:
        return []
    pending = decisions(result.get("controls", []))
    shown = ", ".join(pending[:DECISIONS_SHOWN]) + (
        f" and {len(pending) - DECISIONS_SHOWN} more" if len(pending) > DECISIONS_SHOWN else ""
    )
    return [f"{host}: {result['msg']}" + (f"; needs a decision: {shown}" if pending else "")]


def host_warnings(host: str | None, result: t.Mapping[str, t.Any]) -> list[str]:
    """The host's warnings, each naming the host (Ansible prints warnings without a host and collapses identical
    ones), its verdict first; a warning about an exception stays the same on every host, so it prints once."""
    warnings = list(result.get("warnings", []))
    if not host:
        return warnings
    shared = [warning for warning in warnings if " matches no finding of " in warning]
    named = [f"{host}: {warning}" for warning in warnings if warning not in shared]
    return [*verdict_warning(host, result), *named, *shared]


def decisions(records: t.Iterable[t.Mapping[str, t.Any]]) -> list[str]:
    """'WMI-004 on root\\ContosoBackup' for each drift the baseline will not fix by itself (a person decides; the
    report holds each finding's message and remediation)."""
    found: list[str] = []
    for record in records:
        if record["status"] != "drift" or record["remediation"]["automatic"]:
            continue
        for finding in record["findings"]:
            if finding.get("excepted"):
                continue
            where = finding.get("namespace") or finding.get("file") or ""
            # What a person decides about: the principal of a grant, the subscription of a consumer.
            what = finding.get("subscription") or finding.get("principal") or ""
            item = f"{record['id']}{' on ' + where if where else ''}{f' ({what})' if what else ''}"
            if item not in found:
                found.append(item)
    return found


def enforce_diff(host: HostContext, runs: t.Sequence[ControlRun]) -> list[dict[str, t.Any]] | None:
    """--diff of an enforce run: each write's diff, its header led by the control ID, as planned from the read (check
    mode shows what the real run then writes). A control that ended in error shows none: its error says what
    happened. None without diff mode or without a write."""
    if not host.diff_mode:
        return None
    diffs = [
        labelled(run.control.id, run.decision.diff)
        for run in runs
        if run.decision is not None and run.error is None and run.decision.writes
    ]
    flat = [item for items in diffs for item in items]
    return flat or None


def run_baseline(
    caller: WmiCaller, params: t.Mapping[str, t.Any], today: datetime.date, *, host_name: str | None = None
) -> dict[str, t.Any]:
    """The host's result. ``host_name`` (the inventory name) prefixes its warnings: Ansible prints warnings without
    the host and collapses identical ones, so 11 drifting hosts must give 11 different lines."""
    result = _baseline_result(caller, params, today)
    warnings = host_warnings(host_name, result)
    if warnings:
        result["warnings"] = warnings
    return result


def _baseline_result(caller: WmiCaller, params: t.Mapping[str, t.Any], today: datetime.date) -> dict[str, t.Any]:
    exceptions = parse_exceptions(params.get("exceptions"))
    unmanageable = unmanageable_os(params.get("inventory_os"))
    if unmanageable is not None:
        result = not_applicable_result(params, *unmanageable, today)
        result["msg"] = verdict_line(result)
        return result
    controls = build_controls(params, exceptions, today)
    by_id = {control.id: control for control in controls}
    explicit, broad = by_id.get(ExplicitSds.id), by_id.get(BroadGrants.id)
    if isinstance(explicit, ExplicitSds) and isinstance(broad, BroadGrants):
        problems = contradictions(explicit, broad)
        if problems:
            raise WmiActionError(
                "; ".join(problems) + ". The two settings would undo each other on every run: change the entry, or "
                f"record a {broad.id} exception (control, namespace, principal, reason) if the grant is wanted. "
                "Nothing was contacted."
            )
    enforce = params["mode"] == "enforce"
    host, runs = read_host(caller, controls, enforce=enforce)
    for run in runs:
        if run.decision is not None:
            run.decision = apply_exceptions(run.control.id, run.decision, exceptions, today)
            if run.decision.status == "excepted":
                # An accepted finding is never "fixed", nor shown as a change.
                run.decision = replace(run.decision, writes=[], diff=None)
    own_warnings = {id(run): run.decision.warnings for run in runs if run.decision is not None}
    settle_writes(runs)
    planned = enforce and any(run.decision is not None and run.decision.writes for run in runs)
    written = write_host(caller, host, runs)
    if not enforce:
        # Audit never writes: "not fixed in this run, run again" (two writers of one target) is enforce's news.
        for run in runs:
            if run.decision is not None and id(run) in own_warnings:
                run.decision = replace(run.decision, warnings=own_warnings[id(run)])
    records = [_record(run, params["evidence"]) for run in runs]
    # Check mode predicts; a real run reports what it wrote, not what it planned (a refused write changes nothing).
    changed = written > 0 if host.will_write else planned
    result = summarise(records, host.os_facts, contacted=True, changed=changed)
    diff = enforce_diff(host, runs) if enforce else None
    if diff:
        result["diff"] = diff
    if host.profile.pre_2003 and result["status"] in ("compliant", "remediated", "excepted"):
        # Before Server 2003 the unsecapp check does not exist: such a host is never called compliant.
        result["status"] = "not_applicable"
    result["msg"] = verdict_line(result, writes=("run" if host.will_write else "check") if enforce else None)
    unmatched = [
        item.describe()
        for item in exceptions
        if any(unmatched_exception_warning(item) in run.decision.warnings for run in runs if run.decision is not None)
    ]
    if unmatched:
        result["unmatched_exceptions"] = unmatched
    warnings: list[str] = []
    for run in runs:
        # A control that ended in error did not do what its warnings announce ("now 1", "after a restart").
        if run.decision is not None and run.error is None:
            warnings.extend(run.decision.warnings)
    if warnings:
        result["warnings"] = warnings
    if result["status"] == "error" and params["fail_on_error"]:
        result["failed"] = True
    elif params["fail_on_drift"] and result["status"] == "drift":
        result["failed"] = True
        result["msg"] = f"{result['msg']} (fail_on_drift)"
    return result


# --- the role's variables -----------------------------------------------------------------------------------------

ROLE_PREFIX = "wmi_hardening_"
_CONTROL_TAG = re.compile(r"^WMI-[0-9]+$", re.IGNORECASE)
# Set by the role itself, not by the user (the baseline's registered result).
ROLE_OWN_VARIABLES = frozenset({"wmi_hardening_result"})


def unknown_role_variables(defined: t.Iterable[str], known: t.Iterable[str]) -> list[str]:
    """One warning per wmi_hardening_* variable the role does not know, with the nearest known name: Ansible passes
    any variable silently, so wmi_hardening_report_directory would write no report and wmi_hardening_mod: enforce
    would audit."""
    known_names = sorted({*known, *ROLE_OWN_VARIABLES})
    warnings = []
    for name in sorted(set(defined)):
        if not name.startswith(ROLE_PREFIX) or name in known_names:
            continue
        nearest = difflib.get_close_matches(name, known_names, n=1, cutoff=0.6)
        hint = f" (did you mean {nearest[0]}?)" if nearest else ""
        warnings.append(f"{name} is not a variable of the winsec.wmi.wmi_hardening role and is ignored{hint}.")
    return warnings


def controls_from_tags(
    params: t.Mapping[str, t.Any], run_tags: t.Iterable[str], skip_tags: t.Iterable[str]
) -> dict[str, t.Any]:
    """The role's control selection with the tags named after control IDs added: ``--tags WMI-004`` selects that
    control (with wmi_hardening_controls), ``--skip-tags WMI-005`` skips it. Other tags (``all``, a task tag) select
    nothing here."""
    selected = [tag.upper() for tag in run_tags if _CONTROL_TAG.match(str(tag))]
    skipped = [tag.upper() for tag in skip_tags if _CONTROL_TAG.match(str(tag))]
    if not selected and not skipped:
        return dict(params)
    controls = list(dict.fromkeys([*(params.get("controls") or []), *selected])) or None
    return {**params, "controls": controls, "skip_controls": [*(params.get("skip_controls") or []), *skipped]}
