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

from ._control import Control, Decision, HostContext, Reference
from ._script_scan import ADSI_RULES, ALL_RULES, ASYNC_RULES, ScanResult, ScriptFile, scan_files
from ._text import plural
from ._unsecapp import REGISTRY_VALUE, normalise
from ._wmi_errors import op_value

DEFAULT_PATTERNS = ("*.vbs", "*.vbe", "*.wsf", "*.js", "*.jse", "*.ps1", "*.psm1")
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


def script_files(results: t.Mapping[str, t.Any]) -> list[ScriptFile]:
    """The ``files`` of a script_files result as ScriptFile (content decoded from base64)."""
    files = []
    for entry in results.get("files") or []:
        error = entry.get("error")
        message = f"{error.get('code')}: {error.get('message')}" if isinstance(error, t.Mapping) else None
        content = None
        if entry.get("content") is not None and message is None:
            try:
                content = base64.b64decode(entry["content"], validate=True)
            except (binascii.Error, ValueError):
                message = "the host returned content that is not base64"
        files.append(
            ScriptFile(str(entry.get("path")), entry.get("size"), content, bool(entry.get("truncated")), message)
        )
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
        max_file_bytes: int = 1048576,
        max_total_bytes: int = 8388608,
        max_files: int = 1000,
        rule_set: str | None = None,
    ) -> None:
        self.paths = list(paths)
        self.patterns = list(patterns)
        self.budget = {"max_bytes": max_file_bytes, "max_total_bytes": max_total_bytes, "max_files": max_files}
        self.rules = RULE_SETS[rule_set or self.rule_set]

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
            script_files(listing), lockdown=lockdown, rules=self.rules, max_file_bytes=self.budget["max_bytes"]
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
        if len(compatibility) < len(scan.findings):
            status = "drift"
        elif self._incomplete(scan):
            # A budget stopped the host, or a file could not be read: the scripts not seen may hold findings.
            status = "error"
        else:
            status = "compliant" if counts["scanned"] else "not_applicable"
        result["compliant"] = status == "compliant"
        kinds = ", ".join(sorted({finding["finding_id"] for finding in scan.findings}))
        return Decision(
            status,
            "no finding",
            actual,
            findings=[report_finding(finding) for finding in scan.findings],
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
        read_errors = [
            record
            for record in scan.not_scanned
            if record["status"] == "error" and not str(record["message"]).startswith("NOT_FOUND")
        ]
        return bool(scan.limits or read_errors)

    @staticmethod
    def _gaps(scan: ScanResult) -> str | None:
        unreadable = [record for record in scan.not_scanned if record["status"] != "skipped"]
        gaps = [f"{plural(len(unreadable), 'file')} could not be scanned"] if unreadable else []
        if not scan.files or not any(record["status"] == "scanned" for record in scan.files):
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
