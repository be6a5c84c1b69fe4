# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Renderers of the fleet compliance report: JSON, JUnit XML, CSV and Markdown (HTML is in _report_html).

Every value that comes from a host (host names, principals, namespaces, script paths, messages) is escaped for the
format it lands in: XML text and attributes, CSV cells (no spreadsheet formulas) and Markdown table cells.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import csv
import io
import json
import re
import typing as t
import xml.etree.ElementTree as ET
from collections.abc import Mapping

from .._text import console_text
from ._report_model import (
    CONTROL_STATUSES,
    HOST_STATUSES,
    change_index,
    change_rows,
    exception_rows,
    host_needs_own_row,
    mode_sentence,
    not_applicable_rows,
    run_mode,
)

# --- JSON -------------------------------------------------------------------------------------------------------------


def _json(value: t.Any) -> str:
    # Compact separators keep the C encoder (an indent makes json use its pure-Python one, 5x slower at 10,000
    # hosts); ensure_ascii keeps the file 7-bit, so no consumer mis-decodes it and U+2028/U+2029 stay escaped.
    return json.dumps(value, ensure_ascii=True, separators=(",", ":"))


def render_json(report: Mapping[str, t.Any]) -> str:
    """The report, one host per line (readable with a pager, diffable between runs)."""
    head = _json({key: value for key, value in report.items() if key != "hosts"})
    hosts = ",\n".join(_json(host) for host in report["hosts"])
    return f'{head[:-1]},"hosts":[\n{hosts}\n]}}\n' if hosts else f'{head[:-1]},"hosts":[]}}\n'


# --- shared text helpers ----------------------------------------------------------------------------------------------


def findings_text(control: Mapping[str, t.Any]) -> str:
    """The findings of a control as one line each: '[severity] message (namespace, principal, rights)'."""
    lines = []
    for finding in control["findings"]:
        message = finding["message"]
        # The evidence fields the message does not already name (baseline messages usually name the principal).
        where = [
            str(finding[key])
            for key in ("namespace", "principal", "sid", "file", "line")
            if finding.get(key) not in (None, "") and str(finding[key]) not in message
        ]
        if finding.get("rights"):
            where.append("+".join(finding["rights"]))
        if finding.get("excepted"):
            where.append("excepted" + (f": {finding['reason']}" if finding.get("reason") else ""))
        elif "excepted" in finding:
            # The baseline's mark of a finding whose exception expired: it counts as drift again.
            where.append("EXPIRED " + (finding.get("reason") or "exception"))
        lines.append(f"[{finding['severity']}] {message}" + (f" ({', '.join(where)})" if where else ""))
    return "\n".join(lines)


def control_detail(host: Mapping[str, t.Any], control: Mapping[str, t.Any]) -> str:
    """Why a control is not compliant, in words: its reason, else its findings."""
    return control.get("reason") or findings_text(control) or host.get("reason") or ""


def os_text(host: Mapping[str, t.Any]) -> str:
    """'Microsoft Windows Server 2022 Datacenter (10.0.20348)' from the baseline's OS facts.

    The keys are the ones winsec.wmi.baseline returns (os_caption, os_version, os_build: the wmi_state 'facts' read,
    Win32_OperatingSystem's Caption, Version and BuildNumber); a host judged from inventory alone has only its
    family (nt4, w2000, xp, 2003).
    """
    os_info = host.get("os") or {}
    caption = os_info.get("os_caption") or os_info.get("family") or ""
    version = os_info.get("os_version") or os_info.get("os_build")
    text = f"{caption} ({version})" if caption and version else str(caption or version or "")
    if os_info.get("source") == "inventory":
        text += " (from inventory, not contacted)"
    return text


# --- JUnit XML --------------------------------------------------------------------------------------------------------

# XML 1.0 (section 2.2) allows only these characters; anything else (NUL, most C0 controls, lone surrogates,
# U+FFFE/U+FFFF) makes the document ill-formed, so it is shown as a \\uXXXX escape instead.
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def xml_text(value: t.Any) -> str:
    """Text that ElementTree can escape into well-formed XML (it escapes & < > and quotes, not invalid chars)."""
    return _XML_INVALID.sub(lambda match: f"\\u{ord(match.group()):04x}", "" if value is None else str(value))


