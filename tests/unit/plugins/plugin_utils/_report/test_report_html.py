# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import base64
import hashlib
import re
from html.parser import HTMLParser

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import render_html
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import build_report, normalise_host
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import (
    CDATA_END,
    FORMULA,
    HOSTILE_PRINCIPAL,
    LONG_NAME,
    SCRIPT_TAG,
    baseline,
    control,
    fleet,
)

RUN_AT = "2026-11-30T10:00:00.000000Z"


class Page(HTMLParser):
    """What the browser's parser would build, in the parts the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.scripts: list[str] = []
        self.text: list[str] = []
        self._in_script = False
        self.rows: list[dict[str, str | None]] = []
        self._in_tbody = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        self._in_script = tag == "script"
        if tag == "tbody":
            self._in_tbody = True
        if tag == "tr" and self._in_tbody:
            self.rows.append(attributes)

    def handle_endtag(self, tag):
        if tag == "script":
            self._in_script = False
        if tag == "tbody":
            self._in_tbody = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)
        else:
            self.text.append(data)


@pytest.fixture(scope="module")
def page_and_report() -> tuple[Page, dict, str]:
    hosts = [normalise_host(host, record, run_at=RUN_AT, check_mode=True) for host, record in fleet().items()]
    report = build_report(hosts, title=f"Fleet {SCRIPT_TAG}", generated_at=RUN_AT)
    text = render_html(report)
    page = Page()
    page.feed(text)
    page.close()
    return page, report, text


def test_the_only_script_is_ours_and_the_csp_allows_exactly_it(page_and_report):
    page, _report, text = page_and_report
    assert [tag for tag, _attributes in page.tags].count("script") == 1
    digest = base64.b64encode(hashlib.sha256(page.scripts[0].encode()).digest()).decode()
    csp = next(
        a["content"] for tag, a in page.tags if tag == "meta" and a.get("http-equiv") == "Content-Security-Policy"
    )
    assert f"script-src 'sha256-{digest}'" in csp
    assert "default-src 'none'" in csp
    # Neither falls back to default-src: an injected form could post the page, an injected base redirect links.
    assert "form-action 'none'" in csp and "base-uri 'none'" in csp
    assert SCRIPT_TAG not in text


def test_nothing_is_loaded_from_anywhere(page_and_report):
    page, _report, _text = page_and_report
    for tag, attributes in page.tags:
        assert "src" not in attributes, tag
        assert not (tag == "link" and attributes.get("rel") == "stylesheet"), attributes
        if attributes.get("href"):
            # Links are navigation only: in-page anchors and the controls' https references.
            assert attributes["href"].startswith(("#", "https://learn.microsoft.com/")), attributes["href"]
    assert "@import" not in "".join(page.text)
    assert "url(" not in _text


def test_hostile_strings_reach_the_reader_as_text(page_and_report):
    page, _report, _text = page_and_report
    text = "".join(page.text)
    for hostile in (SCRIPT_TAG, CDATA_END, FORMULA, HOSTILE_PRINCIPAL, LONG_NAME):
        assert hostile in text
    # A javascript: reference from a host stays text.
    assert not any((a.get("href") or "").lower().startswith("javascript") for _tag, a in page.tags)
    assert "javascript:alert(1)" in text


def matrix_rows(page: Page) -> list[dict[str, str | None]]:
    return [row for row in page.rows if "data-statuses" in row]


def test_the_matrix_has_one_row_per_host_worst_first_and_a_coloured_cell_per_control(page_and_report):
    page, report, text = page_and_report
    rows = matrix_rows(page)
    assert len(rows) == len(report["hosts"])
    rank = ["error", "unreachable", "drift", "excepted", "not_applicable", "remediated", "compliant"]
    host_statuses = [rank.index(min(row["data-statuses"].split(), key=rank.index)) for row in rows]
    assert host_statuses == sorted(host_statuses)
    # Every control result is one cell with its status as a class (coloured by the style sheet) and a link to its
    # block in the host's details.
    cells = re.findall(
        r'<td class="cell s-([a-z_]+)" data-rank="[0-9]" title="[^"]*"><a href="#(c-[0-9]+-[0-9]+)"', text
    )
    assert len(cells) == sum(len(host["controls"]) for host in report["hosts"])
    for status, anchor in cells:
        assert f'<div class="control b-{status}" id="{anchor}">' in text
    assert ".s-drift{background:#e65100" in text


def test_chart_has_a_bar_per_status_and_control_with_counts(page_and_report):
    page, report, _text = page_and_report
    bars = [(a["data-status"], int(a["data-count"])) for tag, a in page.tags if tag == "rect"]
    host_bars = bars[: sum(1 for n in report["summary"]["host_status_counts"].values() if n)]
    assert dict(host_bars) == {s: n for s, n in report["summary"]["host_status_counts"].items() if n}
    assert sum(n for _s, n in bars[len(host_bars) :]) == sum(
        sum(c["counts"].values()) for c in report["summary"]["controls"]
    )


def test_every_host_has_details_with_remediation_and_evidence(page_and_report):
    page, report, text = page_and_report
    details = [a["id"] for tag, a in page.tags if tag == "details" and "host" in (a.get("class") or "")]
    assert details == [f"host-{index}" for index in range(len(report["hosts"]))]
    assert "Remediation (manual):" in text
    assert "CHECK MODE (audit): nothing was changed on any host" in text
    assert re.search(r"<summary>Evidence</summary><div>Expected</div><pre>\{\n &quot;enabled&quot;: true\n\}", text)
    assert "check mode (audit, nothing changed)" in text


def test_print_css_is_present(page_and_report):
    _page, _report, text = page_and_report
    assert "@media print" in text
    assert "beforeprint" in text


def test_rows_after_the_first_page_are_hidden_until_the_script_pages_them(page_and_report):
    _page, report, _text = page_and_report
    page = Page()
    page.feed(render_html(report, page_size=4))
    rows = matrix_rows(page)
    assert ["hidden" in row for row in rows] == [False] * 4 + [True] * (len(rows) - 4)
    assert "Without JavaScript the matrix shows its first 4 of 12 hosts" in "".join(page.text)
    assert "Without JavaScript" not in "".join(page_and_report[0].text)


def test_a_failed_task_that_says_compliant_gets_an_error_row_beside_its_controls():
    liar = baseline("compliant", [control("WMI-001", "compliant")], failed=True, msg="boom")
    report = build_report([normalise_host("liar", liar, run_at=RUN_AT)], title="Fleet", generated_at=RUN_AT)
    page = Page()
    text = render_html(report)
    page.feed(text)
    page.close()
    assert [row["data-statuses"] for row in matrix_rows(page)] == ["compliant error"]
    assert '<td class="s-error" data-rank="0" title="the baseline task failed' in text
    assert "boom" in "".join(page.text)
