# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright (make browser installs it).

With WINSEC_WMI_SCREENSHOTS=<directory> the demo fleet's report is also saved as report-matrix.png and
report-cell.png at 1400x900 there (docs/docsite/images holds the ones the report guide shows).
"""

from __future__ import annotations

import os
import shutil
import typing as t
from pathlib import Path

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import STATUS_RANK, render_html
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import (
    build_report,
    changes_since,
    normalise_host,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.action.report_demo import demo_report
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import SCRIPT_TAG, fleet

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed: run `make browser` (Debian package chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (tests/requirements/test.txt) drives Chromium")

# The flags that keep Chromium quiet on a machine without network (no background connections) and let it run as
# root in a container (no sandbox).
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_AT = "2026-11-30T10:00:00.000000Z"
VIEWPORT = {"width": 1400, "height": 900}
# The computed background of each status's cell (the style sheet's .s-<status>).
CELL_COLOURS = {
    "compliant": "rgb(46, 125, 50)",
    "drift": "rgb(230, 81, 0)",
    "error": "rgb(183, 28, 28)",
    "excepted": "rgb(106, 27, 154)",
    "not_applicable": "rgb(158, 158, 158)",
    "unreachable": "rgb(55, 71, 79)",
}


def _write(directory: Path, name: str, report: dict, **kwargs: t.Any) -> Path:
    path = directory / name
    path.write_text(render_html(report, **kwargs), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Path, dict]]:
    directory = tmp_path_factory.mktemp("html")
    hostile = build_report(
        [normalise_host(host, record, run_at=RUN_AT) for host, record in fleet().items()],
        title="Browser check",
        generated_at=RUN_AT,
    )
    demo = demo_report()
    demo["changes_since"] = changes_since(demo_report(previous=True), demo["hosts"])
    return {
        "hostile": (_write(directory, "hostile.html", hostile), hostile),
        "demo": (_write(directory, "demo.html", demo), demo),
        "paged": (_write(directory, "paged.html", demo, page_size=5), demo),
    }


@pytest.fixture(scope="module")
def browser() -> t.Iterator[t.Any]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


class Opened(t.NamedTuple):
    page: t.Any
    console: list[str]
    requests: list[str]
    report: dict


@pytest.fixture
def open_report(browser: t.Any, files: dict[str, tuple[Path, dict]]) -> t.Iterator[t.Callable[[str], Opened]]:
    contexts = []

    def opener(name: str) -> Opened:
        path, report = files[name]
        context = browser.new_context(viewport=VIEWPORT)
        contexts.append(context)
        page = context.new_page()
        console: list[str] = []
        requests: list[str] = []
        page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
        page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
        page.on("request", lambda request: requests.append(request.url))
        page.goto(path.as_uri())
        page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=10_000)
        return Opened(page, console, requests, report)

    yield opener
    for context in contexts:
        context.close()


def matrix(page: t.Any) -> list[dict[str, t.Any]]:
    """The displayed matrix rows: host name, status cell text, and each cell's text and computed background."""
    return page.eval_on_selector_all(
        "#matrix tbody tr:not([hidden])",
        """rows => rows.map(r => ({
            host: r.cells[0].textContent,
            status: r.cells[1].textContent,
            cells: Array.from(r.cells).slice(2).map(c => [c.textContent, getComputedStyle(c).backgroundColor]),
        }))""",
    )


@pytest.mark.parametrize("name", ["hostile", "demo"])
def test_the_report_renders_with_no_console_message_and_no_request(open_report, name):
    opened = open_report(name)
    assert opened.console == []
    # The file itself and nothing else: no font, style, script or image from anywhere.
    assert opened.requests == [opened.page.url]
    assert opened.page.evaluate("document.scripts.length") == 1
    if name == "hostile":
        dom = opened.page.content()
        assert SCRIPT_TAG not in dom and "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_the_page_opens_on_the_summary_and_the_matrix_worst_first_in_colour(open_report):
    opened = open_report("demo")
    page, report = opened.page, opened.report
    # At a glance, in the first screen: the mode, the counts and the matrix's first rows.
    assert page.locator("#run-mode").text_content().startswith("CHECK MODE (audit)")
    counts = page.locator("#host-counts .tile").all_text_contents()
    assert counts[0].startswith(str(report["summary"]["host_status_counts"]["error"])) and "error" in counts[0]
    assert page.locator("#matrix tbody tr").first.bounding_box()["y"] < VIEWPORT["height"]
    rows = matrix(page)
    assert len(rows) == len(report["hosts"]) == 24
    ranks = [STATUS_RANK[row["status"]] for row in rows]
    assert ranks == sorted(ranks) and rows[0]["status"] == "error" and rows[-1]["status"] == "compliant"
    headers = page.locator("#matrix thead th.control").all_text_contents()
    assert headers == [control["id"] for control in report["summary"]["controls"]]
    labels = {"OK": "compliant", "DRIFT": "drift", "ERROR": "error", "exc.": "excepted", "n/a": "not_applicable"}
    seen = set()
    for row in rows:
        for text, colour in row["cells"]:
            label = text.split(" ")[0]
            if label in labels:
                assert colour == CELL_COLOURS[labels[label]], (row["host"], text, colour)
                seen.add(labels[label])
    assert seen == set(labels.values())
    # 50 hosts fit a screen: each matrix row is at most 18 px high.
    assert page.locator("#matrix tbody tr").nth(5).bounding_box()["height"] <= 18
    assert opened.console == []