# How a control status becomes a JUnit outcome; absent means the testcase passed.
_JUNIT_OUTCOME = {
    "drift": "failure",
    "error": "error",
    "unreachable": "error",
    "excepted": "skipped",
    "not_applicable": "skipped",
}


def _junit_testcase(parent: ET.Element, classname: str, name: str, status: str, message: str, detail: str) -> str:
    case = ET.SubElement(parent, "testcase", {"name": xml_text(name), "classname": xml_text(classname), "time": "0"})
    outcome = _JUNIT_OUTCOME.get(status)
    if outcome == "skipped":
        ET.SubElement(case, "skipped", {"message": xml_text(f"{status}: {message}")})
    elif outcome:
        element = ET.SubElement(case, outcome, {"message": xml_text(message), "type": status})
        element.text = xml_text(detail)
    else:
        ET.SubElement(case, "system-out").text = xml_text(detail or status)
    return outcome or "passed"


def render_junit(report: Mapping[str, t.Any]) -> str:
    """One testsuite per host and one testcase per host x control (a host without controls gets one testcase).

    Jenkins (junit plugin) and GitLab read: testsuites > testsuite(name, tests, failures, errors, skipped) >
    testcase(name, classname, time) > failure | error | skipped, with message attributes.
    """
    mode = run_mode(report)
    title = report["title"] + {"check": " [check mode: nothing changed]", "mixed": " [check and run mode]"}.get(
        mode, ""
    )
    root = ET.Element("testsuites", {"name": xml_text(title)})
    totals = {"tests": 0, "failures": 0, "errors": 0}
    for index, host in enumerate(report["hosts"]):
        suite = ET.Element(
            "testsuite",
            {"name": xml_text(host["host"]), "id": str(index), "hostname": xml_text(host["host"]), "time": "0"},
        )
        suite.set("timestamp", host["run_at"][:19])
        properties = ET.SubElement(suite, "properties")
        mode = {True: "check", False: "run"}.get(host.get("check_mode"), "")
        for key, value in (
            ("status", host["status"]),
            ("os", os_text(host)),
            ("reason", host.get("reason") or ""),
            ("mode", mode),
        ):
            ET.SubElement(properties, "property", {"name": key, "value": xml_text(value)})
        # Jenkins splits classname at dots into package and class: 'wmi' groups the hosts, the host is the class.
        classname = "wmi." + host["host"].replace(".", "_")
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        outcomes = []
        if host_needs_own_row(host):
            # The host's own verdict (no controls, or a failed task whose controls all passed) is a testcase too.
            outcomes.append(
                _junit_testcase(
                    suite, classname, "baseline", host["status"], host.get("reason") or host["status"], os_text(host)
                )
            )
        for control in host["controls"]:
            detail = control_detail(host, control)
            if control["remediation"]["text"] and control["status"] == "drift":
                detail += f"\nRemediation: {control['remediation']['text']}"
            message = control.get("reason") or f"{control['status']}: {len(control['findings'])} finding(s)"
            name = f"{control['id']} {control['title']}".strip()
            outcomes.append(_junit_testcase(suite, classname, name, control["status"], message, detail))
        counts["tests"] = len(outcomes)
        counts["failures"] = outcomes.count("failure")
        counts["errors"] = outcomes.count("error")
        counts["skipped"] = outcomes.count("skipped")
        for key, value in counts.items():
            suite.set(key, str(value))
            # Jenkins' schema has no 'skipped' on testsuites: it is counted per testsuite only.
            if key in totals:
                totals[key] += value
        root.append(suite)
    for key, value in totals.items():
        root.set(key, str(value))
    root.set("time", "0")
    ET.indent(root, space=" ")
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


# --- CSV --------------------------------------------------------------------------------------------------------------

