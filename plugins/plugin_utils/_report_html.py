# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet compliance report as one self-contained HTML file.

No network: styles, the chart (inline SVG) and the table's sort and filter script are in the file. A Content
Security Policy allows only that one script (by its SHA-256), so even text that escaped our escaping could not
run. Every host-derived value goes through html.escape; the page reads fully without JavaScript and prints.
"""

# FOR INTERNAL COLLECTION USE ONLY
# The interfaces in this file are meant for use within this collection
# and may not remain stable to outside uses. Changes may be made in ANY release, even a bugfix release.
# See also: https://github.com/ansible/community/issues/539#issuecomment-780839686
# Please open an issue if you have questions about this.

from __future__ import annotations

import base64
import hashlib
import html
import json
import re
import typing as t
from collections.abc import Mapping

from ._report_model import CONTROL_STATUSES, HOST_STATUSES, host_needs_own_row
from ._report_render import control_detail, os_text

STATUS_COLOURS = {
    "compliant": "#2e7d32",
    "drift": "#e65100",
    "remediated": "#1565c0",
    "not_applicable": "#757575",
    "excepted": "#6a1b9a",
    "error": "#c62828",
    "unreachable": "#37474f",
}

_STYLE = """
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1.5em;color:#1a1a1a}
h1{font-size:1.6em;margin:0 0 .2em}h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin-top:1.6em}
table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}#results th{cursor:pointer;user-select:none}
#results th[aria-sort=ascending]::after{content:" \\25B2"}#results th[aria-sort=descending]::after{content:" \\25BC"}
.badge{display:inline-block;padding:0 6px;border-radius:3px;color:#fff;font-size:.85em;white-space:nowrap}
.filters{margin:.6em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:4px;margin:2px 0;max-height:20em;overflow:auto}
td.detail{white-space:pre-wrap;word-break:break-word;max-width:40em}
#results td:nth-child(3),#results td:nth-child(5),#results td:nth-child(6){white-space:nowrap}
details.host{border:1px solid #ddd;margin:4px 0;padding:2px 8px}details.host>summary{cursor:pointer;font-weight:600}
.control{border-left:4px solid #ccc;margin:6px 0;padding:2px 8px}.muted{color:#666}
.legend span{margin-right:1em;white-space:nowrap}.legend i{display:inline-block;width:10px;height:10px;margin-right:3px}
@media print{.filters,#results th::after,noscript{display:none}body{margin:0;font-size:10pt}
thead{display:table-header-group}tr,.control{break-inside:avoid}a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}pre{max-height:none;overflow:visible}}
"""

# Sort by a column (click its header; again to reverse), filter rows by text and status, and page through them.
# A browser lays out every displayed table row (about 1 ms each), so a fleet's table of 100,000 rows would take
# minutes to open: only one page is displayed at a time; the server marks the rows after the first page hidden, so
# the page opens fast before the script runs. Plain DOM, no library.
_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("results");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var pageSize = parseInt(table.getAttribute("data-page-size"), 10);
  var text = document.getElementById("filter-text");
  var status = document.getElementById("filter-status");
  var count = document.getElementById("row-count");
  var previous = document.getElementById("page-previous");
  var next = document.getElementById("page-next");
  var collator = new Intl.Collator(undefined, {numeric: true, sensitivity: "base"});
  var searchable = null;
  var matching = rows;
  var page = 0;
  var shown = rows.filter(function (row) { return !row.hidden; });
  function render() {
    var pages = Math.max(1, Math.ceil(matching.length / pageSize));
    page = Math.min(page, pages - 1);
    var start = page * pageSize;
    var wanted = matching.slice(start, start + pageSize);
    shown.forEach(function (row) { row.hidden = true; });
    wanted.forEach(function (row) { row.hidden = false; });
    shown = wanted;
    var first = wanted.length ? start + 1 : 0;
    count.textContent = "Rows " + first + "-" + (start + wanted.length) + " of " + matching.length +
      (matching.length === rows.length ? "" : " matching (" + rows.length + " in all)");
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  function applyFilter() {
    var query = text.value.trim().toLowerCase();
    var wanted = status.value;
    if (query && searchable === null) {
      searchable = new Map(rows.map(function (row) { return [row, row.textContent.toLowerCase()]; }));
    }
    matching = rows.filter(function (row) {
      return (!wanted || row.getAttribute("data-status") === wanted) &&
        (!query || searchable.get(row).indexOf(query) !== -1);
    });
    page = 0;
    render();
  }
  function sortBy(header) {
    var column = header.cellIndex;
    var descending = header.getAttribute("aria-sort") === "ascending";
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    var keys = new Map(rows.map(function (row) { return [row, row.cells[column].textContent]; }));
    rows.sort(function (a, b) {
      var order = collator.compare(keys.get(a), keys.get(b));
      return descending ? -order : order;
    });
    var fragment = document.createDocumentFragment();
    rows.forEach(function (row) { fragment.appendChild(row); });
    body.appendChild(fragment);
    var selected = new Set(matching);
    matching = rows.filter(function (row) { return selected.has(row); });
    page = 0;
    render();
  }
  Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header) {
    header.addEventListener("click", function () { sortBy(header); });
  });
  text.addEventListener("input", applyFilter);
  status.addEventListener("change", applyFilter);
  previous.addEventListener("click", function () { page -= 1; render(); });
  next.addEventListener("click", function () { page += 1; render(); });
  window.addEventListener("beforeprint", function () {
    Array.prototype.forEach.call(document.querySelectorAll("details"), function (d) { d.open = true; });
  });
  render();
  document.documentElement.setAttribute("data-report-ready", "true");
})();
"""
_SCRIPT_HASH = base64.b64encode(hashlib.sha256(_SCRIPT.encode()).digest()).decode()
_CSP = f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; img-src data:"


# Control characters are parse errors in HTML (NUL is dropped, the others shown or not depending on the browser):
# they are shown as \\uXXXX. Tab, line feed, form feed and carriage return are HTML whitespace and stay.
_HTML_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def shown(value: t.Any) -> str:
    """The text a reader sees for a value: control characters as \\uXXXX escapes."""
    return _HTML_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", "" if value is None else str(value))


def esc(value: t.Any) -> str:
    return html.escape(shown(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge" style="background:{STATUS_COLOURS[status]}">{esc(status)}</span>'


def _pretty(value: t.Any) -> str:
    return esc(json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True))


def _chart(summary: Mapping[str, t.Any]) -> str:
    """A stacked horizontal bar per control (and one for the host verdicts): status shares, counts in tooltips."""
    rows: list[tuple[str, str, Mapping[str, int], tuple[str, ...]]] = [
        ("Hosts", "host verdicts", summary["host_status_counts"], HOST_STATUSES)
    ]
    rows += [(c["id"], c["title"], c["counts"], CONTROL_STATUSES) for c in summary["controls"]]
    label_width, bar_width, row_height = 170, 520, 24
    height = row_height * len(rows) + 6
    parts = [
        f'<svg id="status-chart" xmlns="http://www.w3.org/2000/svg" width="{label_width + bar_width + 70}" '
        f'height="{height}" role="img" aria-labelledby="chart-title">'
        '<title id="chart-title">Status per control</title>'
    ]
    for index, (label, title, counts, statuses) in enumerate(rows):
        y = 3 + index * row_height
        total = sum(counts[s] for s in statuses)
        parts.append(
            f'<g class="chart-row" data-control="{esc(label)}"><title>{esc(label)} {esc(title)}</title>'
            f'<text x="0" y="{y + 15}" font-size="12">{esc(label[:28])}</text>'
        )
        x = float(label_width)
        for status in statuses:
            if not counts[status]:
                continue
            width = bar_width * counts[status] / total
            parts.append(
                f'<rect class="bar" data-status="{status}" data-count="{counts[status]}" x="{x:.2f}" y="{y}" '
                f'width="{width:.2f}" height="{row_height - 6}" fill="{STATUS_COLOURS[status]}">'
                f"<title>{esc(label)}: {counts[status]} {status}</title></rect>"
            )
            x += width
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 15}" font-size="12">{total}</text></g>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{STATUS_COLOURS[s]}"></i>{s}</span>' for s in HOST_STATUSES)
    return "".join(parts) + f'<div class="legend">{legend}</div>'


def _host_list(capped: Mapping[str, t.Any], anchors: Mapping[str, str]) -> str:
    if not capped["total"]:
        return "none"
    links = ", ".join(f'<a href="#{anchors[name]}">{esc(name)}</a>' for name in capped["names"])
    more = f" and {capped['total'] - len(capped['names'])} more" if capped["truncated"] else ""
    return f"{capped['total']}: {links}{more}"


def _finding_rows(findings: list[Mapping[str, t.Any]]) -> str:
    if not findings:
        return ""
    head = "<tr><th>Severity</th><th>Finding</th><th>Namespace</th><th>Principal</th><th>Rights</th><th>Where</th></tr>"
    body = []
    for finding in findings:
        where = ":".join(str(finding[key]) for key in ("file", "line") if finding.get(key) not in (None, ""))
        principal = finding.get("principal") or ""
        if finding.get("sid") and finding.get("sid") != principal:
            principal = f"{principal} ({finding['sid']})" if principal else finding["sid"]
        message = finding["message"]
        if finding.get("excepted"):
            message += " [excepted" + (f": {finding['reason']}]" if finding.get("reason") else "]")
        body.append(
            f"<tr><td>{esc(finding['severity'])}</td><td>{esc(finding['id'])} {esc(message)}</td>"
            f"<td>{esc(finding.get('namespace'))}</td><td>{esc(principal)}</td>"
            f"<td>{esc(', '.join(finding.get('rights') or []))}</td><td>{esc(where)}</td></tr>"
        )
    return f'<table class="findings">{head}{"".join(body)}</table>'


def _reference(ref: Mapping[str, str]) -> str:
    url, title = ref["url"], ref["title"] or ref["url"]
    # Only web links become links: a host could report a javascript: or file: URL.
    if url.lower().startswith(("https://", "http://")):
        return f'<li><a href="{esc(url)}" rel="noopener noreferrer">{esc(title)}</a></li>'
    return f"<li>{esc(title)} {esc(url)}</li>"


def _evidence(evidence: t.Any) -> str:
    """What the verdict was read from (the baseline's evidence=true): each namespace's SDDL as a table row."""
    if evidence is None:
        return ""
    if isinstance(evidence, Mapping) and all(isinstance(value, str | None) for value in evidence.values()):
        rows = "".join(
            f"<tr><td>{esc(key)}</td><td><code>{esc(value if value is not None else 'not read')}</code></td></tr>"
            for key, value in evidence.items()
        )
        return (
            f'<div>Read from the host</div><table class="evidence"><tr><th>Where</th><th>Value</th></tr>{rows}</table>'
        )
    return f"<div>Read from the host</div><pre>{_pretty(evidence)}</pre>"


def _control_block(host: Mapping[str, t.Any], control: Mapping[str, t.Any]) -> str:
    colour = STATUS_COLOURS[control["status"]]
    head = (
        f'<div class="control" style="border-left-color:{colour}"><strong>{esc(control["id"])}</strong> '
        f'{esc(control["title"])} {_badge(control["status"])} <span class="muted">{esc(control["severity"])}</span>'
    )
    if control["status"] in ("compliant", "not_applicable") and not control["findings"]:
        return head + (f"<div>{esc(control['reason'])}</div>" if control.get("reason") else "") + "</div>"
    parts = [head]
    if control.get("reason"):
        parts.append(f"<p>{esc(control['reason'])}</p>")
    parts.append(_finding_rows(control["findings"]))
    parts.append(
        f"<details><summary>Evidence</summary><div>Expected</div><pre>{_pretty(control['expected'])}</pre>"
        f"<div>Actual</div><pre>{_pretty(control['actual'])}</pre>{_evidence(control.get('evidence'))}</details>"
    )
    if control["changes"]:
        parts.append("<div>Changes:</div><ul>" + "".join(f"<li>{esc(c)}</li>" for c in control["changes"]) + "</ul>")
    if control["remediation"]["text"]:
        kind = "automatic" if control["remediation"]["automatic"] else "manual"
        parts.append(f"<p><strong>Remediation ({kind}):</strong> {esc(control['remediation']['text'])}</p>")
    if control["references"]:
        parts.append("<ul>" + "".join(_reference(ref) for ref in control["references"]) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


# Rows of the host x control table displayed at once (see _SCRIPT).
PAGE_SIZE = 1000


def _table_row(status: str, cells: list[str], *, hidden: bool) -> str:
    """One row of the host x control table from escaped cells; the last cell is the detail text."""
    body = "".join(f"<td>{cell}</td>" for cell in cells[:-1]) + f'<td class="detail">{cells[-1]}</td>'
    return f'<tr data-status="{status}"{" hidden" if hidden else ""}>{body}</tr>'


def _noscript(rows: int, page_size: int) -> str:
    if rows <= page_size:
        return ""
    return (
        f"<noscript><p>Without JavaScript this table shows its first {page_size} of {rows} rows; the host details "
        "below, the CSV and the JSON report have all of them.</p></noscript>"
    )


def render_html(report: Mapping[str, t.Any], page_size: int = PAGE_SIZE) -> str:
    summary = report["summary"]
    hosts = report["hosts"]
    anchors = {host["host"]: f"host-{index}" for index, host in enumerate(hosts)}
    counts = "".join(
        f"<tr><td>{_badge(status)}</td><td>{summary['host_status_counts'][status]}</td></tr>"
        for status in HOST_STATUSES
    )
    matrix_rows: list[str] = []
    details = []
    for host in hosts:
        anchor = anchors[host["host"]]
        host_cells = [f'<a href="#{anchor}">{esc(host["host"])}</a>', esc(host["status"])]
        if host_needs_own_row(host):
            cells = [*host_cells, "", "", "", esc(host["status"]), esc(host.get("reason"))]
            matrix_rows.append(_table_row(host["status"], cells, hidden=len(matrix_rows) >= page_size))
        for control in host["controls"]:
            detail = "" if control["status"] == "compliant" else control_detail(host, control)
            cells = [
                *host_cells,
                esc(control["id"]),
                esc(control["title"]),
                esc(control["severity"]),
                esc(control["status"]),
                esc(detail),
            ]
            matrix_rows.append(_table_row(control["status"], cells, hidden=len(matrix_rows) >= page_size))
        reason = f"<p>{esc(host['reason'])}</p>" if host.get("reason") else ""
        mode = {True: "check mode (audit)", False: "run mode"}.get(host.get("check_mode"), "")
        details.append(
            f'<details class="host" id="{anchor}"><summary>{esc(host["host"])} {_badge(host["status"])} '
            f'<span class="muted">{esc(os_text(host))}</span></summary>{reason}'
            f'<p class="muted">Evaluated {esc(host["run_at"])} {esc(mode)}; changed: {str(host["changed"]).lower()}</p>'
            + "".join(_control_block(host, control) for control in host["controls"])
            + "</details>"
        )
    status_options = "".join(f'<option value="{s}">{s}</option>' for s in HOST_STATUSES)
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(report['title'])}</title><style>{_STYLE}</style></head><body>"
        f'<header><h1>{esc(report["title"])}</h1><p class="muted">Generated {esc(report["generated_at"])} by '
        f"{esc(report['generator'])}, report schema {esc(report['schema_version'])}; {summary['hosts']} hosts.</p>"
        "</header>"
        f'<section id="summary"><h2>Summary</h2><table class="counts"><tr><th>Host status</th><th>Hosts</th></tr>'
        f"{counts}</table><h3>Status per control</h3>{_chart(summary)}"
        f"<p><strong>Hosts with drift:</strong> {_host_list(summary['hosts_with_drift'], anchors)}</p>"
        f"<p><strong>Hosts with errors or unreachable:</strong> {_host_list(summary['hosts_with_errors'], anchors)}"
        "</p></section>"
        '<section id="matrix"><h2>Hosts &times; controls</h2><div class="filters">'
        '<label>Filter <input id="filter-text" type="search" placeholder="host, control, finding"></label>'
        f'<label>Status <select id="filter-status"><option value="">all</option>{status_options}</select></label>'
        '<button type="button" id="page-previous">Previous</button><button type="button" id="page-next">Next</button>'
        '<span id="row-count"></span></div>'
        f"{_noscript(len(matrix_rows), page_size)}"
        f'<table id="results" data-page-size="{page_size}"><thead><tr><th>Host</th><th>Host status</th>'
        "<th>Control</th><th>Title</th><th>Severity</th><th>Status</th><th>Detail</th></tr></thead><tbody>"
        + "".join(matrix_rows)
        + '</tbody></table></section><section id="hosts"><h2>Host details</h2>'
        + "".join(details)
        + f"</section><script>{_SCRIPT}</script></body></html>\n"
    )
