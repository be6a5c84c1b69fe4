# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""compliance_report fed what winsec.wmi.baseline really returns, and a report directory someone tampered with."""

from __future__ import annotations

import csv
import io
import json
import os
import typing as t
from pathlib import Path

import jsonschema
import pytest
from ansible_collections.winsec.wmi.plugins.action import baseline, compliance_report
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.action.test_action_baseline import DRIFTING_HOST
from ansible_collections.winsec.wmi.tests.unit.plugins.action.test_action_compliance_report import (
    read_json,
    run,
    task_vars_for,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import (
    baseline as baseline_record,
)
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._report.report_fleet import control, fleet, schema

CAPTION = "Microsoft Windows Server 2022 Datacenter"


def real_baseline_result(args: dict[str, t.Any], replies: list[t.Any], *, check_mode: bool = True) -> dict[str, t.Any]:
    """What a host registers from winsec.wmi.baseline: the real action, with a replayed wmi_state."""
    action = make_action(baseline, args, check_mode=check_mode, action_name="winsec.wmi.baseline")
    action._execute_module = Target(replies)
    return action.run(task_vars={})


def test_the_os_the_baseline_returns_is_shown_in_every_format(tmp_path):
    results = {
        "web01": real_baseline_result({"mode": "audit"}, [DRIFTING_HOST]),
        "nt4": real_baseline_result({"mode": "audit", "inventory_os": "Windows NT 4.0"}, []),
    }
    assert results["web01"]["os"]["os_caption"] == CAPTION, results["web01"]["os"]
    result = run({"report_dir": str(tmp_path)}, task_vars_for(results), check_mode=True)
    assert not result.get("failed"), result
    html = (tmp_path / "wmi-compliance.html").read_text(encoding="utf-8")
    junit = (tmp_path / "wmi-compliance.junit.xml").read_text(encoding="utf-8")
    rows = list(csv.DictReader(io.StringIO((tmp_path / "wmi-compliance.csv").read_text(encoding="utf-8-sig"))))
    markdown = (tmp_path / "wmi-compliance.md").read_text(encoding="utf-8")
    for text in (html, junit, markdown):
        assert f"{CAPTION} (10.0.20348)" in text
    assert {row["os"] for row in rows if row["host"] == "web01"} == {f"{CAPTION} (10.0.20348)"}
    # The inventory-only host: its family, and that it was never contacted.
    assert {row["os"] for row in rows if row["host"] == "nt4"} == {"Windows NT 4.0 (from inventory, not contacted)"}
    assert "Windows Server 2003 or later" not in html


def test_every_control_key_a_renderer_reads_is_one_the_baseline_returns():
    record = real_baseline_result({"mode": "audit", "evidence": True}, [DRIFTING_HOST])
    # The keys compliance_report normalises (and the renderers read); 'reason' and 'evidence' only when set.
    read = {"id", "title", "severity", "status", "expected", "actual", "findings", "remediation", "references"}
    for item in record["controls"]:
        assert read | {"changes"} <= set(item), item["id"]
        assert set(item["remediation"]) == {"automatic", "text"}
    assert {"os_caption", "os_version", "os_build"} <= set(record["os"])


def test_evidence_reaches_the_json_and_the_html_shows_the_sddl(tmp_path):
    record = real_baseline_result({"mode": "audit", "evidence": True}, [DRIFTING_HOST])
    without = real_baseline_result({"mode": "audit"}, [DRIFTING_HOST])
    run({"report_dir": str(tmp_path / "with")}, task_vars_for({"web01": record}))
    run({"report_dir": str(tmp_path / "without")}, task_vars_for({"web01": without}))
    report = read_json(tmp_path / "with")
    jsonschema.Draft202012Validator(schema()).validate(report)
    wmi004 = next(item for item in report["hosts"][0]["controls"] if item["id"] == "WMI-004")
    sddl = wmi004["evidence"]["root\\cimv2"]
    assert sddl.startswith("O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)")
    assert "evidence" not in json.dumps(read_json(tmp_path / "without"))
    html = (tmp_path / "with" / "wmi-compliance.html").read_text(encoding="utf-8")
    assert "(A;CI;CCDCLCSWRPWP;;;WD)" in html


# --- the report directory -------------------------------------------------------------------------------------------


def test_a_symlink_planted_at_the_lock_is_refused_and_its_target_untouched(tmp_path):
    victim = tmp_path / "victim.txt"
    victim.write_text("precious", encoding="utf-8")
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    (report_dir / ".wmi-compliance.lock").symlink_to(victim)
    result = run({"report_dir": str(report_dir)}, task_vars_for(fleet()))
    assert result["failed"] is True and "lock file" in result["msg"] and "symbolic link" in result["msg"]
    assert victim.read_text(encoding="utf-8") == "precious"
    assert sorted(path.name for path in report_dir.iterdir()) == [".wmi-compliance.lock"]


def test_an_existing_lock_file_is_not_truncated(tmp_path):
    (tmp_path / ".wmi-compliance.lock").write_text("kept", encoding="utf-8")
    assert not run({"report_dir": str(tmp_path)}, task_vars_for(fleet())).get("failed")
    assert (tmp_path / ".wmi-compliance.lock").read_text(encoding="utf-8") == "kept"


@pytest.mark.parametrize("kind", ["fifo", "device", "directory", "huge"])
def test_a_merge_input_that_is_not_a_small_regular_file_is_refused(tmp_path, kind, monkeypatch):
    report_dir = tmp_path / "reports"
    report_dir.mkdir()
    target = report_dir / "wmi-compliance.json"
    if kind == "fifo":
        os.mkfifo(target)  # opening it for reading would block every slice for ever
    elif kind == "device":
        target.symlink_to("/dev/zero")  # reading it never ends
    elif kind == "directory":
        target.mkdir()
    else:
        monkeypatch.setattr(compliance_report, "MAX_REPORT_BYTES", 1000)
        target.write_text(" " * 1001, encoding="utf-8")
    result = run({"report_dir": str(report_dir), "merge": True}, task_vars_for({"a": None}))
    assert result["failed"] is True
    assert f"cannot merge with {target}" in result["msg"]
    assert ("bytes is more than" if kind == "huge" else "not a regular file") in result["msg"]
    assert sorted(path.name for path in report_dir.iterdir()) == [".wmi-compliance.lock", "wmi-compliance.json"]


def earlier_report(tmp_path: Path) -> dict[str, t.Any]:
    run(
        {"report_dir": str(tmp_path)}, task_vars_for({"old01": baseline_record("drift", [control("WMI-002", "drift")])})
    )
    return read_json(tmp_path)


def _tamper_rights(report: dict[str, t.Any]) -> str:
    report["hosts"][0]["controls"][0]["findings"] = [{"id": "x", "severity": "high", "message": "m", "rights": [1]}]
    return "findings[0] rights is not a list of texts"


def _tamper_surrogate(report: dict[str, t.Any]) -> str:
    report["hosts"][0]["controls"][0]["title"] = "lone \ud800 surrogate"
    return "lone UTF-16 surrogate"


def _tamper_nesting(report: dict[str, t.Any]) -> str:
    nested: t.Any = "deep"
    for _level in range(40):
        nested = [nested]
    report["hosts"][0]["controls"][0]["actual"] = nested
    return "nests deeper than"


def _tamper_types(report: dict[str, t.Any]) -> str:
    report["hosts"][0]["os"] = "Windows"
    return "os is not a mapping"


def _tamper_extra_key(report: dict[str, t.Any]) -> str:
    report["hosts"][0]["controls"][0]["injected"] = "<script>"
    return "keys the report schema does not know"


@pytest.mark.parametrize(
    "tamper", [_tamper_rights, _tamper_surrogate, _tamper_nesting, _tamper_types, _tamper_extra_key]
)
def test_a_tampered_earlier_report_is_refused_before_anything_is_written(tmp_path, tamper):
    report = earlier_report(tmp_path)
    expected = tamper(report)
    # ensure_ascii keeps a lone surrogate writable as \ud800, as an attacker's editor would write it.
    text = json.dumps(report, ensure_ascii=True)
    (tmp_path / "wmi-compliance.json").write_text(text, encoding="utf-8")
    for name in ("wmi-compliance.html", "wmi-compliance.csv"):
        (tmp_path / name).unlink()
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for(fleet()))
    assert result["failed"] is True, result
    assert f"cannot merge with {tmp_path / 'wmi-compliance.json'}" in result["msg"]
    assert "hosts[0] (host 'old01')" in result["msg"] and expected in result["msg"]
    assert (tmp_path / "wmi-compliance.json").read_text(encoding="utf-8") == text
    assert not (tmp_path / "wmi-compliance.html").exists() and not (tmp_path / "wmi-compliance.csv").exists()


