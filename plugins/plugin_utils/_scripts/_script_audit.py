# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The legacy WMI script audit as controls (winsec.wmi.script_audit; baseline WMI-010 and WMI-011).

One read round trip: the unsecapp value (it decides how severe an asynchronous script is on this host) and the
script files, within per-file, per-host byte and file-count budgets that the host enforces while it reads.
``AdsiScriptAudit`` and ``AsyncScriptAudit`` make the same reads, so a baseline running both still reads the files
once (the runner sends identical operations once).
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import binascii
import typing as t

from .._control import Control, Decision, HostContext, Reference
from .._controls._exceptions import NO_EXCEPTIONS, ControlExceptions
from .._controls._unsecapp import REGISTRY_VALUE, normalise
from .._text import plural
from .._wmi_errors import op_value
from ._script_scan import ADSI_RULES, ALL_RULES, ASYNC_RULES, ScanResult, ScriptFile, scan_files

if t.TYPE_CHECKING:
    from .._controls._registry import BaselineOptions

DEFAULT_PATTERNS = ("*.vbs", "*.vbe", "*.wsf", "*.js", "*.jse", "*.ps1", "*.psm1")
# The script budgets, stated once: the module and baseline defaults and winsec.wmi.wmi_state's script_files defaults
# (plugins/modules/wmi_state.yml) are these numbers, and a unit test holds every document to them.
DEFAULT_MAX_FILE_BYTES = 1048576  # 1 MiB
DEFAULT_MAX_TOTAL_BYTES = 16777216  # 16 MiB per host
DEFAULT_MAX_FILES = 1000
# The controller's scan time per host (or per src). Every rule is linear in the file's size, so this is ample for
# DEFAULT_MAX_TOTAL_BYTES; it bounds a run whose budgets were raised far beyond the defaults.
DEFAULT_MAX_SCAN_SECONDS = 300
# The finding that lists a file the control did not scan (in the control's findings, i.e. the compliance report).
NOT_SCANNED = "script_not_scanned"
RULE_SETS = {"adsi": ADSI_RULES, "async": ASYNC_RULES, "all": ALL_RULES}

DOCS_ADSI_EXTENSION = Reference(
    "IWMIExtension::GetWMIObject method (Microsoft Learn, previous versions)",
    "https://learn.microsoft.com/en-us/previous-versions/aa392140(v=vs.85)",
)
DOCS_WMIOBJECTPATH = Reference(
    "Accessing a Remote WMI Win32_ComputerSystem Object Path (Microsoft Learn, previous versions)",
    "https://learn.microsoft.com/en-us/previous-versions/aa384719(v=vs.85)",
)
DOCS_MONIKER = Reference(
    "Constructing a Moniker String (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/constructing-a-moniker-string",
)
DOCS_OBJECT_LOCATION = Reference(
    "Describing the Location of a WMI Object (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/describing-the-location-of-a-wmi-object",
)
DOCS_ASYNC_VBSCRIPT = Reference(
    "Making an Asynchronous Call with VBScript (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/making-an-asynchronous-call-with-vbscript",
)
DOCS_ASYNC_SECURITY = Reference(
    "Setting Security on an Asynchronous Call (Microsoft Learn)",
    "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setting-security-on-an-asynchronous-call",
)
DOCS_SWBEMSINK = Reference(
    "SWbemSink object (Microsoft Learn)", "https://learn.microsoft.com/en-us/windows/win32/wmisdk/swbemsink"
)


def _error_text(error: t.Any) -> str:
    if isinstance(error, t.Mapping):
        return f"{error.get('code')}: {error.get('message')}"
    return str(error)


def script_files(results: t.Mapping[str, t.Any]) -> list[ScriptFile]:
    """The ``files`` of a script_files result as ScriptFile (content decoded from base64), then its ``unread``
    entries (directories and files the host could not read, absent from older targets) as files not scanned."""
    files = []
    for entry in results.get("files") or []:
        error = entry.get("error")
        message = _error_text(error) if error else None
        content = None
        if entry.get("content") is not None and message is None:
            try:
                content = base64.b64decode(entry["content"], validate=True)
            except (binascii.Error, ValueError):
                message = "the host returned content that is not base64"
        files.append(
            ScriptFile(str(entry.get("path")), entry.get("size"), content, bool(entry.get("truncated")), message)
        )
    for entry in results.get("unread") or []:
        if not isinstance(entry, t.Mapping):
            continue
        kind = str(entry.get("kind") or "path")
        reason = _error_text(entry.get("error")) if entry.get("error") else "the host could not read it"
        # Prefixed with the kind, so that an unread directory is never taken for a missing path (NOT_FOUND).
        files.append(ScriptFile(str(entry.get("path")), None, None, error=f"UNREAD {kind}: {reason}"))
    return files