CSV_COLUMNS = (
    "host",
    "host_status",
    "os",
    "control_id",
    "control_title",
    "severity",
    "status",
    "reason",
    "findings",
    "remediation_automatic",
    "remediation",
    "changes",
    "expected",
    "actual",
    "run_at",
    # Added in report schema 1.1, at the end so that readers by position keep working.
    "mode",
    "exception",
    "since_previous",
)
# Spreadsheets evaluate a cell that starts with one of these as a formula (OWASP "CSV Injection"); a leading
# apostrophe makes Excel, LibreOffice and Google Sheets show it as text.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value: t.Any) -> str:
    text = "" if value is None else value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(report: Mapping[str, t.Any]) -> str:
    """One row per host x control, and one row with the host's own status and reason where the control rows do not
    carry it (a host without controls, or a failed task whose controls passed)."""
    buffer = io.StringIO()
    # A UTF-8 byte order mark first: Excel reads a CSV without one in the ANSI code page and garbles non-ASCII names.
    buffer.write("\ufeff")
    writer = csv.writer(buffer, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(CSV_COLUMNS)
    changes = change_index(report)
    for host in report["hosts"]:
        base = {
            "host": host["host"],
            "host_status": host["status"],
            "os": os_text(host),
            "run_at": host["run_at"],
            "mode": {True: "check", False: "run"}.get(host.get("check_mode"), ""),
        }
        own_row = [
            {
                **base,
                "status": host["status"],
                "reason": host.get("reason") or "",
                "since_previous": changes.get((host["host"], ""), ""),
            }
        ]
        rows = (own_row if host_needs_own_row(host) else []) + [
            {
                **base,
                "control_id": control["id"],
                "control_title": control["title"],
                "severity": control["severity"],
                "status": control["status"],
                "reason": control.get("reason") or "",
                "findings": findings_text(control),
                "remediation_automatic": "yes" if control["remediation"]["automatic"] else "no",
                "remediation": control["remediation"]["text"],
                "changes": "\n".join(control["changes"]),
                "expected": control["expected"],
                "actual": control["actual"],
                "exception": _exception_cell(control),
                "since_previous": changes.get((host["host"], control["id"]), "unchanged" if changes else ""),
            }
            for control in host["controls"]
        ]
        for row in rows:
            writer.writerow([csv_cell(row.get(column)) for column in CSV_COLUMNS])
    return buffer.getvalue()


def _exception_cell(control: Mapping[str, t.Any]) -> str:
    """'active: <reason>' / 'EXPIRED: <reason>' per excepted finding of a control, one line each."""
    lines = []
    for finding in control["findings"]:
        if "excepted" in finding:
            state = "active" if finding["excepted"] else "EXPIRED"
            lines.append(f"{state}: {finding.get('reason') or ''}")
    return "\n".join(lines)


# --- Markdown ---------------------------------------------------------------------------------------------------------

# CommonMark (section 2.4) lets any ASCII punctuation be backslash-escaped. Escaped here: what starts emphasis,
# links and images ([ ]), code (`), headings (#), table cells (|) and the GitHub/GitLab extensions (~ strikethrough,
# $ math). List markers (- + .) matter only at a line's start, where host text never stands. & < > become entities
# so that no renderer sees an HTML tag or an entity reference.
_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|~$:@!])")
# GitHub's and GitLab's autolinks (GFM's extension: www.<host>, scheme://, e-mail addresses) are made while the
# Markdown is parsed, so an escaped ':' '@' and the dot after www stop them. @mentions (which notify people),
# #123 and !123 references are made later, in the rendered text, where the backslash is gone: an invisible
# WORD JOINER (U+2060) after '@', '#' and '!' keeps the text readable and stops those too.
_MD_WWW = re.compile(r"(?i)\b(www)\.")
# C0 controls other than tab and line breaks, and DEL: invisible or harmful in a rendered page.
_MD_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


