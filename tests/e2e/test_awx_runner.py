"""The AWX path without AWX: the "WMI compliance audit" job template's playbook run through ansible-runner (what
AWX's job runs), with the extra variables AWX builds from the survey's answers, against the simulated demo fleet.

Judged from what AWX keeps of a job: the runner's status and rc, its events (one per host and task) and the custom
statistics of the playbook_on_stats event (AWX's job artifacts), plus the report files and the simulator's counters.
"""

from __future__ import annotations

import json
import os
import sys
import typing as t
from pathlib import Path

import jsonschema
import pytest

from simulator.harness import Fleet, ansible_env

ansible_runner = pytest.importorskip("ansible_runner", reason="ansible-runner (tests/requirements/test.txt)")
xmlschema = pytest.importorskip("xmlschema", reason="xmlschema (tests/requirements/test.txt)")

ROOT = Path(__file__).resolve().parents[2]
AWX = ROOT / "awx"
SCHEMA = json.loads((ROOT / "docs" / "schemas" / "wmi-compliance.schema.json").read_text(encoding="utf-8"))
JUNIT_XSD = ROOT / "tests" / "unit" / "plugins" / "plugin_utils" / "_report" / "data" / "junit-report.xsd"
REPORT_FILES = ("wmi-compliance.json", "wmi-compliance.junit.xml", "wmi-compliance.html", "wmi-compliance.csv",
                "wmi-compliance.md")  # fmt: skip
# Demo hosts with drift whatever controls the baseline adds: broad or non-admin namespace rights, unsecapp off.
KNOWN_DRIFT = {"app02", "backup01", "sql02", "web01", "web02"}
UNREACHABLE = "branch-srv"
# The undeclared Server 2003 host: ansible-core's bootstrap refuses its PowerShell 2.0, so its task fails.
BOOTSTRAP_FAILS = "legacy-erp"

# Chromium as root in a container without network (the HTML report's browser check).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync"]  # fmt: skip

pytestmark = pytest.mark.e2e


def survey_extra_vars(survey_file: str, **answers: t.Any) -> dict[str, t.Any]:
    """The extra variables AWX passes for a survey launched with its defaults and these answers.

    AWX sends text and multiple-choice answers as strings, multiselect answers as a list, integers as numbers, and
    leaves out an optional question answered with nothing.
    """
    survey = json.loads((AWX / "surveys" / survey_file).read_text(encoding="utf-8"))
    extra_vars: dict[str, t.Any] = {}
    for question in survey["spec"]:
        value = answers.get(question["variable"], question.get("default", ""))
        if value == "":
            continue
        if question["type"] == "multiselect" and isinstance(value, str):
            value = [choice for choice in value.splitlines() if choice.strip()]
        extra_vars[question["variable"]] = value
    return extra_vars


