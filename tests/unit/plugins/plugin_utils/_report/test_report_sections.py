# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What every format says beside the verdicts: check mode, exceptions (expired marked), not-applicable hosts with
their mitigation, the changes made or predicted, the change since an earlier report; Markdown that links nothing."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import render_html
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import (
    build_report,
    changes_since,
    configured_exceptions,
    normalise_host,
    retained_hosts,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import (
    md_cell,
    render_csv,
    render_junit,
    render_markdown,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import baseline, control

RUN_AT = "2026-11-30T10:00:00.000000Z"
EARLIER = "2026-11-01T10:00:00.000000Z"
FINDING = {
    "id": "broad_write",
    "severity": "high",
    "message": "Everyone holds WriteSecurity",
    "namespace": "root\\cimv2",
}
EXPIRED = {
    **FINDING,
    "principal": "CORP\\svc_old",
    "excepted": False,
    "reason": "exception expired on 2026-10-31: CHG-7",
}
ACTIVE = {**FINDING, "principal": "CORP\\svc_backup", "excepted": True, "reason": "backup agent, CHG-42"}
MITIGATION = "Review scripts: use synchronous or semisynchronous WMI calls"


def records() -> dict[str, dict]:
    return {
        "expired01": baseline("drift", [control("WMI-004", "drift", findings=[EXPIRED])]),
        "accepted01": baseline("excepted", [control("WMI-004", "excepted", findings=[ACTIVE], reason="CHG-42")]),
        "nt4": baseline(
            "not_applicable",
            [
                control(
                    "WMI-001",
                    "not_applicable",
                    reason="Windows NT 4.0: no unsecapp check",
                    remediation={"automatic": False, "text": MITIGATION},
                )
            ],
            os={"family": "Windows NT 4.0", "pre_2003": True, "source": "inventory"},
        ),
        "web01": baseline(
            "drift", [control("WMI-001", "drift", changes=["UnsecappAccessControlDefault: absent -> 1 (REG_DWORD)"])]
        ),
    }


def report_of(check_mode: bool | None = True, **extra) -> dict:
    hosts = [normalise_host(h, r, run_at=RUN_AT, check_mode=check_mode) for h, r in records().items()]
    return {**build_report(hosts, title="Fleet", generated_at=RUN_AT), **extra}


def all_formats(report: dict) -> dict[str, str]:
    return {
        "html": render_html(report),
        "markdown": render_markdown(report),
        "csv": render_csv(report),
        "junit": render_junit(report),
    }


def test_every_format_says_a_check_mode_run_is_one():
    check, run = all_formats(report_of(True)), all_formats(report_of(False))
    assert "CHECK MODE (audit): nothing was changed on any host" in check["html"]
    assert "CHECK MODE (audit): nothing was changed on any host" in check["markdown"]
    assert ET.fromstring(check["junit"]).get("name") == "Fleet [check mode: nothing changed]"
    assert ET.fromstring(run["junit"]).get("name") == "Fleet"
    modes = {row["mode"] for row in csv.DictReader(io.StringIO(check["csv"].removeprefix("\ufeff")))}
    assert modes == {"check"}
    assert {row["mode"] for row in csv.DictReader(io.StringIO(run["csv"].removeprefix("\ufeff")))} == {"run"}
    for text in run.values():
        assert "CHECK MODE" not in text and "check mode: nothing" not in text


def test_expired_exceptions_are_marked_in_every_format_and_active_ones_listed_with_their_reason():
    formats = all_formats(report_of())
    assert '<span class="expired">EXPIRED 2026-10-31: still drift</span>' in formats["html"]
    assert "backup agent, CHG-42" in formats["html"]
    markdown = formats["markdown"]
    assert "## Exceptions" in markdown
    assert any("svc\\_old" in line and "**EXPIRED** 2026-10-31" in line for line in markdown.splitlines())
    assert any(
        "svc\\_backup" in line and "backup agent, CHG-42" in line and "active" in line for line in markdown.splitlines()
    )
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(formats["csv"].removeprefix("\ufeff")))}
    assert rows["expired01"]["exception"] == "EXPIRED: exception expired on 2026-10-31: CHG-7"
    assert rows["accepted01"]["exception"] == "active: backup agent, CHG-42"
    failure = ET.fromstring(formats["junit"]).find("testsuite[@name='expired01']/testcase/failure")
    assert failure is not None and "EXPIRED exception expired on 2026-10-31: CHG-7" in failure.text


def test_not_applicable_hosts_are_listed_with_their_mitigation():
    formats = all_formats(report_of())
    assert '<section id="not-applicable">' in formats["html"] and MITIGATION in formats["html"]
    line = next(line for line in formats["markdown"].splitlines() if line.startswith("| nt4 |"))
    assert "Windows NT 4.0 (from inventory, not contacted)" in line and md_cell(MITIGATION) in line
    rows = {row["host"]: row for row in csv.DictReader(io.StringIO(formats["csv"].removeprefix("\ufeff")))}
    assert rows["nt4"]["remediation"] == MITIGATION


