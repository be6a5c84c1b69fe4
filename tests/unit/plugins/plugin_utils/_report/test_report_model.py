# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import copy
import json
import typing as t

import jsonschema
import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import STATUSES as control_statuses
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import (
    CONTROL_STATUSES,
    ReportMergeError,
    build_report,
    compact_summary,
    hosts_of_existing_report,
    merge_hosts,
    normalise_host,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import render_json
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import (
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
    # This run's entry replaces the existing one even when the existing one claims a later run_at (a wrong clock, an
    # edited file): a future date must not keep an old verdict in place for ever.
    future = "2099-01-01T00:00:00.000000Z"
    existing = [normalise_host("a", baseline("compliant", [control("WMI-001", "compliant")]), run_at=future)]
    current = [normalise_host("a", baseline("drift", [control("WMI-001", "drift")]), run_at=T1)]
    assert by_host(build_report(merge_hosts(existing, current), title="W", generated_at=T1))["a"]["status"] == "drift"
    # Equal run_at: still this run's entry.
    same_time = [normalise_host("a", None, run_at=future)]
    assert by_host(build_report(merge_hosts(existing, same_time), title="W", generated_at=T1))["a"]["cause"] == (
        "no_result"
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


def _valid_existing_report() -> dict:
    records = {
        "ok": baseline("compliant", [control("WMI-001", "compliant")]),
        "bad": baseline("drift", [control("WMI-001", "drift"), control("WMI-002", "compliant")]),
        "down": {"unreachable": True, "msg": "timed out"},
    }
    return json.loads(render_json(report_of(records)))


def _set(path: str, value: object):
    def change(host: dict) -> None:
        *parents, last = path.split(".")
        target: t.Any = host
        for key in parents:
            target = target[int(key)] if key.isdigit() else target[key]
        if value is DELETE:
            del target[last]
        else:
            target[int(last) if last.isdigit() else last] = value

    return change


DELETE = object()


@pytest.mark.parametrize(
    ("change", "problem"),
    [
        (_set("controls.0.status", "green"), "controls[0] status 'green' is not one of"),
        (_set("controls.1.severity", "urgent"), "controls[1] severity 'urgent'"),
        (_set("controls.0.findings", [{"id": "x", "message": "m", "severity": "huge"}]), "controls[0] findings[0]"),
        (_set("controls.0.remediation", None), "controls[0] remediation"),
        (_set("controls.0", "WMI-001 drift"), "controls[0] is not a mapping"),
        (_set("counts.green", 1), "counts does not have exactly the keys"),
        (
            _set(
                "counts", {"compliant": 2, "drift": 0, "remediated": 0, "not_applicable": 0, "excepted": 0, "error": 0}
            ),
            "are not the counts of its controls",
        ),
        (_set("status", "compliant"), "status 'compliant' is better than its worst control (drift)"),
        (_set("cause", "gremlins"), "cause 'gremlins'"),
        (_set("cause", "failed"), "a host with cause 'failed' must be error or unreachable"),
        (_set("run_at", "tomorrow"), "run_at 'tomorrow' is not a UTC timestamp"),
        (_set("changed", "no"), "changed is not a boolean"),
        (_set("os", []), "os is not a mapping"),
        (_set("reason", DELETE), None),  # reason absent reads as null: allowed
        (_set("job_id", 7), "job_id is not text or null"),
    ],
)
def test_every_merged_entry_is_validated_and_the_message_names_it(change, problem):
    document = _valid_existing_report()
    assert [h["host"] for h in hosts_of_existing_report(document)] == ["bad", "down", "ok"]
    change(document["hosts"][0])
    if problem is None:
        hosts_of_existing_report(document)
        return
    with pytest.raises(ReportMergeError) as raised:
        hosts_of_existing_report(document)
    message = str(raised.value)
    assert "hosts[0] (host 'bad')" in message
    assert problem in message
    assert "merge=false" in message


def test_merged_entries_must_be_unique_and_an_unreachable_host_must_say_so():
    document = _valid_existing_report()
    document["hosts"].append(copy.deepcopy(document["hosts"][0]))
    with pytest.raises(ReportMergeError, match=r"hosts\[3\] \(host 'bad'\): names a host that an earlier entry"):
        hosts_of_existing_report(document)
    document = _valid_existing_report()
    document["hosts"][1]["cause"] = None
    with pytest.raises(ReportMergeError, match=r"hosts\[1\] \(host 'down'\): status unreachable and cause"):
        hosts_of_existing_report(document)


def test_every_entry_this_version_writes_passes_the_merge_validation():
    # The validator and the writer agree on the crafted fleet, which holds every host status and cause.
    document = json.loads(render_json(report_of(fleet())))
    assert len(hosts_of_existing_report(document)) == len(fleet())


@pytest.mark.parametrize("claimed", ["compliant", "remediated", "excepted", "not_applicable"])
def test_a_failed_task_is_never_a_good_verdict_and_keeps_its_controls(claimed):
    controls = [control("WMI-001", claimed), control("WMI-002", claimed)]
    entry = normalise_host("h", baseline(claimed, controls, failed=True, msg="boom: read-back failed"), run_at=T1)
    assert entry["status"] == "error"
    assert entry["cause"] is None  # the task did return a verdict; it is kept as evidence
    assert "boom: read-back failed" in entry["reason"] and repr(claimed) in entry["reason"]
    assert [c["status"] for c in entry["controls"]] == [claimed, claimed]
    report = build_report([entry], title="W", generated_at=T1)
    assert report["summary"]["host_status_counts"][claimed] == 0
    assert report["summary"]["hosts_with_errors"]["names"] == ["h"]
    jsonschema.Draft202012Validator(schema()).validate(json.loads(render_json(report)))
    # What this version writes, the next merge reads back.
    assert hosts_of_existing_report(json.loads(render_json(report)))[0]["status"] == "error"


def test_a_failed_when_without_msg_still_says_why():
    record = baseline("compliant", [control("WMI-001", "compliant")], failed=True, failed_when_result=True)
    assert "failed_when matched" in normalise_host("h", record, run_at=T1)["reason"]


def test_the_report_knows_exactly_the_verdicts_a_control_can_have():
    # The report lists them in reading order; the control runner defines them (worst first).
    assert sorted(CONTROL_STATUSES) == sorted(control_statuses)