def test_fifty_thousand_nesting_levels_are_refused_not_a_crash(tmp_path):
    (tmp_path / "wmi-compliance.json").write_text("[" * 50_000 + "]" * 50_000, encoding="utf-8")
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for(fleet()))
    assert result["failed"] is True and "nests too deep" in result["msg"]


def test_a_result_nesting_deeply_or_with_a_lone_surrogate_still_renders_every_format(tmp_path):
    nested: t.Any = "deep"
    for _level in range(5_000):
        nested = {"n": nested}
    record = baseline_record(
        "drift", [control("WMI-002", "drift", actual=nested, title="bad \udc80 byte", findings=[])]
    )
    result = run({"report_dir": str(tmp_path)}, task_vars_for({"h\udcff": record}))
    assert not result.get("failed"), result
    report = read_json(tmp_path)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert report["hosts"][0]["host"] == "h\\udcff"
    assert "\\udc80" in (tmp_path / "wmi-compliance.html").read_text(encoding="utf-8")


def test_the_merged_output_is_valid_against_the_shipped_schema(tmp_path):
    run({"report_dir": str(tmp_path)}, task_vars_for(fleet()))
    record = real_baseline_result({"mode": "audit", "evidence": True}, [DRIFTING_HOST])
    assert not run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"new01": record})).get("failed")
    report = read_json(tmp_path)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert len(report["hosts"]) == len(fleet()) + 1


