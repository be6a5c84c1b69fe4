# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import csv
import io
import json
import re
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import build_report, normalise_host
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import (
    CSV_COLUMNS,
    console_summary,
    csv_cell,
    findings_text,
    md_cell,
    render_csv,
    render_json,
    render_junit,
    render_markdown,
    xml_text,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import (
    CDATA_END,
    FORMULA,
    HOSTILE_NAMESPACE,
    HOSTILE_PRINCIPAL,
    LONG_NAME,
    NON_ASCII,
    SCRIPT_TAG,
    baseline,
    control,
    fleet,
)

xmlschema = pytest.importorskip("xmlschema", reason="xmlschema (tests/requirements/test.txt) validates the JUnit XML")
JUNIT_XSD = Path(__file__).parent / "data" / "junit-report.xsd"
RUN_AT = "2026-11-30T10:00:00.000000Z"
HOSTILE_HOST = next(name for name in fleet() if name.startswith(SCRIPT_TAG))


@pytest.fixture(scope="module")
def report() -> dict:
    hosts = [normalise_host(host, record, run_at=RUN_AT) for host, record in fleet().items()]
    return build_report(hosts, title=f"Fleet {SCRIPT_TAG}", generated_at=RUN_AT)


def host_control_pairs(report: dict) -> list[tuple[str, str]]:
    """(host, control id) per host x control; a host without controls counts once with ''."""
    return [(h["host"], c["id"]) for h in report["hosts"] for c in h["controls"] or [{"id": ""}]]


# --- JSON -------------------------------------------------------------------------------------------------------------


def test_json_round_trips_every_host_derived_string(report):
    text = render_json(report)
    assert text.isascii()
    assert json.loads(text) == report
    assert HOSTILE_HOST in {host["host"] for host in json.loads(text)["hosts"]}


# --- JUnit ------------------------------------------------------------------------------------------------------------


def test_junit_validates_and_has_one_testcase_per_host_and_control(report):
    text = render_junit(report)
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    root = ET.fromstring(text.encode())
    suites = root.findall("testsuite")
    assert [suite.get("name") for suite in suites][:2] == [xml_text(HOSTILE_HOST), "app02"]
    cases = [(suite.get("name"), case) for suite in suites for case in suite.findall("testcase")]
    assert len(cases) == len(host_control_pairs(report)) == int(root.get("tests"))
    for suite in suites:
        for outcome, attribute in (("failure", "failures"), ("error", "errors"), ("skipped", "skipped")):
            assert len(suite.findall(f"testcase/{outcome}")) == int(suite.get(attribute)), suite.get("name")
    assert int(root.get("failures")) == len(root.findall("testsuite/testcase/failure"))
    assert int(root.get("errors")) == len(root.findall("testsuite/testcase/error"))


def outcomes_of(text: str, host: str) -> dict[str, tuple[str, ET.Element | None]]:
    suite = next(s for s in ET.fromstring(text.encode()).findall("testsuite") if s.get("name") == host)
    result = {}
    for case in suite.findall("testcase"):
        outcome = next((child for child in case if child.tag in ("failure", "error", "skipped")), None)
        result[case.get("name", "").split(" ")[0]] = (outcome.tag if outcome is not None else "passed", outcome)
    return result


def test_junit_maps_statuses_to_outcomes_with_reasons(report):
    text = render_junit(report)
    assert outcomes_of(text, "web01")["WMI-001"][0] == "passed"
    tag, failure = outcomes_of(text, "app02")["WMI-002"]
    assert tag == "failure"
    assert failure.get("type") == "drift"
    assert HOSTILE_PRINCIPAL in failure.text
    assert "Remediation: Remove" in failure.text
    tag, skipped = outcomes_of(text, "backup01")["WMI-002"]
    assert tag == "skipped"
    assert skipped.get("message") == f"excepted: backup product account {NON_ASCII}: change CHG-42"
    tag, skipped = outcomes_of(text, "nt4-legacy")["WMI-001"]
    assert (tag, skipped.get("message").startswith("not_applicable: Windows NT 4.0")) == ("skipped", True)
    assert outcomes_of(text, "sqlerr")["WMI-002"][0] == "error"
    assert outcomes_of(text, "fixed01")["WMI-001"][0] == "passed"
    tag, error = outcomes_of(text, "dc01")["baseline"]
    assert (tag, error.get("type")) == ("error", "unreachable")
    assert "Connection refused" in error.get("message")
    for host in ("fs01", "never01", "skipped01"):
        assert outcomes_of(text, host)["baseline"][0] == "error"


def test_junit_keeps_hostile_text_as_text():
    assert xml_text("a\x00b\x1bc\ud800d\ufffe") == "a\\u0000b\\u001bc\\ud800d\\ufffe"
    hosts = [normalise_host(HOSTILE_HOST, fleet()[HOSTILE_HOST], run_at=RUN_AT)]
    text = render_junit(build_report(hosts, title=CDATA_END, generated_at=RUN_AT))
    assert SCRIPT_TAG not in text
    assert "]]>" not in text
    root = ET.fromstring(text.encode())
    assert root.get("name") == CDATA_END
    assert root.find("testsuite").get("name") == xml_text(HOSTILE_HOST)
    assert HOSTILE_NAMESPACE.replace("\r\n", "\n") in root.find("testsuite/testcase/failure").text


# --- CSV --------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("start", ["=", "+", "-", "@", "\t", "\r"])
def test_csv_cells_that_a_spreadsheet_would_evaluate_are_prefixed(start):
    assert csv_cell(f"{start}1+1") == f"'{start}1+1"
    assert csv_cell(f"a{start}") == f"a{start}"


def test_csv_has_one_row_per_host_and_control_and_no_formula_cell(report):
    text = render_csv(report)
    # The byte order mark makes Excel read UTF-8; it is the first character, before the header row.
    assert text.startswith("\ufeffhost,host_status,")
    rows = list(csv.reader(io.StringIO(text.removeprefix("\ufeff"), newline="")))
    assert tuple(rows[0]) == CSV_COLUMNS
    records = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in rows[1:]]
    assert [(r["host"], r["control_id"]) for r in records] == [
        (csv_cell(host), csv_cell(control)) for host, control in host_control_pairs(report)
    ]
    for record in records:
        for value in record.values():
            assert not value.startswith(("=", "+", "-", "@", "\t", "\r")), value
    hostile = next(r for r in records if r["host"].startswith("<script>"))
    assert hostile["control_id"] == "'" + FORMULA + SCRIPT_TAG
    app02 = next(r for r in records if r["host"] == "app02" and r["control_id"] == "WMI-002")
    assert app02["status"] == "drift"
    assert app02["remediation_automatic"] == "no"
    assert HOSTILE_NAMESPACE in app02["findings"]
    assert json.loads(app02["actual"]) == {"enabled": False}
    dc01 = next(r for r in records if r["host"] == "dc01")
    assert (dc01["host_status"], dc01["status"], dc01["control_id"]) == ("unreachable", "unreachable", "")
    assert any(r["host"] == LONG_NAME for r in records)