def run_job(fleet: Fleet, workdir: Path, extra_vars: dict[str, t.Any], *, limit: str | None = None) -> t.Any:
    """One AWX-style job: the project's wmi_audit.yml, job type Check (--check), through ansible-runner."""
    private_data_dir = workdir / "runner"
    private_data_dir.mkdir(parents=True)
    environment = ansible_env(fleet, workdir / "unused-results.jsonl")
    envvars = {
        name: environment[name]
        for name in ("ANSIBLE_COLLECTIONS_PATH", "ANSIBLE_LOCAL_TEMP", "ANSIBLE_FORKS", "NO_PROXY", "no_proxy")
    }
    # ansible-runner starts the ansible-playbook it finds on PATH: this venv's.
    envvars["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"
    return ansible_runner.run(
        private_data_dir=str(private_data_dir),
        project_dir=str(AWX / "project"),
        playbook="wmi_audit.yml",
        inventory=str(fleet.inventory),
        extravars=extra_vars,
        envvars=envvars,
        cmdline="--check",
        limit=limit,
        quiet=True,
        timeout=600,
    )


def custom_stats(job: t.Any) -> dict[str, t.Any]:
    (stats,) = [event for event in job.events if event.get("event") == "playbook_on_stats"]
    return stats["event_data"].get("artifact_data") or {}


def failed_hosts(job: t.Any) -> set[str]:
    return {host for host, count in job.stats["failures"].items() if count}


@pytest.fixture
def demo(fleet_factory) -> Fleet:
    return fleet_factory("demo")


@pytest.fixture(scope="module")
def audit_job(fleet_pool, tmp_path_factory: pytest.TempPathFactory) -> t.Iterator[tuple[t.Any, Path, int]]:
    """One audit job with the survey's defaults on the whole demo fleet: the job, its report directory, and the
    writes the simulator saw."""
    workdir = tmp_path_factory.mktemp("awx-audit")
    fleet = fleet_pool.take("demo")
    try:
        report_dir = workdir / "reports"
        extra_vars = survey_extra_vars("wmi_compliance_audit.json", wmi_hardening_report_dir=str(report_dir))
        job = run_job(fleet, workdir, extra_vars)
        writes = sum(counters["writes"] for counters in fleet.all_counters().values())
        yield job, report_dir, writes
    finally:
        fleet_pool.give_back(fleet_pool.key("demo"), fleet)


def test_the_audit_job_reports_every_host_and_publishes_its_summary(audit_job) -> None:
    job, report_dir, writes = audit_job

    # Events: the unreachable host has its own event and is in the report; only the undeclared 2003 host fails. Both
    # could not be judged, so the job fails (wmi_hardening_fail_on_unjudged, default true).
    unreachable_events = [event for event in job.events if event.get("event") == "runner_on_unreachable"]
    assert [event["event_data"]["host"] for event in unreachable_events] == [UNREACHABLE]
    assert failed_hosts(job) == {BOOTSTRAP_FAILS}, job.stdout.read()[-3000:]
    assert job.status == "failed" and job.rc in (2, 4)

    # Report files: all five, the JSON valid against the shipped schema, the JUnit against the XSD.
    assert sorted(path.name for path in report_dir.iterdir() if not path.name.startswith(".")) == sorted(REPORT_FILES)
    report = json.loads((report_dir / "wmi-compliance.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    xmlschema.XMLSchema(JUNIT_XSD).validate(str(report_dir / "wmi-compliance.junit.xml"))
    hosts = {host["host"]: host for host in report["hosts"]}
    assert len(hosts) == 24
    assert (hosts[UNREACHABLE]["status"], hosts[UNREACHABLE]["cause"]) == ("unreachable", "unreachable")
    assert (hosts[BOOTSTRAP_FAILS]["status"], hosts[BOOTSTRAP_FAILS]["cause"]) == ("error", "failed")
    assert "PowerShell" in hosts[BOOTSTRAP_FAILS]["reason"]
    drifting = {name for name, host in hosts.items() if host["status"] == "drift"}
    assert drifting >= KNOWN_DRIFT
    assert all(host["check_mode"] is True for host in hosts.values())

    # Custom statistics: what AWX stores as the job's artifacts and hands to the next workflow node.
    summary = custom_stats(job)["wmi_compliance_summary"]
    assert summary["hosts"] == 24
    assert summary["status_counts"] == report["summary"]["host_status_counts"]
    assert summary["status_counts"]["unreachable"] == 1
    assert set(summary["hosts_with_drift"]) == drifting
    assert set(summary["hosts_with_errors"]) == {UNREACHABLE, BOOTSTRAP_FAILS}

    # A Check job writes to no host.
    assert writes == 0


def test_the_demo_report_opens_in_chromium_with_every_row_and_no_console_error(audit_job) -> None:
    chromium = Path("/usr/bin/chromium")
    if not chromium.exists():
        pytest.skip("Chromium is not installed: run `make browser` (Debian package chromium)")
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (tests/requirements/test.txt)")
    _job, report_dir, _writes = audit_job
    report = json.loads((report_dir / "wmi-compliance.json").read_text(encoding="utf-8"))
    # The matrix: one row per host (the page shows 200 at a time; the demo fleet is smaller).
    expected_rows = len(report["hosts"])
    console: list[str] = []
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(chromium), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page()
            page.on("console", lambda message: console.append(f"{message.type}: {message.text}"))
            page.on("pageerror", lambda error: console.append(f"pageerror: {error}"))
            page.goto((report_dir / "wmi-compliance.html").as_uri())
            page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=10_000)
            assert page.locator("#matrix tbody tr").count() == expected_rows
            assert page.text_content("#row-count") == f"Hosts 1-{expected_rows} of {expected_rows}"
            chart_rows = page.eval_on_selector_all(
                "#status-chart g.chart-row", "rows => rows.map(r => r.dataset.control)"
            )
            assert chart_rows == ["Hosts"] + [control["id"] for control in report["summary"]["controls"]]
            page.select_option("#filter-status", "unreachable")
            assert page.locator("#matrix tbody tr:not([hidden])").all_text_contents()[0].startswith(UNREACHABLE)
        finally:
            browser.close()
    assert console == []


def test_the_job_status_follows_fail_on_drift_and_fail_on_unjudged(demo, tmp_path) -> None:
    # The verdicts the job status depends on, not the whole demo fleet (each host audited is a module run, three jobs
    # over): the unreachable host, the known drift, a compliant host and a declared legacy (not applicable) one.
    limit = ":".join(sorted({UNREACHABLE, *KNOWN_DRIFT, "dc01", "nt4-lab"}))
    report_dir = str(tmp_path / "reports")
    default = run_job(
        demo, tmp_path / "default",
        survey_extra_vars("wmi_compliance_audit.json", wmi_hardening_report_dir=report_dir),
        limit=limit,
    )  # fmt: skip
    # An unreachable host could not be judged: by default the job fails (a scheduled audit with an expired credential
    # must not stay green), and the report still lists it.
    assert (default.status, default.rc) == ("failed", 4), default.stdout.read()[-3000:]
    assert custom_stats(default)["wmi_compliance_summary"]["status_counts"]["unreachable"] == 1

    lenient = run_job(
        demo, tmp_path / "lenient",
        survey_extra_vars("wmi_compliance_audit.json", wmi_hardening_report_dir=report_dir,
                          wmi_hardening_fail_on_unjudged="false"),
        limit=limit,
    )  # fmt: skip
    # Told to report unjudged hosts only: an unreachable host and five drifting hosts, and the job succeeds.
    assert (lenient.status, lenient.rc) == ("successful", 0), lenient.stdout.read()[-3000:]
    assert custom_stats(lenient)["wmi_compliance_summary"]["status_counts"]["unreachable"] == 1

    strict = run_job(
        demo, tmp_path / "strict",
        survey_extra_vars("wmi_compliance_audit.json", wmi_hardening_report_dir=report_dir,
                          wmi_hardening_fail_on_drift="true", wmi_hardening_fail_on_unjudged="false"),
        limit=limit,
    )  # fmt: skip
    assert strict.status == "failed"
    # The report was written before the hosts failed; exactly its drifting hosts fail, the unreachable one does not.
    report = json.loads((tmp_path / "reports" / "wmi-compliance.json").read_text(encoding="utf-8"))
    statuses = {host["host"]: host["status"] for host in report["hosts"]}
    assert statuses[UNREACHABLE] == "unreachable"
    assert failed_hosts(strict) == {name for name, status in statuses.items() if status == "drift"} >= KNOWN_DRIFT
    assert sum(counters["writes"] for counters in demo.all_counters().values()) == 0


def test_a_batched_audit_merges_every_batch_into_one_report(demo, tmp_path) -> None:
    report_dir = tmp_path / "reports"
    answers = {"wmi_hardening_report_dir": str(report_dir), "winsec_wmi_serial": 10}
    job = run_job(demo, tmp_path, survey_extra_vars("wmi_compliance_audit.json", **answers))
    assert failed_hosts(job) == {BOOTSTRAP_FAILS}, job.stdout.read()[-3000:]
    report = json.loads((report_dir / "wmi-compliance.json").read_text(encoding="utf-8"))
    jsonschema.Draft202012Validator(SCHEMA).validate(report)
    hosts = {host["host"]: host for host in report["hosts"]}
    # Three batches of at most 10 hosts, one report: every host with its own verdict, none left without a result.
    assert len(hosts) == 24
    assert [name for name, host in hosts.items() if host["cause"] == "no_result"] == []
    assert hosts[UNREACHABLE]["status"] == "unreachable"
    # The last batch's statistic covers the whole fleet, since it is computed from the merged report.
    assert custom_stats(job)["wmi_compliance_summary"]["hosts"] == 24