# --- retention and the change since an earlier report ----------------------------------------------------------------


def _age(report_dir: Path, host: str, run_at: str) -> None:
    """Make one entry of the report on disk look older (as a run weeks ago would have written it)."""
    report = read_json(report_dir)
    for entry in report["hosts"]:
        if entry["host"] == host:
            entry["run_at"] = run_at
    (report_dir / "wmi-compliance.json").write_text(json.dumps(report), encoding="utf-8")


def test_a_merge_drops_entries_older_than_max_age_days_and_says_what_is_carried_over(tmp_path):
    drift = baseline_record("drift", [control("WMI-001", "drift")])
    run({"report_dir": str(tmp_path)}, task_vars_for({"decommissioned": drift, "slice2": drift, "web01": drift}))
    _age(tmp_path, "decommissioned", "2020-01-01T00:00:00.000000Z")
    result = run({"report_dir": str(tmp_path), "merge": True}, task_vars_for({"web01": None}))
    assert not result.get("failed"), result
    report = read_json(tmp_path)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert [host["host"] for host in report["hosts"]] == ["slice2", "web01"]
    assert report["carried_over"]["hosts"] == 1 and report["carried_over"]["dropped"] == 1
    assert result["carried_over"] == report["carried_over"] and report["carried_over"]["max_age_days"] == 30
    assert "1 hosts from this run, <strong>1 carried over</strong>" in (tmp_path / "wmi-compliance.html").read_text(
        encoding="utf-8"
    )
    assert "1 carried over from earlier runs" in (tmp_path / "wmi-compliance.md").read_text(encoding="utf-8")


def test_max_age_days_zero_keeps_every_earlier_entry(tmp_path):
    run(
        {"report_dir": str(tmp_path)}, task_vars_for({"old": baseline_record("compliant", [control("W", "compliant")])})
    )
    _age(tmp_path, "old", "2020-01-01T00:00:00.000000Z")
    run({"report_dir": str(tmp_path), "merge": True, "max_age_days": 0}, task_vars_for({"new": None}))
    assert [host["host"] for host in read_json(tmp_path)["hosts"]] == ["new", "old"]


def test_previous_compares_with_the_report_about_to_be_replaced(tmp_path):
    run(
        {"report_dir": str(tmp_path)}, task_vars_for({"web01": baseline_record("drift", [control("WMI-001", "drift")])})
    )
    fixed = baseline_record("compliant", [control("WMI-001", "compliant")])
    args = {"report_dir": str(tmp_path), "previous": str(tmp_path / "wmi-compliance.json")}
    result = run(
        args, task_vars_for({"web01": fixed, "app02": baseline_record("drift", [control("WMI-001", "drift")])})
    )
    assert not result.get("failed"), result
    report = read_json(tmp_path)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert result["changes_since"]["counts"] == {"new": 1, "fixed": 1, "changed": 0, "unchanged": 0, "gone": 0}
    assert {(e["host"], e["change"]) for e in report["changes_since"]["entries"]} == {
        ("web01", "fixed"),
        ("app02", "new"),
    }
    assert 'class="delta-fixed"' in (tmp_path / "wmi-compliance.html").read_text(encoding="utf-8")
    assert "| web01 | WMI-001 | fixed | drift | compliant |" in (tmp_path / "wmi-compliance.md").read_text(
        encoding="utf-8"
    )


def test_a_missing_previous_report_warns_and_an_invalid_one_fails_before_writing(tmp_path):
    result = run({"report_dir": str(tmp_path), "previous": str(tmp_path / "none.json")}, task_vars_for(fleet()))
    assert not result.get("failed") and "does not exist" in result["warnings"][0]
    assert "changes_since" not in read_json(tmp_path)
    (tmp_path / "bad.json").write_text('{"schema_version": "1.0", "hosts": [{"host": 1}]}', encoding="utf-8")
    before = (tmp_path / "wmi-compliance.json").read_text(encoding="utf-8")
    result = run({"report_dir": str(tmp_path), "previous": str(tmp_path / "bad.json")}, task_vars_for({"a": None}))
    assert (
        result["failed"] is True and f"cannot compare with the previous report {tmp_path / 'bad.json'}" in result["msg"]
    )
    assert (tmp_path / "wmi-compliance.json").read_text(encoding="utf-8") == before


def test_the_exceptions_option_is_in_the_json_and_valid_against_the_schema(tmp_path):
    exceptions = [{"control": "WMI-004", "reason": "CHG-42", "expires": "2099-12-31"}]
    result = run({"report_dir": str(tmp_path), "exceptions": exceptions}, task_vars_for(fleet()))
    assert not result.get("failed"), result
    report = read_json(tmp_path)
    jsonschema.Draft202012Validator(schema()).validate(report)
    assert report["exceptions"] == [
        {"control": "WMI-004", "namespace": None, "principal": None, "reason": "CHG-42", "expires": "2099-12-31",
         "expired": False}
    ]  # fmt: skip
