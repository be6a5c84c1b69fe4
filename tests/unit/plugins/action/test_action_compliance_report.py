# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import concurrent.futures
import csv
import json
import typing as t
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.winsec.wmi.plugins.action import compliance_report
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import (
    baseline,
    control,
    fleet,
    schema,
)

ALL_FILES = {
    "json": "wmi-compliance.json",
    "junit": "wmi-compliance.junit.xml",
    "html": "wmi-compliance.html",
    "csv": "wmi-compliance.csv",
    "markdown": "wmi-compliance.md",
}


def task_vars_for(records: dict[str, t.Any], **extra: t.Any) -> dict[str, t.Any]:
    """What a task sees: every play host, and the registered variable of those that have one."""
    hostvars = {
        host: ({"wmi_hardening_result": record} if record is not None else {"inventory_hostname": host})
        for host, record in records.items()
    }
    return {"ansible_play_hosts_all": list(records), "hostvars": hostvars, **extra}


def run(args: dict[str, t.Any], task_vars: dict[str, t.Any], *, check_mode: bool = False) -> dict[str, t.Any]:
    # No Windows connection: the report runs on the controller.
    plugin = make_action(
        compliance_report, args, check_mode=check_mode, windows=False, action_name="winsec.wmi.compliance_report"
    )
    return plugin.run(task_vars=task_vars)


def read_json(report_dir: Path) -> dict[str, t.Any]:
    return json.loads((report_dir / "wmi-compliance.json").read_text(encoding="utf-8"))


def test_the_action_opens_no_connection():
    assert compliance_report.ActionModule._requires_connection is False


def test_every_play_host_is_reported_in_every_format(tmp_path):
    result = run({"report_dir": str(tmp_path / "reports")}, task_vars_for(fleet()))
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["files"] == {name: str(tmp_path / "reports" / file) for name, file in ALL_FILES.items()}
    assert sorted(path.name for path in (tmp_path / "reports").iterdir() if not path.name.startswith(".")) == sorted(
        ALL_FILES.values()
    )
    report = read_json(tmp_path / "reports")
    jsonschema.Draft202012Validator(schema()).validate(report)
    statuses = {host["host"]: host["status"] for host in report["hosts"]}
    assert len(statuses) == len(fleet())
    assert statuses["dc01"] == "unreachable"
    assert statuses["never01"] == "error"
    assert result["summary"] == report["summary"]
    assert result["drift"] is True
    assert "2 drift" in result["msg"]
    rows = list(csv.reader((tmp_path / "reports" / "wmi-compliance.csv").open(newline="", encoding="utf-8")))
    assert len(rows) == 1 + 16


def test_the_summary_is_published_as_a_custom_statistic(tmp_path):
    result = run({"report_dir": str(tmp_path), "max_hosts_listed": 1}, task_vars_for(fleet()))
    stats = result["ansible_stats"]
    assert stats["per_host"] is False
    assert stats["aggregate"] is False
    summary = stats["data"]["wmi_compliance_summary"]
    assert summary == result["stats"]
    assert summary["status_counts"]["unreachable"] == 1
    assert summary["hosts_with_drift_total"] == 2
    assert len(summary["hosts_with_drift"]) == 1
    assert "ansible_stats" not in run({"report_dir": str(tmp_path), "set_stats": False}, task_vars_for(fleet()))


def test_check_mode_writes_the_report_and_says_so(tmp_path):
    records = {"web01": baseline("compliant", [control("WMI-001", "compliant")])}
    result = run({"report_dir": str(tmp_path)}, task_vars_for(records, ansible_check_mode=True), check_mode=True)
    assert not result.get("failed"), result
    assert (tmp_path / "wmi-compliance.html").exists()
    assert read_json(tmp_path)["hosts"][0]["check_mode"] is True


def test_formats_are_selectable(tmp_path):
    result = run({"report_dir": str(tmp_path), "formats": ["junit", "markdown"]}, task_vars_for(fleet()))
    assert sorted(result["files"]) == ["junit", "markdown"]
    assert not (tmp_path / "wmi-compliance.json").exists()


def test_explicit_results_and_hosts(tmp_path):
    results = {"a": baseline("drift", [control("WMI-001", "drift")]), "b": {"unreachable": True, "msg": "refused"}}
    run({"report_dir": str(tmp_path), "results": results, "hosts": ["a", "c"]}, {})
    hosts = {host["host"]: host for host in read_json(tmp_path)["hosts"]}
    assert sorted(hosts) == ["a", "c"]
    assert hosts["c"]["cause"] == "no_result"
    run({"report_dir": str(tmp_path), "results": results}, {})
    assert [host["status"] for host in read_json(tmp_path)["hosts"]] == ["drift", "unreachable"]