@pytest.mark.parametrize(("check_mode", "word"), [(True, "predicted"), (False, "made")])
def test_the_changes_are_listed_as_predicted_or_made(check_mode, word):
    formats = all_formats(report_of(check_mode))
    change = "UnsecappAccessControlDefault: absent -&gt; 1 (REG_DWORD)"
    assert f"<td>{word}</td><td>{change}</td>" in formats["html"]
    assert (
        f"| web01 | WMI-001 | {word} | {md_cell('UnsecappAccessControlDefault: absent -> 1 (REG_DWORD)')} |"
        in (formats["markdown"])
    )


def test_markdown_never_links_or_mentions_what_a_host_wrote():
    hostile = "see https://evil.example/x www.evil.example mail@evil.example @admins #12 !34"
    text = md_cell(hostile)
    for live in ("https://", "www.", "@admins", "mail@", "#12", "!34"):
        assert live not in text
    # What a reader sees once rendered is the same text (escapes vanish, the word joiner is invisible).
    assert text.replace("\\", "").replace("\u2060", "") == hostile


def test_the_change_since_an_earlier_report_is_per_host_and_control():
    earlier = report_of()
    earlier["hosts"] = [
        {**host, "controls": [{**c, "status": "compliant", "findings": []} for c in host["controls"]]}
        if host["host"] == "web01"
        else host
        for host in earlier["hosts"]
        if host["host"] != "accepted01"
    ] + [normalise_host("gone01", baseline("drift", [control("WMI-001", "drift")]), run_at=EARLIER)]
    earlier["hosts"][0]["controls"][0]["status"] = "drift"  # expired01 was drift before too
    now = report_of()
    # expired01 now compliant: fixed.
    now["hosts"] = [
        {**h, "status": "compliant", "controls": [{**h["controls"][0], "status": "compliant"}]}
        if h["host"] == "expired01"
        else h
        for h in now["hosts"]
    ]
    delta = changes_since(earlier, now["hosts"])
    kinds = {(e["host"], e["control"]): e["change"] for e in delta["entries"]}
    assert kinds == {
        ("web01", "WMI-001"): "new",
        ("expired01", "WMI-004"): "fixed",
        ("accepted01", "WMI-004"): "changed",
        ("gone01", "WMI-001"): "gone",
    }
    assert delta["counts"] == {"new": 1, "fixed": 1, "changed": 1, "unchanged": 1, "gone": 1}
    report = {**now, "changes_since": delta}
    html, markdown = render_html(report), render_markdown(report)
    assert '<section id="changes-since">' in html and 'class="delta-new"' in html and 'class="delta-fixed"' in html
    assert "1 new, 1 fixed, 1 changed, 1 unchanged, 1 gone" in markdown
    assert "| web01 | WMI-001 | new | compliant | drift |" in markdown


def test_retention_drops_only_old_entries_of_hosts_not_in_this_run():
    old = normalise_host("old", None, run_at="2026-10-01T10:00:00.000000Z")
    recent = normalise_host("recent", None, run_at="2026-11-20T10:00:00.000000Z")
    rerun = normalise_host("rerun", None, run_at="2026-09-01T10:00:00.000000Z")
    kept, dropped = retained_hosts([old, recent, rerun], ["rerun"], run_at=RUN_AT, max_age_days=30)
    assert [h["host"] for h in kept] == ["recent", "rerun"] and dropped == ["old"]
    assert retained_hosts([old], [], run_at=RUN_AT, max_age_days=0) == ([old], [])


def test_the_configured_exceptions_give_each_excepted_finding_its_expiry_and_are_listed():
    items = [
        {
            "control": "WMI-004",
            "principal": "CORP\\svc_backup",
            "reason": "backup agent, CHG-42",
            "expires": "2027-06-30",
        },
        {"control": "WMI-004", "principal": "CORP\\svc_old", "reason": "CHG-7", "expires": "2026-10-31"},
        {"control": "WMI-001", "reason": "vendor callbacks", "expires": None},
    ]
    report = report_of(exceptions=configured_exceptions(items, RUN_AT[:10]))
    assert [item["expired"] for item in report["exceptions"]] == [False, True, False]
    html, markdown = render_html(report), render_markdown(report)
    assert "active, expires 2027-06-30" in html and "active, expires 2027-06-30" in markdown
    assert '<section id="exceptions-configured">' in html and '<span class="expired">EXPIRED 2026-10-31</span>' in html
    assert "| WMI-001 |  |  | vendor callbacks | never |" in markdown
