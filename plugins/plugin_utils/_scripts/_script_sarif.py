# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Script-audit findings as a SARIF 2.1.0 log (OASIS Static Analysis Results Interchange Format), so code-scanning
tools and editors show them in place. Pure: returns the log as a dict; the action writes it."""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import re
import typing as t
from urllib.parse import quote

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"
TOOL_NAME = "winsec.wmi.script_audit"
# SARIF result.level: error, warning, note (§3.27.10); our severities map onto them.
LEVELS = {"critical": "error", "high": "error", "medium": "warning", "low": "note", "info": "note"}

RULES = {
    "adsi_wmi_extension": (
        "Removed ADSI extension for WMI",
        "WMIObjectPath, GetWMIObject and GetWMIServices on ADSI computer objects no longer exist on Windows Server "
        "2003 and later: build the WMI moniker from dNSHostName and the computer name instead.",
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/constructing-a-moniker-string",
        "warning",
    ),
    "async_wmi_sink": (
        "Asynchronous WMI sink",
        "An SWbemSink receives callbacks through unsecapp.exe, which accepts them from anyone unless "
        "UnsecAppAccessControlDefault is 1.",
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/swbemsink",
        "error",
    ),
    "async_wmi_call": (
        "Asynchronous WMI call",
        "An asynchronous WMI method delivers its results as callbacks through unsecapp.exe.",
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/making-an-asynchronous-call-with-vbscript",
        "error",
    ),
    "async_wmi_sink_wiring": (
        "Asynchronous WMI sink event handlers",
        "WScript.ConnectObject wires sink event handlers to an asynchronous WMI sink.",
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/making-an-asynchronous-call-with-vbscript",
        "error",
    ),
    "async_wmi_event_registration": (
        "Asynchronous WMI event registration",
        "Register-WmiEvent and Register-CimIndicationEvent receive WMI events asynchronously.",
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setting-security-on-an-asynchronous-call",
        "error",
    ),
    "async_handler_privileged": (
        "Privileged work in an asynchronous WMI callback",
        "A callback that anyone may trigger shuts down, kills processes, stops services, starts processes or "
        "writes the registry.",
        "https://learn.microsoft.com/en-us/windows/win32/wmisdk/setting-security-on-an-asynchronous-call",
        "error",
    ),
}


def artifact_uri(path: str) -> tuple[str, str | None]:
    """(uri, uriBaseId): a Windows host path becomes a file: URI; a repository-relative path stays relative."""
    slashed = path.replace("\\", "/")
    if re.match(r"^[A-Za-z]:/", slashed):
        return "file:///" + quote(slashed, safe="/:"), None
    if slashed.startswith("//"):
        return "file:" + quote(slashed, safe="/:"), None
    return quote(slashed, safe="/"), "SRCROOT"


def sarif_log(
    findings: t.Sequence[t.Mapping[str, t.Any]],
    files: t.Sequence[t.Mapping[str, t.Any]] = (),
    *,
    version: str,
    source_root: str | None = None,
    host: str | None = None,
) -> dict[str, t.Any]:
    """One SARIF run: the rules, one result per finding, and a notification per file that could not be scanned."""
    rule_ids = list(RULES)
    driver = {
        "name": TOOL_NAME,
        "version": version,
        "informationUri": "https://learn.microsoft.com/en-us/windows/win32/wmisdk/maintaining-wmi-security",
        "rules": [
            {
                "id": rule_id,
                "name": "".join(word.capitalize() for word in rule_id.split("_")),
                "shortDescription": {"text": name},
                "fullDescription": {"text": description},
                "helpUri": help_uri,
                "defaultConfiguration": {"level": level},
            }
            for rule_id, (name, description, help_uri, level) in RULES.items()
        ],
    }
    results = []
    for finding in findings:
        uri, base = artifact_uri(str(finding["file"]))
        location: dict[str, t.Any] = {"uri": uri}
        if base:
            location["uriBaseId"] = base
        results.append(
            {
                "ruleId": finding["finding_id"],
                "ruleIndex": rule_ids.index(finding["finding_id"]),
                "level": LEVELS.get(finding["severity"], "warning"),
                "message": {"text": finding["explanation"]},
                "locations": [
                    {
                        "physicalLocation": {
                            "artifactLocation": location,
                            "region": {
                                "startLine": finding["line"],
                                "startColumn": finding["column"],
                                "snippet": {"text": finding["snippet"]},
                            },
                        }
                    }
                ],
                "properties": {
                    "severity": finding["severity"],
                    "language": finding["language"],
                    "suggestedFix": finding["suggested_fix"],
                },
            }
        )
    notifications = [
        {
            "level": "warning",
            "message": {"text": f"{record['file']}: {record['message']} ({record['status']})"},
        }
        for record in files
        if record.get("status") not in ("scanned", "skipped")
    ]
    run: dict[str, t.Any] = {
        "tool": {"driver": driver},
        "invocations": [{"executionSuccessful": True, "toolExecutionNotifications": notifications}],
        "results": results,
    }
    if source_root is not None:
        root = source_root.replace("\\", "/").rstrip("/") + "/"
        prefix = "file://" if root.startswith("/") else "file:///"
        run["originalUriBaseIds"] = {"SRCROOT": {"uri": prefix + quote(root, safe="/:")}}
    if host is not None:
        run["properties"] = {"host": host}
    return {"$schema": SARIF_SCHEMA, "version": "2.1.0", "runs": [run]}