def test_another_result_variable(tmp_path):
    task_vars = {"ansible_play_hosts_all": ["a"], "hostvars": {"a": {"audit": baseline("compliant", [])}}}
    run({"report_dir": str(tmp_path), "result_var": "audit"}, task_vars)
    assert read_json(tmp_path)["hosts"][0]["status"] == "compliant"


def test_merge_combines_job_slices(tmp_path):
    # Two AWX job slices (each play has only its own hosts) write to one directory.
    first = {"a": baseline("drift", [control("WMI-001", "drift")]), "b": None}
    run({"report_dir": str(tmp_path), "merge": True, "formats": ["html"]}, task_vars_for(first, awx_job_id=7))
    second = {"c": baseline("compliant", [control("WMI-001", "compliant")])}
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for(second, awx_job_id=8))
    report = read_json(tmp_path)
    assert [(h["host"], h["status"], h["cause"], h["job_id"]) for h in report["hosts"]] == [
        ("a", "drift", None, "7"),
        ("b", "error", "no_result", "7"),
        ("c", "compliant", None, "8"),
    ]
    assert [run_["job_id"] for run_ in report["runs"]] == ["7", "8"]
    assert result["summary"]["host_status_counts"]["drift"] == 1
    # A later run of a host replaces its earlier entry, verdict or not.
    run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"a": None, "b": baseline("compliant", [])}))
    assert [h["status"] for h in read_json(tmp_path)["hosts"]] == ["error", "compliant", "compliant"]
    # Without merge the report is this run's alone.
    run({"report_dir": str(tmp_path)}, task_vars_for(second))
    assert [h["host"] for h in read_json(tmp_path)["hosts"]] == ["c"]


def test_merge_refuses_a_file_it_cannot_read(tmp_path):
    (tmp_path / "wmi-compliance.json").write_text('{"schema_version": "2.0", "hosts": []}', encoding="utf-8")
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"a": None}))
    assert result["failed"] is True
    assert "cannot merge with" in result["msg"] and "schema_version '2.0'" in result["msg"]
    (tmp_path / "wmi-compliance.json").write_text("{not json", encoding="utf-8")
    assert "cannot merge with" in run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({}))["msg"]


def test_fail_on_drift_fails_after_writing_and_unreachable_alone_does_not(tmp_path):
    result = run({"report_dir": str(tmp_path), "fail_on_drift": True}, task_vars_for(fleet()))
    assert result["failed"] is True
    assert result["msg"].startswith("2 host(s) have drift:")
    assert (tmp_path / "wmi-compliance.json").exists()
    records = {"a": baseline("compliant", []), "b": {"unreachable": True, "msg": "refused"}}
    result = run({"report_dir": str(tmp_path), "fail_on_drift": True}, task_vars_for(records))
    assert not result.get("failed"), result


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "missing required arguments: report_dir"),
        ({"report_dir": "/tmp/x", "formats": ["pdf"]}, "formats"),
        ({"report_dir": "/tmp/x", "colour": "red"}, "Unsupported parameters for (winsec.wmi.compliance_report)"),
    ],
)
def test_invalid_arguments_are_refused(args, message):
    result = run(args, {})
    assert result["failed"] is True
    assert message in result["msg"]


def test_an_unwritable_directory_is_a_clear_failure(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    result = run({"report_dir": str(blocker / "sub")}, task_vars_for({}))
    assert result["failed"] is True
    assert result["msg"].startswith(f"cannot write the report to {blocker / 'sub'}")


def test_a_host_unknown_to_the_inventory_has_no_result(tmp_path):
    class Undefined:
        """Stands in for what hostvars returns for a host that is not in the inventory (not a mapping)."""

    task_vars = {"ansible_play_hosts_all": ["ghost"], "hostvars": {"ghost": Undefined()}}
    result = run({"report_dir": str(tmp_path)}, task_vars)
    assert read_json(tmp_path)["hosts"][0]["cause"] == "no_result"
    assert result["msg"] == "Report written: 1 error."
    assert run({"report_dir": str(tmp_path)}, {})["msg"] == "Report written: no hosts."


def test_concurrent_merges_lose_no_host(tmp_path):
    # AWX job slices that share a report directory finish at the same time: each read-merge-write takes its turn.
    def report_one(index: int) -> None:
        records = {f"slice{index}": baseline("compliant", [control("WMI-001", "compliant")])}
        result = run({"report_dir": str(tmp_path), "merge": True, "formats": ["json"]}, task_vars_for(records))
        assert not result.get("failed"), result

    with concurrent.futures.ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(report_one, range(16)))
    assert sorted(host["host"] for host in read_json(tmp_path)["hosts"]) == sorted(f"slice{i}" for i in range(16))


