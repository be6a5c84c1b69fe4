# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The HTML report in a real browser: Debian's headless Chromium driven by Playwright (make browser installs it)."""

from __future__ import annotations

import shutil
import typing as t
from pathlib import Path

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_html import render_html, shown
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_model import build_report, normalise_host
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils.report_fleet import SCRIPT_TAG, fleet

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not Path(CHROMIUM).exists():
    pytest.skip("Chromium is not installed: run `make browser` (Debian package chromium)", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (tests/requirements/test.txt) drives Chromium")

# The flags that keep Chromium quiet on a machine without network (no background connections) and let it run as
# root in a container (no sandbox).
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
RUN_AT = "2026-11-30T10:00:00.000000Z"


@pytest.fixture(scope="module")
def report_file(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    hosts = [normalise_host(host, record, run_at=RUN_AT) for host, record in fleet().items()]
    report = build_report(hosts, title="Browser check", generated_at=RUN_AT)
    path = tmp_path_factory.mktemp("html") / "wmi-compliance.html"
    path.write_text(render_html(report), encoding="utf-8")
    return path, report


@pytest.fixture(scope="module")
def paged_report_file(report_file: tuple[Path, dict]) -> Path:
    path = report_file[0].with_name("paged.html")
    path.write_text(render_html(report_file[1], page_size=5), encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def browser() -> t.Iterator[t.Any]:
    with sync_api.sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture
def page(browser: t.Any, report_file: tuple[Path, dict]) -> t.Iterator[tuple[t.Any, list[str], list[str]]]:
    context = browser.new_context()
    page = context.new_page()
    console: list[str] = []
    requests: list[str] = []
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(report_file[0].as_uri())
    page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=10_000)
    yield page, console, requests
    context.close()


def visible_rows(page: t.Any) -> list[list[str]]:
    return page.eval_on_selector_all(
        "#results tbody tr:not([hidden])", "rows => rows.map(r => Array.from(r.cells, c => c.textContent))"
    )


def test_the_report_renders_without_console_errors_or_requests(page, report_file):
    page, console, requests = page
    assert console == []
    assert requests == [report_file[0].as_uri()]
    assert page.evaluate("document.scripts.length") == 1
    dom = page.content()
    assert SCRIPT_TAG not in dom
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in dom


def test_the_table_has_a_row_per_host_and_control_and_the_chart_its_bars(page, report_file):
    page, console, _requests = page
    report = report_file[1]
    pairs = [(shown(h["host"]), shown(c["id"])) for h in report["hosts"] for c in h["controls"] or [{"id": ""}]]
    rows = visible_rows(page)
    assert [(row[0], row[2]) for row in rows] == pairs
    assert page.text_content("#row-count") == f"Rows 1-{len(pairs)} of {len(pairs)}"
    expected_bars = sum(1 for n in report["summary"]["host_status_counts"].values() if n) + sum(
        1 for c in report["summary"]["controls"] for n in c["counts"].values() if n
    )
    assert page.locator("#status-chart rect.bar").count() == expected_bars
    box = page.locator("#status-chart").bounding_box()
    assert box and box["width"] > 300 and box["height"] > 50
    assert console == []


def test_filtering_by_text_and_status(page):
    page, console, _requests = page
    page.fill("#filter-text", "app02")
    assert {row[0] for row in visible_rows(page)} == {"app02"}
    assert page.text_content("#row-count") == "Rows 1-2 of 2 matching (16 in all)"
    page.fill("#filter-text", "")
    page.select_option("#filter-status", "unreachable")
    assert [row[0] for row in visible_rows(page)] == ["dc01"]
    page.select_option("#filter-status", "drift")
    assert {row[5] for row in visible_rows(page)} == {"drift"}
    page.fill("#filter-text", "WMI-002")
    assert [row[0] for row in visible_rows(page)] == ["app02"]
    assert console == []


def test_sorting_by_a_column_and_back(page):
    page, console, _requests = page
    header = page.locator("#results thead th", has_text="Status").last
    header.click()
    statuses = [row[5] for row in visible_rows(page)]
    collate = "(values) => values.slice().sort(new Intl.Collator(undefined, {numeric: true}).compare)"
    assert statuses == page.evaluate(collate, statuses)
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    assert [row[5] for row in visible_rows(page)] == list(reversed(statuses))
    assert header.get_attribute("aria-sort") == "descending"
    page.locator("#results thead th", has_text="Host").first.click()
    assert visible_rows(page)[0][0].startswith("<script>")
    assert console == []


def test_printing_hides_the_filters_and_opens_the_details(page):
    page, console, _requests = page
    page.emulate_media(media="print")
    assert page.eval_on_selector(".filters", "e => getComputedStyle(e).display") == "none"
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")
    assert page.eval_on_selector_all("details", "ds => ds.every(d => d.open)") is True
    assert console == []


def test_a_large_table_is_shown_a_page_at_a_time(browser, paged_report_file):
    page = browser.new_page()
    console: list[str] = []
    page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
    page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
    page.goto(paged_report_file.as_uri())
    page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=10_000)
    first_page = visible_rows(page)
    assert len(first_page) == 5
    assert page.text_content("#row-count") == "Rows 1-5 of 16"
    assert page.is_disabled("#page-previous")
    page.click("#page-next")
    second_page = visible_rows(page)
    assert len(second_page) == 5 and second_page[0] != first_page[0]
    page.click("#page-next")
    page.click("#page-next")
    assert page.text_content("#row-count") == "Rows 16-16 of 16"
    assert page.is_disabled("#page-next")
    # Filtering and sorting start again at the first page, over every row, not only the displayed ones.
    page.select_option("#filter-status", "compliant")
    assert page.text_content("#row-count") == "Rows 1-5 of 6 matching (16 in all)"
    assert {row[5] for row in visible_rows(page)} == {"compliant"}
    page.locator("#results thead th", has_text="Host").first.click()
    hosts = [row[0] for row in visible_rows(page)]
    assert hosts == sorted(hosts, key=str.casefold)
    assert console == []
    page.close()