def test_a_cell_opens_its_findings_evidence_and_remediation(open_report):
    opened = open_report("demo")
    page = opened.page
    page.locator("#matrix tbody tr", has_text="sql01").locator("td.cell a", has_text="DRIFT").nth(1).click()
    dialog = page.locator("#cell-dialog")
    assert dialog.is_visible()
    text = dialog.text_content()
    assert "WMI-004" in text and "Remediation" in text and "Everyone" in text
    dialog.locator("summary", has_text="Evidence").click()
    # The evidence is the namespace's SDDL as read, not a count.
    assert "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)" in dialog.text_content()
    assert dialog.locator("code").first.is_visible()
    page.click("#cell-dialog-close")
    assert not dialog.is_visible()
    assert opened.console == []


def test_without_a_dialog_the_cell_link_still_reaches_the_result(open_report):
    opened = open_report("demo")
    page = opened.page
    href = (
        page.locator("#matrix tbody tr", has_text="dc02").locator("td.cell a", has_text="ERROR").get_attribute("href")
    )
    page.evaluate("document.getElementById('cell-dialog').showModal = undefined")
    page.locator(f"#matrix a[href='{href}']").click()
    block = page.locator(href)
    assert block.is_visible()  # the browser opened the host's <details> for the fragment
    assert "WBEM_E_ACCESS_DENIED" in block.text_content()


def test_the_change_since_the_last_report_is_marked_in_the_matrix_and_listed(open_report):
    opened = open_report("demo")
    page = opened.page
    app04 = next(row for row in matrix(page) if row["host"] == "app04")
    assert [text for text, _colour in app04["cells"] if "DRIFT" in text]
    assert page.locator("#matrix tbody tr", has_text="app04").locator("a.delta-new").count() == 2
    assert page.locator("#matrix tbody tr", has_text="fs02").locator("a.delta-fixed").count() == 2
    listed = page.locator("#changes-since-list tbody tr").all_text_contents()
    assert any(line.startswith("app04WMI-001newcompliantdrift") for line in listed)
    assert any(line.startswith("fs02WMI-00") and "fixeddriftcompliant" in line for line in listed)
    assert "2 new" in page.locator("header").text_content()


def test_filtering_sorting_and_paging(open_report):
    opened = open_report("paged")
    page = opened.page
    assert len(matrix(page)) == 5 and page.text_content("#row-count") == "Hosts 1-5 of 24"
    page.click("#page-next")
    assert page.text_content("#row-count") == "Hosts 6-10 of 24"
    page.select_option("#filter-status", "drift")
    assert page.text_content("#row-count") == "Hosts 1-5 of 5 matching (24 in all)"
    assert {row["status"] for row in matrix(page)} == {"drift"}
    page.select_option("#filter-status", "")
    page.fill("#filter-text", "web0")
    assert {row["host"] for row in matrix(page)} <= {f"web0{n}" for n in range(1, 9)}
    page.fill("#filter-text", "")
    # A control's header sorts the hosts by that control's result, worst first.
    page.locator("#matrix thead th.control", has_text="WMI-003").click()
    assert matrix(page)[0]["host"] == "dc02"
    assert opened.console == []


def test_printing_hides_the_filters_and_opens_every_host(open_report):
    opened = open_report("demo")
    page = opened.page
    page.emulate_media(media="print")
    assert page.eval_on_selector(".filters", "e => getComputedStyle(e).display") == "none"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details.host", "ds => ds.every(d => d.open)") is True


def test_screenshots_for_the_documentation(open_report):
    directory = os.environ.get("WINSEC_WMI_SCREENSHOTS")
    if not directory:
        pytest.skip("set WINSEC_WMI_SCREENSHOTS=<directory> to save the report's screenshots")
    opened = open_report("demo")
    Path(directory).mkdir(parents=True, exist_ok=True)
    opened.page.screenshot(path=str(Path(directory) / "report-matrix.png"))
    opened.page.locator("#matrix tbody tr", has_text="sql02").locator("td.cell a", has_text="DRIFT").nth(1).click()
    opened.page.locator("#cell-dialog summary", has_text="Evidence").click()
    opened.page.screenshot(path=str(Path(directory) / "report-cell.png"))