def test_a_check_mode_keyword_without_check_on_the_command_line_is_check_mode(tmp_path):
    # winsec.wmi.audit sets check_mode: true on the play; ansible_check_mode (the --check flag) stays false.
    records = {"h1": {"status": "compliant", "controls": []}}
    run({"report_dir": str(tmp_path)}, task_vars_for(records, ansible_check_mode=False), check_mode=True)
    assert read_json(tmp_path)["hosts"][0]["check_mode"] is True


def test_merge_refuses_an_entry_with_an_unknown_status_naming_the_file_and_entry(tmp_path):
    run(
        {"report_dir": str(tmp_path), "merge": True}, task_vars_for({"a": baseline("drift", [control("W-1", "drift")])})
    )
    path = tmp_path / "wmi-compliance.json"
    document = read_json(tmp_path)
    document["hosts"][0]["controls"][0]["status"] = "green"
    path.write_text(json.dumps(document), encoding="utf-8")
    before = {name: (tmp_path / name).read_bytes() for name in ALL_FILES.values()}
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"b": None}))
    assert result["failed"] is True
    assert f"cannot merge with {path}" in result["msg"]
    assert "hosts[0] (host 'a'): controls[0] status 'green'" in result["msg"]
    # Nothing was written: no renderer ever saw the unknown status.
    assert {name: (tmp_path / name).read_bytes() for name in ALL_FILES.values()} == before


def test_merge_replaces_an_entry_dated_in_the_future_and_warns(tmp_path):
    path = tmp_path / "wmi-compliance.json"
    run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"a": baseline("compliant", []), "b": None}))
    document = read_json(tmp_path)
    for host in document["hosts"]:
        host["run_at"] = "2099-01-01T00:00:00.000000Z"
    path.write_text(json.dumps(document), encoding="utf-8")
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"a": None}))
    assert not result.get("failed"), result
    hosts = {h["host"]: h for h in read_json(tmp_path)["hosts"]}
    assert (hosts["a"]["cause"], hosts["a"]["run_at"] < "2099") == ("no_result", True)
    assert hosts["b"]["run_at"].startswith("2099")  # not in this run: kept
    assert len(result["warnings"]) == 1
    assert "2 host entries dated after this run (a, b)" in result["warnings"][0]


def test_a_failed_task_that_says_compliant_is_an_error_in_the_written_report(tmp_path):
    liar = baseline("compliant", [control("WMI-001", "compliant")], failed=True, msg="boom")
    result = run({"report_dir": str(tmp_path), "results": {"h": liar}}, {})
    assert not result.get("failed"), result
    assert result["summary"]["host_status_counts"]["compliant"] == 0
    assert result["summary"]["hosts_with_errors"]["names"] == ["h"]
    report = read_json(tmp_path)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert (report["hosts"][0]["status"], [c["status"] for c in report["hosts"][0]["controls"]]) == (
        "error",
        ["compliant"],
    )
    assert 'errors="1"' in (tmp_path / "wmi-compliance.junit.xml").read_text(encoding="utf-8")


class RecordingHostVars(dict):
    """Ansible's HostVars as the report sees it: raw_get gives a host's variables as stored; hostvars[host] renders
    them (which walked every value of every host's result: ~2/3 of a 200-host report's time)."""

    def __init__(self, variables: dict[str, dict[str, t.Any]]) -> None:
        super().__init__(variables)
        self.rendered: list[str] = []

    def raw_get(self, host: str) -> dict[str, t.Any]:
        return dict.__getitem__(self, host)

    def get(self, host: str, default: t.Any = None) -> t.Any:
        self.rendered.append(host)
        variables = dict.get(self, host, default)
        if variables is None:
            return None  # Ansible gives its Undefined, not a mapping
        # A variable defined as a template renders to its value here.
        return {name: "rendered" if value == "{{ template }}" else value for name, value in variables.items()}


def test_registered_results_are_read_as_stored_not_rendered_again(tmp_path):
    hostvars = RecordingHostVars(
        {
            "a": {"wmi_hardening_result": baseline("compliant", [])},
            "b": {"inventory_hostname": "b"},
            "c": {"wmi_hardening_result": "{{ template }}"},
        }
    )
    task_vars = {"ansible_play_hosts_all": ["a", "b", "c", "gone"], "hostvars": hostvars}
    run({"report_dir": str(tmp_path)}, task_vars)
    hosts = {host["host"]: host for host in read_json(tmp_path)["hosts"]}
    assert hosts["a"]["status"] == "compliant" and hosts["b"]["cause"] == "no_result"
    # Only what is not a registered result goes through rendering: a template, a host not in the inventory.
    assert hostvars.rendered == ["c", "gone"]
    assert hosts["c"]["cause"] == "invalid_result" and hosts["gone"]["cause"] == "no_result"
