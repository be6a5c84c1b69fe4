# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import json

import jsonschema
import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import STATUSES as control_statuses
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_model import (
    CONTROL_STATUSES,
    ReportMergeError,
    build_report,
    compact_summary,
    hosts_of_existing_report,
    merge_hosts,
    normalise_host,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report_render import render_json
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils.report_fleet import (
    LONG_NAME,
    baseline,
    control,
    fleet,
    schema,
)

T1 = "2026-11-30T10:00:00.000000Z"
T2 = "2026-11-30T11:00:00.000000Z"


def report_of(records: dict, run_at: str = T1, **kwargs) -> dict:
    hosts = [normalise_host(host, record, run_at=run_at) for host, record in records.items()]
    return build_report(hosts, title="WMI", generated_at=run_at, **kwargs)


def by_host(report: dict) -> dict:
    return {host["host"]: host for host in report["hosts"]}


def test_every_report_of_the_crafted_fleet_validates_against_the_shipped_schema():
    validator = jsonschema.Draft202012Validator(schema())
    report = json.loads(render_json(report_of(fleet())))
    errors = sorted(validator.iter_errors(report), key=str)
    assert not errors, errors[0]


def test_the_schema_refuses_a_host_without_verdict_reported_compliant():
    report = json.loads(render_json(report_of(fleet())))
    report["hosts"][0].update(status="compliant", cause="unreachable", reason="refused", controls=[])
    assert not jsonschema.Draft202012Validator(schema()).is_valid(report)


@pytest.mark.parametrize(
    ("host", "status", "cause", "reason_part"),
    [
        ("dc01", "unreachable", "unreachable", "Connection refused"),
        ("fs01", "error", "failed", "boom"),
        ("skipped01", "error", "skipped", "Conditional result was False"),
        ("never01", "error", "no_result", "did not run the baseline"),
    ],
)
def test_hosts_without_a_verdict_are_never_compliant_and_say_why(host, status, cause, reason_part):
    entry = by_host(report_of(fleet()))[host]
    assert (entry["status"], entry["cause"]) == (status, cause)
    assert reason_part in entry["reason"]
    assert entry["controls"] == []


def test_verdicts_and_counts_come_from_the_baseline_records():
    hosts = by_host(report_of(fleet()))
    assert hosts["web01"]["status"] == "compliant"
    assert hosts["web01"]["counts"]["compliant"] == 2
    assert hosts["app02"]["status"] == "drift"
    assert hosts["backup01"]["status"] == "excepted"
    assert hosts["backup01"]["controls"][1]["reason"].startswith("backup product account")
    assert hosts["nt4-legacy"]["status"] == "not_applicable"
    assert hosts["nt4-legacy"]["os"]["pre_2003"] is True
    assert hosts["fixed01"]["status"] == "remediated"
    assert hosts["fixed01"]["changed"] is True
    assert hosts["sqlerr"]["counts"]["error"] == 1
    assert hosts[LONG_NAME]["status"] == "compliant"


def test_a_host_is_never_better_than_its_worst_control():
    record = baseline("compliant", [control("WMI-001", "compliant"), control("WMI-002", "drift")])
    assert normalise_host("h", record, run_at=T1)["status"] == "drift"
    record = baseline("excepted", [control("WMI-001", "error"), control("WMI-002", "drift")])
    assert normalise_host("h", record, run_at=T1)["status"] == "error"


def test_a_failed_baseline_with_a_verdict_keeps_the_verdict():
    # fail_on_drift fails the host task but the result still holds the controls.
    record = baseline("drift", [control("WMI-001", "drift")], failed=True, msg="1 control drifted")
    entry = normalise_host("h", record, run_at=T1)
    assert (entry["status"], entry["cause"]) == ("drift", None)
    assert entry["counts"]["drift"] == 1


def test_unknown_statuses_and_severities_do_not_pass_silently():
    record = baseline("compliant", [control("WMI-001", "compliant")])
    record["controls"][0].update(status="green", severity="urgent")
    entry = normalise_host("h", record, run_at=T1)
    assert entry["status"] == "error"
    assert entry["controls"][0]["status"] == "error"
    assert "'green'" in entry["controls"][0]["reason"]
    assert entry["controls"][0]["severity"] == "info"
    assert normalise_host("h", ["not", "a", "dict"], run_at=T1)["cause"] == "invalid_result"
    assert normalise_host("h", {"changed": False}, run_at=T1)["cause"] == "invalid_result"


def test_summary_counts_per_status_and_per_control_with_capped_host_lists():
    records = {f"drift{index:02}": baseline("drift", [control("WMI-001", "drift")]) for index in range(7)}
    records["ok"] = baseline("compliant", [control("WMI-001", "compliant"), control("WMI-002", "compliant")])
    summary = report_of(records, list_cap=3)["summary"]
    assert summary["hosts"] == 8
    assert summary["host_status_counts"]["drift"] == 7
    assert summary["host_status_counts"]["unreachable"] == 0
    assert summary["control_status_counts"] == {
        "compliant": 2, "drift": 7, "remediated": 0, "not_applicable": 0, "excepted": 0, "error": 0
    }  # fmt: skip
    assert [(c["id"], c["counts"]["drift"], c["counts"]["compliant"]) for c in summary["controls"]] == [
        ("WMI-001", 7, 1),
        ("WMI-002", 0, 1),
    ]
    assert summary["hosts_with_drift"] == {"names": ["drift00", "drift01", "drift02"], "total": 7, "truncated": True}


def test_compact_summary_is_the_published_statistic():
    stats = compact_summary(report_of(fleet(), list_cap=1))
    assert stats["hosts"] == 12
    assert stats["status_counts"]["unreachable"] == 1
    assert stats["hosts_with_drift_total"] == 2
    assert len(stats["hosts_with_drift"]) == 1
    assert stats["hosts_with_errors"] == ["dc01"]
    assert stats["hosts_with_errors_total"] == 5
    json.dumps(stats)


def test_merge_keeps_the_latest_run_per_host():
    first = report_of({"a": baseline("drift", [control("WMI-001", "drift")]), "b": None}, run_at=T1)
    second_hosts = [
        normalise_host("a", baseline("compliant", [control("WMI-001", "compliant")]), run_at=T2),
        normalise_host("c", {"unreachable": True, "msg": "timed out"}, run_at=T2),
    ]
    merged = by_host(build_report(merge_hosts(first["hosts"], second_hosts), title="WMI", generated_at=T2))
    assert sorted(merged) == ["a", "b", "c"]
    assert merged["a"]["status"] == "compliant"
    assert merged["c"]["status"] == "unreachable"
    # An older run never replaces a newer one, whichever report it comes from.
    stale = [normalise_host("a", baseline("drift", [control("WMI-001", "drift")]), run_at=T1)]
    assert by_host(build_report(merge_hosts(merged.values(), stale), title="W", generated_at=T2))["a"]["status"] == (
        "compliant"
    )


def test_merge_never_lets_an_old_verdict_stand_in_for_a_run_without_result():
    # Host 'a' was compliant yesterday; today it is in the play but failed before the baseline task.
    first = report_of({"a": baseline("compliant", [control("WMI-001", "compliant")]), "c": None}, run_at=T1)
    later = [normalise_host("a", None, run_at=T2), normalise_host("b", None, run_at=T2)]
    merged = by_host(build_report(merge_hosts(first["hosts"], later), title="W", generated_at=T2))
    assert (merged["a"]["status"], merged["a"]["cause"]) == ("error", "no_result")
    assert merged["b"]["cause"] == "no_result"
    # A host the later run did not include (another job slice) keeps its entry.
    assert (merged["c"]["cause"], merged["c"]["run_at"]) == ("no_result", T1)


def test_merged_report_lists_its_runs_and_validates():
    first = report_of({"a": baseline("compliant", [])}, run_at=T1)
    hosts = merge_hosts(first["hosts"], [normalise_host("b", None, run_at=T2, job_id="42")])
    report = build_report(hosts, title="W", generated_at=T2)
    assert report["runs"] == [{"run_at": T1, "job_id": None}, {"run_at": T2, "job_id": "42"}]
    jsonschema.Draft202012Validator(schema()).validate(json.loads(render_json(report)))


def test_an_existing_report_of_another_major_version_is_refused():
    existing = json.loads(render_json(report_of({"a": None})))
    assert [h["host"] for h in hosts_of_existing_report(existing)] == ["a"]
    with pytest.raises(ReportMergeError, match=r"schema_version '2\.0'"):
        hosts_of_existing_report({**existing, "schema_version": "2.0"})
    with pytest.raises(ReportMergeError, match=r"not a winsec\.wmi compliance report"):
        hosts_of_existing_report({"foo": 1})
    with pytest.raises(ReportMergeError, match="malformed host"):
        hosts_of_existing_report({**existing, "hosts": [{"host": "a", "status": "green"}]})


def test_the_report_knows_exactly_the_verdicts_a_control_can_have():
    # The report lists them in reading order; the control runner defines them (worst first).
    assert sorted(CONTROL_STATUSES) == sorted(control_statuses)