def limit_message(stopped: str | None, budget: t.Mapping[str, int]) -> str | None:
    """Why the host stopped reading, as a sentence (None when it read everything)."""
    if stopped == "max_files":
        return (
            f"The host stopped listing after {plural(budget['max_files'], 'file')} (max_files): raise it to see more."
        )
    if stopped == "max_total_bytes":
        return (
            f"The host stopped reading after {plural(budget['max_total_bytes'], 'byte')} in total (max_total_bytes): "
            "files after that were not read; raise it or narrow paths/patterns."
        )
    return None


def is_compatibility_warning(finding: t.Mapping[str, t.Any], lockdown: bool | None) -> bool:
    """An asynchronous finding on a host that accepts only authenticated callbacks: the risk the controls guard
    against is gone there (callbacks are authenticated); what remains is that callbacks from pre-Windows 2000
    machines fail. Such findings are reported but do not make the host drift."""
    return lockdown is True and finding["finding_id"] in ASYNC_RULES


def summary(result: ScanResult) -> dict[str, int]:
    counts = {"files": len(result.files), "scanned": 0, "findings": len(result.findings)}
    for record in result.files:
        counts[record["status"]] = counts.get(record["status"], 0) + 1
    return counts


def report_finding(finding: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A finding as the compliance report reads it (id, severity, message, file, line) with every scan key kept."""
    return {
        **finding,
        "id": finding["finding_id"],
        "message": f"{finding['file']}:{finding['line']}:{finding['column']}: {finding['explanation']}",
    }


def unscanned(scan: ScanResult) -> list[dict[str, t.Any]]:
    """The files listed but not fully scanned (too large, binary or encoded, unreadable, not read for a budget, out of
    scan time, a directory the walk could not list). Not counted: files of a type the audit does not read, and
    paths the user named that do not exist (NOT_FOUND: there is nothing there to scan)."""
    return [
        record
        for record in scan.not_scanned
        if record["status"] != "skipped"
        and not (record["status"] == "error" and str(record["message"]).startswith("NOT_FOUND"))
    ]


def not_scanned_finding(record: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """An unscanned file as a finding of the control, so the compliance report lists it with its reason."""
    return {
        "id": NOT_SCANNED,
        "finding_id": NOT_SCANNED,
        "severity": "info",
        "file": record["file"],
        "status": record["status"],
        "message": f"{record['file']}: not scanned ({record['status']}): {record['message']}",
    }


class ScriptAudit(Control):
    """Both rule sets (the module). Subclasses narrow the rules for the baseline's two controls."""

    id = "WMI-010/WMI-011"
    title = "No script depends on the removed ADSI-WMI extension or on unauthenticated asynchronous WMI callbacks"
    severity = "high"
    references: t.ClassVar[tuple[Reference, ...]] = (
        DOCS_ADSI_EXTENSION,
        DOCS_WMIOBJECTPATH,
        DOCS_MONIKER,
        DOCS_ASYNC_VBSCRIPT,
        DOCS_ASYNC_SECURITY,
    )
    rule_set: t.ClassVar[str] = "all"

    def __init__(
        self,
        paths: t.Sequence[str],
        patterns: t.Sequence[str] = DEFAULT_PATTERNS,
        max_file_bytes: int = DEFAULT_MAX_FILE_BYTES,
        max_total_bytes: int = DEFAULT_MAX_TOTAL_BYTES,
        max_files: int = DEFAULT_MAX_FILES,
        rule_set: str | None = None,
        max_scan_seconds: float = DEFAULT_MAX_SCAN_SECONDS,
        *,
        exceptions: ControlExceptions = NO_EXCEPTIONS,
    ) -> None:
        self.paths = list(paths)
        self.patterns = list(patterns)
        self.budget = {"max_bytes": max_file_bytes, "max_total_bytes": max_total_bytes, "max_files": max_files}
        self.rules = RULE_SETS[rule_set or self.rule_set]
        self.max_scan_seconds = max_scan_seconds
        self.exceptions = exceptions

    @classmethod
    def from_baseline(cls, options: BaselineOptions) -> ScriptAudit:
        """The baseline's ``scripts`` option: ``{paths, patterns, max_file_bytes, max_total_bytes, max_files}``."""
        scripts = options.params.get("scripts") or {}
        return cls(
            scripts["paths"],
            scripts.get("patterns") or DEFAULT_PATTERNS,
            scripts.get("max_file_bytes") or DEFAULT_MAX_FILE_BYTES,
            scripts.get("max_total_bytes") or DEFAULT_MAX_TOTAL_BYTES,
            scripts.get("max_files") or DEFAULT_MAX_FILES,
            exceptions=options.exceptions,
        )

    def reads(self) -> list[dict[str, t.Any]]:
        return [
            {"op": "registry_read", "value": REGISTRY_VALUE},
            {
                "op": "script_files",
                "paths": self.paths,
                "patterns": self.patterns,
                "max_bytes": self.budget["max_bytes"],
                "max_total_bytes": self.budget["max_total_bytes"],
                "max_files": self.budget["max_files"],
            },
        ]

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        unsecapp = normalise(op_value(results[0], "reading UnsecAppAccessControlDefault"))
        # Before Server 2003 there is no unsecapp access check at all: callbacks are unauthenticated whatever the value.
        lockdown = False if host.profile.pre_2003 else unsecapp.value == 1
        listing = op_value(results[1], "reading the script files")
        scan = scan_files(
            script_files(listing),
            lockdown=lockdown,
            rules=self.rules,
            max_file_bytes=self.budget["max_bytes"],
            code_page=listing.get("ansi_code_page"),
            time_budget=self.max_scan_seconds,
        )
        limit = limit_message(listing.get("stopped"), {**self.budget})
        if limit:
            scan.limits.append(limit)
        return self.decision(scan, lockdown=lockdown)

    def decision(self, scan: ScanResult, *, lockdown: bool | None) -> Decision:
        """The verdict from a scan (shared by host runs and controller-side repository scans)."""
        counts = summary(scan)
        warnings = [
            f"{record['file']}: {record['message']}" for record in scan.not_scanned if record["status"] != "skipped"
        ]
        warnings += scan.limits
        result = {
            "findings": scan.findings,
            "files": scan.files,
            "summary": counts,
            "limits": list(scan.limits),
            "unsecapp_lockdown": lockdown,
            "msg": f"{plural(counts['findings'], 'finding')} in {plural(counts['scanned'], 'script')} scanned"
            + (f"; {plural(len(scan.not_scanned), 'file')} not scanned" if scan.not_scanned else "")
            + ".",
        }
        actual = f"{plural(counts['findings'], 'finding')} in {plural(counts['scanned'], 'scanned script')}"
        compatibility = [finding for finding in scan.findings if is_compatibility_warning(finding, lockdown)]
        if compatibility:
            warnings.append(
                f"{plural(len(compatibility), 'asynchronous WMI finding')} (see findings, severity low): this host "
                "accepts only authenticated callbacks, so callbacks from pre-Windows 2000 machines to these scripts "
                "fail."
            )
        if self._incomplete(scan):
            # A file not read, not fully read, or not scanned may hold findings: never evidence of compliance, and
            # not a complete account of the drift either. The findings made are still listed.
            status = "error"
        elif len(compatibility) < len(scan.findings):
            status = "drift"
        else:
            status = "compliant" if counts["scanned"] else "not_applicable"
        result["compliant"] = status == "compliant"
        kinds = ", ".join(sorted({finding["finding_id"] for finding in scan.findings}))
        return Decision(
            status,
            "no finding",
            actual,
            findings=[report_finding(finding) for finding in scan.findings]
            + [not_scanned_finding(record) for record in unscanned(scan)],
            remediation=(
                "Rewrite each script as its finding's suggested_fix shows: build the WMI moniker from the computer's "
                "dNSHostName and name instead of the ADSI extension; make asynchronous WMI semisynchronous; and set "
                f"UnsecAppAccessControlDefault = 1 (winsec.wmi.unsecapp_lockdown). Finding types: {kinds}"
                if scan.findings
                else ""
            ),
            reason=self._gaps(scan) if status != "compliant" else None,
            result=result,
            warnings=warnings,
        )

    @staticmethod
    def _incomplete(scan: ScanResult) -> bool:
        return bool(scan.limits or unscanned(scan))

    @staticmethod
    def _gaps(scan: ScanResult) -> str | None:
        missed = unscanned(scan)
        gaps = []
        if missed:
            listed = "; ".join(f"{record['file']} ({record['message']})" for record in missed[:5])
            more = f"; and {plural(len(missed) - 5, 'more file')}" if len(missed) > 5 else ""
            gaps.append(f"{plural(len(missed), 'file')} not scanned, so not evidence of compliance: {listed}{more}")
        if not missed and not any(record["status"] == "scanned" for record in scan.files):
            gaps.append("no script file was found and read at the given paths")
        return "; ".join(gaps + scan.limits) or None


class AdsiScriptAudit(ScriptAudit):
    id = "WMI-010"
    title = "No script depends on the removed ADSI-WMI extension"
    severity = "medium"
    references = (DOCS_ADSI_EXTENSION, DOCS_WMIOBJECTPATH, DOCS_MONIKER, DOCS_OBJECT_LOCATION)
    rule_set = "adsi"


class AsyncScriptAudit(ScriptAudit):
    id = "WMI-011"
    title = "No asynchronous WMI script where callbacks are unauthenticated"
    severity = "high"
    references = (DOCS_ASYNC_VBSCRIPT, DOCS_ASYNC_SECURITY, DOCS_SWBEMSINK)
    rule_set = "async"