# --- Markdown ---------------------------------------------------------------------------------------------------------

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def test_markdown_cell_escapes_table_and_html_specials():
    assert md_cell("a|b") == "a\\|b"
    assert md_cell("<b>&amp;</b>") == "&lt;b&gt;&amp;amp;&lt;/b&gt;"
    assert md_cell("one\ntwo\r\nthree\u2028four") == "one / two / three / four"
    assert (
        md_cell("*x* _y_ `z` [l](u) # ~s~ $m$ \\")
        == "\\*x\\* \\_y\\_ \\`z\\` \\[l\\](u) \\#\u2060 \\~s\\~ \\$m\\$ \\\\"
    )
    assert md_cell("nul\x00") == "nul\\\\u0000"


def test_markdown_tables_keep_their_shape_with_hostile_text(report):
    text = render_markdown(report)
    assert SCRIPT_TAG not in text
    assert "<" not in text.replace("&lt;", "")
    tables: list[list[str]] = []
    previous = ""
    for line in text.splitlines():
        if line.startswith("|"):
            if not previous.startswith("|"):
                tables.append([])
            tables[-1].append(line)
        previous = line
    # Hosts by status, controls, drift and errors, exceptions, not applicable, changes.
    assert len(tables) == 6
    for table in tables:
        columns = len(UNESCAPED_PIPE.findall(table[0]))
        assert all(len(UNESCAPED_PIPE.findall(row)) == columns for row in table), table
    drift_rows = tables[2][2:]
    assert [row.split(" | ")[3] for row in drift_rows] == [
        "drift", "drift", "unreachable", "error", "error", "error", "error"
    ]  # fmt: skip
    assert any(row.startswith("| app02 | Microsoft Windows Server 2022 Datacenter (10.0.20348) | WMI-002 | drift |")
               for row in drift_rows)  # fmt: skip
    assert f"# Fleet {md_cell(SCRIPT_TAG)}" in text


