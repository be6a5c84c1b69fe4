# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Any text a host reports reaches every format as text: property-based, over arbitrary Unicode."""

from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from html.parser import HTMLParser

from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import render_html, shown
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import (
    CONTROL_STATUSES,
    build_report,
    hosts_of_existing_report,
    normalise_host,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import (
    CSV_COLUMNS,
    csv_cell,
    render_csv,
    render_json,
    render_junit,
    render_markdown,
    xml_text,
)
from hypothesis import given, settings
from hypothesis import strategies as st

RUN_AT = "2026-11-30T10:00:00.000000Z"
hostile_text = st.text(min_size=1, max_size=60)


def report_for(host: str, principal: str, message: str) -> dict:
    record = {
        "status": "drift",
        "controls": [
            {
                "id": "WMI-004",
                "title": principal,
                "severity": "high",
                "status": "drift",
                "findings": [{"id": "broad_write", "severity": "high", "message": message, "principal": principal}],
                "remediation": {"automatic": False, "text": message},
            }
        ],
    }
    return build_report([normalise_host(host, record, run_at=RUN_AT)], title=host, generated_at=RUN_AT)


class TextCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.cells: list[str] = []  # of the host x control table
        self._cell: list[str] | None = None
        self._in_results = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self._in_results = self._in_results or tag == "tbody"
        if tag == "td" and self._in_results:
            self._cell = []

    def handle_endtag(self, tag):
        if tag == "tbody":
            self._in_results = False
        if tag == "td" and self._cell is not None:
            self.cells.append("".join(self._cell))
            self._cell = None

    def handle_data(self, data):
        if self._cell is not None:
            self._cell.append(data)


@settings(max_examples=150, deadline=None)
@given(host=hostile_text, principal=hostile_text, message=hostile_text)
def test_every_format_keeps_host_text_as_text(host, principal, message):
    report = report_for(host, principal, message)

    assert json.loads(render_json(report))["hosts"][0]["host"] == host

    root = ET.fromstring(render_junit(report).encode())
    assert root.find("testsuite").get("name") == xml_text(host)
    assert root.find("testsuite/testcase").get("name") == xml_text(f"WMI-004 {principal}".strip())

    (row,) = list(csv.reader(io.StringIO(render_csv(report), newline="")))[1:]
    cells = dict(zip(CSV_COLUMNS, row, strict=True))
    assert cells["host"] == csv_cell(host)
    assert cells["host"] in (host, "'" + host)
    assert not cells["host"].startswith(("=", "+", "-", "@", "\t", "\r"))

    markdown = render_markdown(report)
    table_rows = [line for line in markdown.splitlines() if line.startswith("| ")]
    for line in table_rows:
        # Every table of the Markdown report: 2 to 9 columns, each row as many cells as its header.
        assert len(re.findall(r"(?<!\\)\|", line)) in (3, 5, 6, 7, 8, 10), line
    assert "<" not in markdown.replace("&lt;", "")

    page = TextCollector()
    page.feed(render_html(report))
    page.close()
    assert page.tags.count("script") == 1
    # The host cell of the table holds exactly the host's name (control characters as visible escapes).
    assert page.cells[0] == shown(host)


any_status = st.sampled_from([*CONTROL_STATUSES, "unreachable", "green", ""])
any_record = st.fixed_dictionaries(
    {
        "status": any_status,
        "controls": st.lists(
            st.fixed_dictionaries({"id": st.sampled_from(["WMI-001", "WMI-002"]), "status": any_status}), max_size=4
        ),
    },
    optional={
        "failed": st.booleans(),
        "msg": st.one_of(st.none(), hostile_text),
        "skipped": st.booleans(),
        "unreachable": st.booleans(),
        "reason": st.one_of(st.none(), hostile_text),
    },
)


@settings(max_examples=300, deadline=None)
@given(record=any_record)
def test_a_failed_task_is_never_good_and_every_written_entry_merges_back(record):
    entry = normalise_host("h", record, run_at=RUN_AT)
    if record.get("failed") or record.get("unreachable"):
        assert entry["status"] in ("error", "drift", "unreachable"), (record, entry)
    report = build_report([entry], title="W", generated_at=RUN_AT)
    # What this version writes, a later merge accepts: the validator and the writer share one idea of the report.
    (read_back,) = hosts_of_existing_report(json.loads(render_json(report)))
    assert read_back["status"] == entry["status"]
    if entry["status"] in ("error", "drift", "unreachable"):
        # Some row of the JUnit report says so: a failure or an error, never only passes.
        junit = ET.fromstring(render_junit(report).encode())
        assert junit.findall("testsuite/testcase/failure") or junit.findall("testsuite/testcase/error")