def _md_escape(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\{char}\u2060" if char in "@#!" else f"\\{char}"


def md_cell(value: t.Any) -> str:
    text = "" if value is None else str(value)
    text = _MD_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", text)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(_md_escape, text)
    text = _MD_WWW.sub(r"\1\\.", text)
    # A table row is one line: newlines (any Unicode line break) become a visible separator.
    return " / ".join(part.strip() for part in text.splitlines()) if text else ""


def _md_table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for column in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _md_since(report: Mapping[str, t.Any], max_rows: int) -> list[str]:
    delta = report.get("changes_since")
    if not delta:
        return []
    counts = delta["counts"]
    lines = [
        "",
        f"## Since the report of {md_cell(delta['previous_generated_at'])}",
        "",
        f"{counts['new']} new, {counts['fixed']} fixed, {counts['changed']} changed, {counts['unchanged']} unchanged, "
        f"{counts['gone']} gone (host x control results).",
    ]
    rows = [
        [
            md_cell(e["host"]),
            md_cell(e["control"]),
            e["change"],
            md_cell(e["previous"] or "-"),
            md_cell(e["status"] or "-"),
        ]
        for e in delta["entries"]
    ]
    if rows:
        lines += ["", *_md_table(["Host", "Control", "Change", "Before", "Now"], rows[:max_rows])]
    return lines


def _md_section(title: str, header: list[str], rows: list[list[str]], empty: str, max_rows: int) -> list[str]:
    if not rows:
        return ["", f"## {title}", "", empty]
    lines = ["", f"## {title}", "", *_md_table(header, rows[:max_rows])]
    if len(rows) > max_rows:
        lines += ["", f"{len(rows) - max_rows} more: see the CSV or HTML report."]
    return lines


def _md_exception_state(row: Mapping[str, t.Any]) -> str:
    if row["expired"]:
        return f"**EXPIRED** {md_cell(row['expires'] or '')}"
    return f"active, expires {md_cell(row['expires'])}" if row["expires"] else "active"


def _md_sections(report: Mapping[str, t.Any], max_rows: int) -> list[str]:
    """Exceptions, not-applicable hosts and changes: what a change ticket must list beside the drift."""
    exceptions = sorted(exception_rows(report), key=lambda row: not row["expired"])
    state = {id(row): _md_exception_state(row) for row in exceptions}
    lines = _md_section(
        "Exceptions",
        ["Host", "Control", "Where", "Principal", "Reason", "State"],
        [
            [*(md_cell(row[key]) for key in ("host", "control", "where", "principal", "reason")), state[id(row)]]
            for row in exceptions
        ],
        "No finding is covered by an exception.",
        max_rows,
    )
    configured = [
        [
            *(md_cell(item[key] or "") for key in ("control", "namespace", "principal", "reason")),
            f"**EXPIRED** {md_cell(item['expires'])}" if item["expired"] else md_cell(item["expires"] or "never"),
        ]
        for item in report.get("exceptions", [])
    ]
    if configured:
        header = ["Control", "Namespace", "Principal", "Reason", "Expires"]
        lines += _md_section("Exceptions the baseline ran with", header, configured, "", max_rows)
    lines += _md_section(
        "Not applicable",
        ["Host", "OS", "Why", "Mitigation"],
        [
            [md_cell(row["host"]), md_cell(os_text(row)), md_cell(row["reason"]), md_cell(row["mitigation"])]
            for row in not_applicable_rows(report)
        ],
        "None.",
        max_rows,
    )
    lines += _md_section(
        "Changes",
        ["Host", "Control", "Made or predicted", "Change"],
        [
            [
                md_cell(row["host"]),
                md_cell(row["control"]),
                "predicted" if row["predicted"] else "made",
                md_cell(row["change"]),
            ]
            for row in change_rows(report)
        ],
        "No change was made or predicted.",
        max_rows,
    )
    return lines


def render_markdown(report: Mapping[str, t.Any], max_rows: int = 1000) -> str:
    """For a change ticket: the run mode, the summary, what needs action, exceptions, not-applicable hosts, the
    changes, and what changed since an earlier report."""
    summary = report["summary"]
    carried = report.get("carried_over")
    lines = [
        f"# {md_cell(report['title'])}",
        "",
        f"**{mode_sentence(report)}**",
        "",
        f"Generated {md_cell(report['generated_at'])}, "
        f"schema {md_cell(report['schema_version'])}, {summary['hosts']} hosts.",
    ]
    if carried:
        lines += [
            "",
            f"{summary['hosts'] - carried['hosts']} hosts from this run, {carried['hosts']} carried over from earlier "
            f"runs (oldest {md_cell(carried['oldest_run_at'] or '-')}); {carried['dropped']} older than "
            f"{carried['max_age_days']} days dropped.",
        ]
    lines += ["", "## Hosts by status", ""]
    lines += _md_table(
        ["Status", "Hosts"], [[status, str(summary["host_status_counts"][status])] for status in HOST_STATUSES]
    )
    lines += ["", "## Controls", ""]
    lines += _md_table(
        ["Control", "Title", "Severity", *CONTROL_STATUSES],
        [
            [md_cell(c["id"]), md_cell(c["title"]), c["severity"], *(str(c["counts"][s]) for s in CONTROL_STATUSES)]
            for c in summary["controls"]
        ],
    )
    lines += _md_since(report, max_rows)
    drift_rows = []
    for host in report["hosts"]:
        if host_needs_own_row(host) and host["status"] in ("error", "unreachable"):
            drift_rows.append(
                [md_cell(host["host"]), md_cell(os_text(host)), "", host["status"], "", md_cell(host.get("reason")), ""]
            )
        for control in host["controls"]:
            if control["status"] in ("drift", "error"):
                drift_rows.append(
                    [
                        md_cell(host["host"]),
                        md_cell(os_text(host)),
                        md_cell(control["id"]),
                        control["status"],
                        control["severity"],
                        md_cell(control_detail(host, control)),
                        md_cell(control["remediation"]["text"]),
                    ]
                )
    lines += ["", "## Drift and errors", ""]
    if drift_rows:
        lines += _md_table(
            ["Host", "OS", "Control", "Status", "Severity", "Detail", "Remediation"], drift_rows[:max_rows]
        )
        if len(drift_rows) > max_rows:
            lines += ["", f"{len(drift_rows) - max_rows} more rows: see the JSON, CSV or HTML report."]
    else:
        lines.append("None: every host reported a verdict and no control drifted.")
    lines += _md_sections(report, max_rows)
    return "\n".join(lines) + "\n"


# --- console ----------------------------------------------------------------------------------------------------------

# Worst first, as the HTML matrix orders hosts: what an operator must act on comes first.
_CONSOLE_ORDER = ("error", "unreachable", "drift", "excepted", "remediated", "not_applicable", "compliant")


def console_summary(report: Mapping[str, t.Any], max_hosts: int = 50) -> list[str]:
    """The end-of-run lines printed whatever the callback hides: the fleet's counts, then one line per host that is
    not compliant (worst first, at most ``max_hosts``), each naming its failing controls. Ansible's default callback
    drops ok results and their warnings under ANSIBLE_DISPLAY_OK_HOSTS=false, which big fleets set; these lines are
    displayed directly, so drift and errors never vanish with it. Host-derived text goes through console_text."""
    counts = report["summary"]["host_status_counts"]
    shown = ", ".join(f"{counts[status]} {status}" for status in _CONSOLE_ORDER if counts.get(status))
    lines = [f"WMI compliance ({run_mode(report)}): {shown or 'no hosts'}"]
    flagged = sorted(
        (host for host in report["hosts"] if host["status"] not in ("compliant", "not_applicable", "remediated")),
        key=lambda host: (
            _CONSOLE_ORDER.index(host["status"]) if host["status"] in _CONSOLE_ORDER else 0,
            host["host"],
        ),
    )
    for host in flagged[:max_hosts]:
        failing = [
            f"{control['id']} {control['status']}"
            for control in host.get("controls") or []
            if control.get("status") in ("error", "drift", "excepted")
        ]
        reason = str(host.get("reason") or "").strip()
        detail = ", ".join(failing) or (reason.splitlines()[0] if reason else "")
        lines.append(console_text(f"  {host['host']}: {host['status']}{': ' + detail if detail else ''}", 300))
    if len(flagged) > max_hosts:
        lines.append(f"  ... and {len(flagged) - max_hosts} more host(s) not compliant: see the report")
    return lines