def test_markdown_says_so_when_nothing_needs_action():
    hosts = [normalise_host("a", {"status": "compliant", "controls": []}, run_at=RUN_AT)]
    assert "None: every host reported a verdict" in render_markdown(build_report(hosts, title="t", generated_at=RUN_AT))


def test_markdown_caps_the_drift_table():
    records = {f"h{i}": {"status": "drift", "controls": [{"id": "WMI-001", "status": "drift"}]} for i in range(5)}
    hosts = [normalise_host(h, r, run_at=RUN_AT) for h, r in records.items()]
    text = render_markdown(build_report(hosts, title="t", generated_at=RUN_AT), max_rows=2)
    assert "3 more rows" in text


def test_findings_text_adds_only_the_evidence_the_message_does_not_name():
    finding = {
        "id": "broad_write",
        "severity": "high",
        "message": "Everyone has RemoteAccess",
        "namespace": "root\\cimv2",
        "principal": "Everyone",
        "sid": "S-1-1-0",
        "rights": ["RemoteAccess"],
        "excepted": True,
        "reason": "CHG-1",
    }
    assert findings_text({"findings": [finding]}) == (
        "[high] Everyone has RemoteAccess (root\\cimv2, S-1-1-0, RemoteAccess, excepted: CHG-1)"
    )


# --- A failed task that still says compliant (every format) -----------------------------------------------------------


@pytest.fixture(scope="module")
def failed_report() -> dict:
    """'liar' failed (failed_when) but its result still says compliant; 'ok' really is compliant."""
    ok = baseline("compliant", [control("WMI-001", "compliant")])
    liar = baseline("compliant", [control("WMI-001", "compliant")], failed=True, msg="boom")
    hosts = [normalise_host("liar", liar, run_at=RUN_AT), normalise_host("ok", ok, run_at=RUN_AT)]
    return build_report(hosts, title="Fleet", generated_at=RUN_AT)


def test_junit_fails_a_failed_task_and_keeps_its_controls(failed_report):
    text = render_junit(failed_report)
    xmlschema.XMLSchema(JUNIT_XSD).validate(text)
    tag, error = outcomes_of(text, "liar")["baseline"]
    assert (tag, error.get("type")) == ("error", "error")
    assert "boom" in error.get("message")
    assert outcomes_of(text, "liar")["WMI-001"][0] == "passed"  # the evidence: what the task said
    assert "baseline" not in outcomes_of(text, "ok")
    root = ET.fromstring(text.encode())
    assert (root.get("tests"), root.get("errors")) == ("3", "1")


def test_csv_and_markdown_show_the_failed_task(failed_report):
    rows = [dict(zip(CSV_COLUMNS, row, strict=True)) for row in csv.reader(io.StringIO(render_csv(failed_report)))]
    liar = [(r["control_id"], r["host_status"], r["status"]) for r in rows[1:] if r["host"] == "liar"]
    assert liar == [("", "error", "error"), ("WMI-001", "error", "compliant")]
    assert "boom" in next(r["reason"] for r in rows[1:] if r["host"] == "liar" and not r["control_id"])
    assert [r["control_id"] for r in rows[1:] if r["host"] == "ok"] == ["WMI-001"]
    markdown = render_markdown(failed_report)
    assert "None: every host reported a verdict" not in markdown
    assert any(line.startswith("| liar |") and "| error |" in line and "boom" in line for line in markdown.splitlines())


def test_console_summary_lists_hosts_not_compliant_worst_first_with_their_controls() -> None:
    hosts = [
        {"host": "ok1", "status": "compliant", "controls": [{"id": "WMI-001", "status": "compliant"}]},
        {"host": "web\x1b[2J01", "status": "drift", "controls": [{"id": "WMI-004", "status": "drift"}]},
        {"host": "dc01", "status": "error", "controls": [{"id": "WMI-003", "status": "error"}]},
        {"host": "branch", "status": "unreachable", "controls": [], "reason": "connection reset\nsecond line"},
    ]
    report = {"summary": {"host_status_counts": {"compliant": 1, "drift": 1, "error": 1, "unreachable": 1}}}
    lines = console_summary({**report, "hosts": hosts}, max_hosts=2)
    assert lines[0] == "WMI compliance (run): 1 error, 1 unreachable, 1 drift, 1 compliant"
    assert lines[1:] == [
        "  dc01: error: WMI-003 error",
        "  branch: unreachable: connection reset",
        "  ... and 1 more host(s) not compliant: see the report",
    ]
    # Host text never reaches the console raw (an escape sequence in a name is shown escaped).
    assert console_summary({**report, "hosts": hosts})[3] == "  web\\x1b[2J01: drift: WMI-004 drift"
