# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The fleet compliance report as one self-contained HTML file that opens on a host x control matrix.

What an auditor asks first comes first: the verdict counts, whether this was a check-mode run, what changed since
the last report; then the matrix (hosts as rows, worst first; controls as columns; one coloured cell per result,
each opening its findings, evidence and remediation); then exceptions, not-applicable hosts, the changes made or
predicted, and every host's details. OpenSCAP's report gave the idea of a score line and per-rule expandable
details; InSpec's waivers that an accepted finding shows its justification and expiry.

No network: styles, the chart (inline SVG) and the script are in the file. A Content Security Policy allows only that
one script (by its SHA-256), no form submission and no base URL, so even text that escaped our escaping could not run
or send anything. Every host-derived value goes through html.escape. Without JavaScript the whole content is still
there: each host's <details> holds every result, and a cell's link jumps to it (browsers open a closed <details>
on fragment navigation).
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

from ._report_model import (
    CONTROL_STATUSES,
    HOST_STATUSES,
    change_index,
    change_rows,
    exception_rows,
    mode_sentence,
    not_applicable_rows,
    run_mode,
)
from ._report_render import os_text

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
body{font:14px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:1em 1.5em;color:#1a1a1a}
h1{font-size:1.5em;margin:0 0 .2em}
h2{border-bottom:1px solid #ccc;padding-bottom:.2em;margin:1.2em 0 .4em;font-size:1.2em}
table{border-collapse:collapse}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}.muted{color:#555}
.mode{padding:4px 10px;border-radius:4px;font-weight:600;display:inline-block;margin:.2em 0}
.mode-check{background:#fff3cd;border:1px solid #e0a800}.mode-run{background:#e3f2fd;border:1px solid #1565c0}
.mode-mixed{background:#fde2e1;border:1px solid #c62828}
.glance{display:flex;gap:1.5em;flex-wrap:wrap;align-items:flex-start}
.tiles{display:flex;gap:5px;flex-wrap:wrap;max-width:680px}
.tile{min-width:64px;padding:3px 6px;border-radius:4px;text-align:center;font-size:12px}
.tile b{display:block;font-size:1.5em}
.badge{display:inline-block;padding:0 6px;border-radius:3px;font-size:.85em;white-space:nowrap}
.s-compliant{background:#2e7d32;color:#fff}.s-remediated{background:#1565c0;color:#fff}
.s-drift{background:#e65100;color:#fff}.s-error{background:#b71c1c;color:#fff}
.s-unreachable{background:#37474f;color:#fff}.s-not_applicable{background:#9e9e9e;color:#000}
.s-excepted{background:#6a1b9a;color:#fff}.s-none{background:#fff;color:#777}
.filters{margin:.4em 0;display:flex;gap:1em;flex-wrap:wrap;align-items:center}
#matrix{font-size:12px;line-height:1.25}#matrix td,#matrix th{padding:1px 4px;white-space:nowrap}
#matrix th.control{cursor:pointer;text-align:center}#matrix th.sortable{cursor:pointer}
#matrix td.cell{text-align:center;min-width:3.2em;padding:0}#matrix td.cell a{display:block;color:inherit;
text-decoration:none;padding:1px 4px}#matrix td.cell a:focus,#matrix td.cell a:hover{outline:2px solid #000}
#matrix td.host{max-width:22em;overflow:hidden;text-overflow:ellipsis}
.delta-new::after{content:" \\25B2"}.delta-fixed::after{content:" \\2713"}.delta-changed::after{content:" \\2022"}
pre{white-space:pre-wrap;word-break:break-all;background:#f7f7f7;padding:4px;margin:2px 0;max-height:20em;overflow:auto}
code{word-break:break-all}
details.host{border:1px solid #ddd;margin:4px 0;padding:2px 8px}details.host>summary{cursor:pointer;font-weight:600}
.control{border-left:6px solid #ccc;margin:6px 0;padding:2px 8px}
.control.s-compliant,.control.s-remediated,.control.s-drift,.control.s-error,.control.s-excepted,
.control.s-not_applicable{background:none;color:inherit}
.b-compliant{border-left-color:#2e7d32}.b-remediated{border-left-color:#1565c0}.b-drift{border-left-color:#e65100}
.b-error{border-left-color:#b71c1c}.b-excepted{border-left-color:#6a1b9a}.b-not_applicable{border-left-color:#9e9e9e}
.expired{color:#b71c1c;font-weight:600}
dialog{max-width:min(60em,90vw);max-height:85vh;overflow:auto}dialog::backdrop{background:rgba(0,0,0,.3)}
.legend span{margin-right:.6em;white-space:nowrap}
.legend i{display:inline-block;width:10px;height:10px;margin-right:3px}
@media print{.filters,noscript,dialog{display:none}body{margin:0;font-size:10pt}
thead{display:table-header-group}tr,.control{break-inside:avoid}a{color:inherit;text-decoration:none}
*{-webkit-print-color-adjust:exact;print-color-adjust:exact}pre{max-height:none;overflow:visible}}
"""

# Worst first: what an auditor acts on before what is fine. error (not judged) before drift (judged bad), then the
# accepted risks, then what is fine.
STATUS_RANK = {
    "error": 0,
    "unreachable": 1,
    "drift": 2,
    "excepted": 3,
    "not_applicable": 4,
    "remediated": 5,
    "compliant": 6,
}
# What a matrix cell says (colour alone is not enough: colour-blind readers and printouts).
CELL_TEXT = {
    "compliant": "OK",
    "remediated": "fixed",
    "drift": "DRIFT",
    "error": "ERROR",
    "unreachable": "unreach.",
    "not_applicable": "n/a",
    "excepted": "exc.",
}
CHANGE_MARK = {"new": "new since the last report", "fixed": "fixed since the last report", "changed": "changed"}

# Matrix rows displayed at once; the rest wait for Next (a browser lays out every displayed row).
PAGE_SIZE = 200

# Filter rows by text and status, page through them, sort by a column (worst first), and open a cell's details in a
# dialog (a copy of the host's control block, made with cloneNode: no markup is parsed). Plain DOM, no library.
_SCRIPT = """
(function () {
  "use strict";
  var table = document.getElementById("matrix");
  var body = table.tBodies[0];
  var rows = Array.prototype.slice.call(body.rows);
  var pageSize = parseInt(table.getAttribute("data-page-size"), 10);
  var text = document.getElementById("filter-text");
  var status = document.getElementById("filter-status");
  var count = document.getElementById("row-count");
  var previous = document.getElementById("page-previous");
  var next = document.getElementById("page-next");
  var dialog = document.getElementById("cell-dialog");
  var dialogBody = document.getElementById("cell-dialog-body");
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
    count.textContent = "Hosts " + first + "-" + (start + wanted.length) + " of " + matching.length +
      (matching.length === rows.length ? "" : " matching (" + rows.length + " in all)");
    previous.disabled = page === 0;
    next.disabled = page >= pages - 1;
  }
  function applyFilter() {
    var query = text.value.trim().toLowerCase();
    var wanted = status.value;
    matching = rows.filter(function (row) {
      return (!wanted || row.getAttribute("data-statuses").split(" ").indexOf(wanted) !== -1) &&
        (!query || row.getAttribute("data-search").indexOf(query) !== -1);
    });
    page = 0;
    render();
  }
  function sortBy(header) {
    var column = header.cellIndex;
    var byName = header.hasAttribute("data-by-name");
    var descending = header.getAttribute("aria-sort") === "ascending";
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) { cell.removeAttribute("aria-sort"); });
    header.setAttribute("aria-sort", descending ? "descending" : "ascending");
    function key(row) {
      if (byName) { return row.getAttribute("data-search"); }
      var cell = row.cells[column];
      return cell ? parseInt(cell.getAttribute("data-rank") || "9", 10) : 9;
    }
    var keys = new Map(rows.map(function (row, index) { return [row, [key(row), index]]; }));
    rows.sort(function (a, b) {
      var x = keys.get(a), y = keys.get(b);
      var order = x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : x[1] - y[1];
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
    if (header.classList.contains("control") || header.classList.contains("sortable")) {
      header.addEventListener("click", function () { sortBy(header); });
    }
  });
  body.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link || typeof dialog.showModal !== "function") { return; }
    var block = document.getElementById(link.getAttribute("href").slice(1));
    if (!block) { return; }
    event.preventDefault();
    while (dialogBody.firstChild) { dialogBody.removeChild(dialogBody.firstChild); }
    var copy = block.cloneNode(true);
    copy.removeAttribute("id");
    var heading = document.createElement("p");
    heading.textContent = link.getAttribute("data-host") || "";
    heading.className = "muted";
    dialogBody.appendChild(heading);
    dialogBody.appendChild(copy);
    dialog.showModal();
  });
  document.getElementById("cell-dialog-close").addEventListener("click", function () { dialog.close(); });
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
# form-action and base-uri do not fall back to default-src (CSP Level 3): without them an injected <form> could
# still post the page's content, an injected <base> redirect every relative link.
_CSP = (
    f"default-src 'none'; style-src 'unsafe-inline'; script-src 'sha256-{_SCRIPT_HASH}'; img-src data:; "
    "form-action 'none'; base-uri 'none'"
)


# Control characters are parse errors in HTML (NUL is dropped, the others shown or not depending on the browser):
# they are shown as \\uXXXX. Tab, line feed, form feed and carriage return are HTML whitespace and stay.
_HTML_CONTROL = re.compile("[\x00-\x08\x0b\x0e-\x1f\x7f-\x9f]")


def shown(value: t.Any) -> str:
    """The text a reader sees for a value: control characters as \\uXXXX escapes."""
    return _HTML_CONTROL.sub(lambda match: f"\\u{ord(match.group()):04x}", "" if value is None else str(value))


def esc(value: t.Any) -> str:
    return html.escape(shown(value), quote=True)


def _badge(status: str) -> str:
    return f'<span class="badge s-{status}">{esc(status)}</span>'


def _pretty(value: t.Any) -> str:
    return esc(json.dumps(value, indent=1, ensure_ascii=False, sort_keys=True))


def _chart(summary: Mapping[str, t.Any]) -> str:
    """A stacked horizontal bar per control (and one for the host verdicts): status shares, counts in tooltips."""
    rows: list[tuple[str, str, Mapping[str, int], tuple[str, ...]]] = [
        ("Hosts", "host verdicts", summary["host_status_counts"], HOST_STATUSES)
    ]
    rows += [(c["id"], c["title"], c["counts"], CONTROL_STATUSES) for c in summary["controls"]]
    # Compact, so that it stands beside the host counts and the matrix starts in the first screen.
    label_width, bar_width, row_height = 110, 380, 18
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
            f'<text x="0" y="{y + 12}" font-size="11">{esc(label[:16])}</text>'
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
        parts.append(f'<text x="{label_width + bar_width + 6}" y="{y + 12}" font-size="11">{total}</text></g>')
    parts.append("</svg>")
    legend = "".join(f'<span><i style="background:{STATUS_COLOURS[s]}"></i>{s}</span>' for s in HOST_STATUSES)
    return "".join(parts) + f'<div class="legend">{legend}</div>'


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
        elif "excepted" in finding:
            message += f" [EXPIRED: {finding.get('reason') or 'the exception expired'}]"
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


def _control_block(host: Mapping[str, t.Any], control: Mapping[str, t.Any], anchor: str) -> str:
    head = (
        f'<div class="control b-{control["status"]}" id="{anchor}"><strong>{esc(control["id"])}</strong> '
        f'{esc(control["title"])} {_badge(control["status"])} <span class="muted">{esc(control["severity"])}</span>'
    )
    if control["status"] in ("compliant", "not_applicable") and not control["findings"] and not control.get("evidence"):
        reason = f"<div>{esc(control['reason'])}</div>" if control.get("reason") else ""
        remediation = control["remediation"]["text"] if control["status"] == "not_applicable" else ""
        mitigation = f"<p><strong>Mitigation:</strong> {esc(remediation)}</p>" if remediation else ""
        return head + reason + mitigation + "</div>"
    parts = [head]
    if control.get("reason"):
        parts.append(f"<p>{esc(control['reason'])}</p>")
    parts.append(_finding_rows(control["findings"]))
    parts.append(
        f"<details><summary>Evidence</summary><div>Expected</div><pre>{_pretty(control['expected'])}</pre>"
        f"<div>Actual</div><pre>{_pretty(control['actual'])}</pre>{_evidence(control.get('evidence'))}</details>"
    )
    if control["changes"]:
        predicted = host.get("check_mode") is not False and control["status"] != "remediated"
        parts.append(
            f"<div>{'Would change (check mode)' if predicted else 'Changed'}:</div><ul>"
            + "".join(f"<li>{esc(c)}</li>" for c in control["changes"])
            + "</ul>"
        )
    if control["remediation"]["text"]:
        kind = "automatic" if control["remediation"]["automatic"] else "manual"
        parts.append(f"<p><strong>Remediation ({kind}):</strong> {esc(control['remediation']['text'])}</p>")
    if control["references"]:
        parts.append("<ul>" + "".join(_reference(ref) for ref in control["references"]) + "</ul>")
    parts.append("</div>")
    return "".join(parts)


def _host_rank(host: Mapping[str, t.Any]) -> tuple[int, int, str, str]:
    """Worst first: the host's status, then how many of its controls need action, then the name."""
    problems = sum(1 for control in host["controls"] if control["status"] in ("drift", "error"))
    return (STATUS_RANK[host["status"]], -problems, host["host"].casefold(), host["host"])


def _matrix_row(
    host: Mapping[str, t.Any],
    index: int,
    control_ids: list[str],
    changes: Mapping[tuple[str, str], str],
    *,
    hidden: bool,
) -> str:
    name = host["host"]
    by_id = {control["id"]: (position, control) for position, control in enumerate(host["controls"])}
    label = esc(name)
    cells = [
        f'<td class="host" title="{label}"><a href="#host-{index}">{label}</a></td>',
        f'<td class="s-{host["status"]}" data-rank="{STATUS_RANK[host["status"]]}" '
        f'title="{esc(host.get("reason") or "")}">{esc(host["status"])}</td>',
    ]
    statuses = {host["status"]}
    if not host["controls"]:
        change = changes.get((name, ""))
        mark = f' class="delta-{change}" title="{CHANGE_MARK[change]}"' if change in CHANGE_MARK else ""
        cells.append(
            f'<td class="cell s-{host["status"]}" colspan="{max(1, len(control_ids))}" '
            f'data-rank="{STATUS_RANK[host["status"]]}"><a href="#host-{index}" data-host="{label}"{mark}>'
            f"{esc(host['status'])}: {esc((host.get('reason') or '')[:120])}</a></td>"
        )
    else:
        for control_id in control_ids:
            found = by_id.get(control_id)
            if found is None:
                cells.append('<td class="cell s-none" data-rank="8">&ndash;</td>')
                continue
            position, control = found
            status = control["status"]
            statuses.add(status)
            change = changes.get((name, control_id))
            mark = f' class="delta-{change}"' if change in CHANGE_MARK else ""
            tip = f"{control_id} {status}" + (f", {CHANGE_MARK[change]}" if change in CHANGE_MARK else "")
            cells.append(
                f'<td class="cell s-{status}" data-rank="{STATUS_RANK[status]}" title="{esc(tip)}">'
                f'<a href="#c-{index}-{position}" data-host="{label}"{mark}>{CELL_TEXT[status]}</a></td>'
            )
    search = esc(name.casefold())
    return (
        f'<tr data-statuses="{" ".join(sorted(statuses))}" data-search="{search}"{" hidden" if hidden else ""}>'
        + "".join(cells)
        + "</tr>"
    )


def _tiles(summary: Mapping[str, t.Any]) -> str:
    counts = summary["host_status_counts"]
    tiles = "".join(
        f'<div class="tile s-{status}"><b>{counts[status]}</b>{esc(status)}</div>'
        for status in sorted(HOST_STATUSES, key=STATUS_RANK.__getitem__)
    )
    return f'<div class="tiles" id="host-counts">{tiles}</div>'


def _table(header: list[str], rows: list[list[str]], table_id: str) -> str:
    head = "".join(f"<th>{cell}</th>" for cell in header)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f'<table id="{table_id}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _host_link(name: str, anchors: Mapping[str, str]) -> str:
    return f'<a href="#{anchors[name]}">{esc(name)}</a>' if name in anchors else esc(name)


def _delta_section(report: Mapping[str, t.Any], anchors: Mapping[str, str]) -> str:
    delta = report.get("changes_since")
    if not delta:
        return ""
    counts = delta["counts"]
    rows = [
        [
            _host_link(e["host"], anchors),
            esc(e["control"]),
            f'<span class="delta-{e["change"]}">{esc(e["change"])}</span>',
            esc(e["previous"] or "-"),
            esc(e["status"] or "-"),
        ]
        for e in sorted(
            delta["entries"], key=lambda e: (("new", "changed", "fixed", "gone").index(e["change"]), e["host"])
        )
    ]
    more = "<p>More entries than listed: see the JSON report.</p>" if delta["truncated"] else ""
    table = (
        _table(["Host", "Control", "Change", "Before", "Now"], rows, "changes-since-list")
        if rows
        else "<p>Nothing changed.</p>"
    )
    return (
        f'<section id="changes-since"><h2>Since the report of {esc(delta["previous_generated_at"])}</h2>'
        f"<p><strong>{counts['new']} new</strong> problems, <strong>{counts['fixed']} fixed</strong>, "
        f"{counts['changed']} changed, {counts['unchanged']} unchanged, {counts['gone']} gone "
        "(host &times; control results).</p>"
        f"{table}{more}</section>"
    )


# Rows a list section shows; the host details, the CSV and the JSON have all of them.
SECTION_CAP = 1000


def _section(section_id: str, title: str, header: list[str], cells: list[list[str]], empty: str) -> str:
    if not cells:
        return f'<section id="{section_id}"><h2>{title}</h2><p>{empty}</p></section>' if empty else ""
    more = (
        f"<p>{len(cells) - SECTION_CAP} more: see the host details or the CSV.</p>" if len(cells) > SECTION_CAP else ""
    )
    table = _table(header, cells[:SECTION_CAP], f"{section_id}-list")
    return f'<section id="{section_id}"><h2>{title}</h2>{table}{more}</section>'


def _exceptions_section(report: Mapping[str, t.Any], anchors: Mapping[str, str]) -> str:
    rows = sorted(exception_rows(report), key=lambda row: (not row["expired"], row["host"]))
    cells = [
        [
            _host_link(row["host"], anchors),
            *(esc(row[key]) for key in ("control", "where", "principal", "reason")),
            f'<span class="expired">EXPIRED {esc(row["expires"] or "")}: still drift</span>'
            if row["expired"]
            else f"active, expires {esc(row['expires'])}"
            if row["expires"]
            else "active",
        ]
        for row in rows
    ]
    expired = sum(1 for row in rows if row["expired"])
    title = f"Exceptions ({len(rows)} findings, {expired} expired)" if rows else "Exceptions"
    header = ["Host", "Control", "Where", "Principal", "Reason", "Expires"]
    listed = _section("exceptions", title, header, cells, "No finding is covered by an exception.")
    configured = [
        [
            *(esc(item[key] or "") for key in ("control", "namespace", "principal", "reason")),
            f'<span class="expired">EXPIRED {esc(item["expires"])}</span>'
            if item["expired"]
            else esc(item["expires"] or "never"),
        ]
        for item in report.get("exceptions", [])
    ]
    header = ["Control", "Namespace", "Principal", "Reason", "Expires"]
    return listed + _section("exceptions-configured", "Exceptions the baseline ran with", header, configured, "")


def _not_applicable_section(report: Mapping[str, t.Any], anchors: Mapping[str, str]) -> str:
    rows = not_applicable_rows(report)
    cells = [
        [_host_link(row["host"], anchors), esc(os_text(row)), esc(row["reason"]), esc(row["mitigation"])]
        for row in rows
    ]
    title = f"Not applicable ({len(rows)} hosts): mitigate otherwise"
    return _section("not-applicable", title, ["Host", "OS", "Why", "Mitigation"], cells, "")


def _changes_section(report: Mapping[str, t.Any], anchors: Mapping[str, str]) -> str:
    rows = change_rows(report)
    cells = [
        [
            _host_link(row["host"], anchors),
            esc(row["control"]),
            "predicted" if row["predicted"] else "made",
            esc(row["change"]),
        ]
        for row in rows
    ]
    title = f"Changes ({len(rows)})" if rows else "Changes"
    header = ["Host", "Control", "Made or predicted", "Change"]
    return _section("changes", title, header, cells, "No change was made or predicted.")


def render_html(report: Mapping[str, t.Any], page_size: int = PAGE_SIZE) -> str:
    summary = report["summary"]
    hosts = sorted(report["hosts"], key=_host_rank)
    anchors = {host["host"]: f"host-{index}" for index, host in enumerate(hosts)}
    control_ids = [control["id"] for control in summary["controls"]]
    titles = {control["id"]: control["title"] for control in summary["controls"]}
    changes = change_index(report)
    matrix_rows = [
        _matrix_row(host, index, control_ids, changes, hidden=index >= page_size) for index, host in enumerate(hosts)
    ]
    details = []
    for index, host in enumerate(hosts):
        reason = f"<p>{esc(host['reason'])}</p>" if host.get("reason") else ""
        mode = {True: "check mode (audit, nothing changed)", False: "run mode"}.get(host.get("check_mode"), "")
        details.append(
            f'<details class="host" id="host-{index}"><summary>{esc(host["host"])} {_badge(host["status"])} '
            f'<span class="muted">{esc(os_text(host))}</span></summary>{reason}'
            f'<p class="muted">Evaluated {esc(host["run_at"])} {esc(mode)}; changed: {str(host["changed"]).lower()}</p>'
            + "".join(
                _control_block(host, control, f"c-{index}-{position}")
                for position, control in enumerate(host["controls"])
            )
            + "</details>"
        )
    mode = run_mode(report)
    carried = report.get("carried_over")
    carried_text = (
        f"<p>{summary['hosts'] - carried['hosts']} hosts from this run, "
        f"<strong>{carried['hosts']} carried over</strong> "
        f"from earlier runs (oldest {esc(carried['oldest_run_at'] or '-')}; entries older than "
        f"{carried['max_age_days'] or 'no limit of'} days are dropped, {carried['dropped']} this time).</p>"
        if carried
        else ""
    )
    delta = report.get("changes_since")
    delta_line = (
        f"<p>Since {esc(delta['previous_generated_at'])}: <strong>{delta['counts']['new']} new</strong>, "
        f'<strong>{delta["counts"]["fixed"]} fixed</strong> (<a href="#changes-since">list</a>).</p>'
        if delta
        else ""
    )
    headers = "".join(
        f'<th class="control" title="{esc(control_id)} {esc(titles[control_id])} (click: sort worst first)">'
        f"{esc(control_id[:16])}</th>"
        for control_id in control_ids
    )
    status_options = "".join(
        f'<option value="{s}">{s}</option>' for s in sorted(HOST_STATUSES, key=STATUS_RANK.__getitem__)
    )
    legend = "".join(
        f'<span class="badge s-{s}">{CELL_TEXT[s]} = {s}</span>'
        for s in sorted(CONTROL_STATUSES, key=STATUS_RANK.__getitem__)
    )
    noscript = (
        f"<noscript><p>Without JavaScript the matrix shows its first {page_size} of {len(hosts)} hosts; every host "
        "is in the host details below.</p></noscript>"
        if len(hosts) > page_size
        else ""
    )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{_CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{esc(report['title'])}</title><style>{_STYLE}</style></head><body>"
        f"<header><h1>{esc(report['title'])}</h1>"
        f'<div class="mode mode-{mode}" id="run-mode">{esc(mode_sentence(report))}</div>'
        f'<p class="muted">Generated {esc(report["generated_at"])} by {esc(report["generator"])}, report schema '
        f"{esc(report['schema_version'])}; {summary['hosts']} hosts, {len(control_ids)} controls.</p>"
        f"{carried_text}{delta_line}</header>"
        f'<section id="summary"><div class="glance">{_tiles(summary)}<div>{_chart(summary)}</div></div></section>'
        '<section id="matrix-section"><h2>Hosts &times; controls (worst first)</h2><div class="filters">'
        '<label>Host <input id="filter-text" type="search" placeholder="name"></label>'
        f'<label>Status <select id="filter-status"><option value="">any</option>{status_options}</select></label>'
        '<button type="button" id="page-previous">Previous</button><button type="button" id="page-next">Next</button>'
        f'<span id="row-count"></span><span class="legend">{legend}</span></div>{noscript}'
        f'<table id="matrix" data-page-size="{page_size}"><thead><tr><th class="sortable" data-by-name>Host</th>'
        f'<th class="sortable">Status</th>{headers}</tr></thead><tbody>'
        + "".join(matrix_rows)
        + "</tbody></table></section>"
        + _delta_section(report, anchors)
        + _exceptions_section(report, anchors)
        + _not_applicable_section(report, anchors)
        + _changes_section(report, anchors)
        + '<section id="hosts"><h2>Host details</h2>'
        + "".join(details)
        + '</section><dialog id="cell-dialog"><button type="button" id="cell-dialog-close">Close</button>'
        f'<div id="cell-dialog-body"></div></dialog><script>{_SCRIPT}</script></body></html>\n'
    )
