# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.script_audit: one round trip on a host (replayed wmi_state), a controller-side src scan, SARIF."""

from __future__ import annotations

import base64
import json
import pathlib

import jsonschema
import pytest
from ansible_collections.winsec.wmi.plugins.action import script_audit
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import read_host
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_audit import AdsiScriptAudit, AsyncScriptAudit
from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import make_action
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import W2000_FACTS, WS2022_FACTS, FakeWmiCaller
from ansible_collections.winsec.wmi.tests.unit.plugins.plugin_utils._scripts.script_corpus_files import materialize

SCHEMA = json.loads(
    (pathlib.Path(__file__).parents[1] / "plugin_utils" / "_scripts" / "sarif" / "sarif-2.1.0-rtm.5.json").read_text()
)
ADSI_VBS = b'Set c = GetObject("LDAP://CN=APP03,DC=corp")\r\nWScript.Echo c.WMIObjectPath\r\n'
ASYNC_JS = "var s = WScript.CreateObject('WbemScripting.SWbemSink', 'SINK_');\r\nsvc.ExecQueryAsync(s, 'q');\r\n"


def entry(path, content, **extra):
    data = {"path": path, "size": len(content), "content": base64.b64encode(content).decode(), "truncated": False}
    return {**data, "error": None, **extra}


def reply(unsecapp_data, files, facts=None, stopped=None):
    exists = unsecapp_data is not None
    return [
        facts or WS2022_FACTS,
        {
            "op": "registry_read",
            "failed": False,
            "key_exists": True,
            "exists": exists,
            "type": "REG_DWORD" if exists else None,
            "data": unsecapp_data,
        },
        {"op": "script_files", "failed": False, "files": files, "stopped": stopped},
    ]


FILES = [
    entry("C:\\Scripts\\inventory.vbs", ADSI_VBS),
    entry("C:\\Scripts\\procs.js", ASYNC_JS.encode("utf-16-le"), size=10),
    {"path": "C:\\Scripts\\big.vbs", "size": 5000000, "content": None, "truncated": True, "error": None},
]


def validate_sarif(path):
    log = json.loads(pathlib.Path(path).read_text())
    jsonschema.Draft4Validator(SCHEMA).validate(log)
    return log


@pytest.mark.parametrize(("unsecapp", "async_severity"), [(None, "high"), (1, "low")])
def test_host_scan_in_one_round_trip_with_host_dependent_severity(run_action, tmp_path, unsecapp, async_severity):
    sarif = tmp_path / "out" / "web01.sarif"
    args = {"paths": ["C:\\Scripts"], "max_total_bytes": 4096, "sarif_path": str(sarif)}
    result, target = run_action(script_audit, args, [reply(unsecapp, FILES)], check_mode=True)
    assert target.ops == [["facts", "registry_read", "script_files"]]
    assert target.calls[0][2] == {
        "op": "script_files",
        "paths": ["C:\\Scripts"],
        "patterns": ["*.vbs", "*.vbe", "*.wsf", "*.js", "*.jse", "*.ps1", "*.psm1"],
        "max_bytes": 1048576,
        "max_total_bytes": 4096,
        "max_files": 1000,
    }
    assert [(f["file"], f["line"], f["finding_id"], f["severity"]) for f in result["findings"]] == [
        ("C:\\Scripts\\inventory.vbs", 2, "adsi_wmi_extension", "medium"),
        ("C:\\Scripts\\procs.js", 1, "async_wmi_sink", async_severity),
        ("C:\\Scripts\\procs.js", 2, "async_wmi_call", async_severity),
    ]
    assert result["changed"] is False and result["compliant"] is False  # the ADSI finding drifts on every host
    assert result["unsecapp_lockdown"] is (unsecapp == 1)
    assert any("authenticated callbacks" in warning for warning in result.get("warnings", [])) is (unsecapp == 1)
    assert [record["status"] for record in result["files"]] == ["scanned", "scanned", "too_large"]
    assert any("big.vbs" in warning for warning in result["warnings"])
    log = validate_sarif(sarif)
    results = log["runs"][0]["results"]
    assert [r["ruleId"] for r in results] == ["adsi_wmi_extension", "async_wmi_sink", "async_wmi_call"]
    assert results[0]["locations"][0]["physicalLocation"]["artifactLocation"] == {
        "uri": "file:///C:/Scripts/inventory.vbs"
    }
    assert results[1]["level"] == ("error" if async_severity == "high" else "note")
    assert result["sarif_path"] == str(sarif)


def test_async_scripts_on_a_locked_down_host_are_compatibility_warnings_not_drift(run_action):
    args = {"paths": ["C:\\Scripts"], "rules": ["async"]}
    read_files = FILES[:2]  # big.vbs (not read: too large) would make the verdict error
    locked, _target = run_action(script_audit, args, [reply(1, read_files)])
    assert locked["compliant"] is True and len(locked["findings"]) == 2
    assert any("pre-Windows 2000" in warning for warning in locked["warnings"])
    open_host, _target = run_action(script_audit, args, [reply(0, read_files)])
    assert open_host["compliant"] is False


def test_rules_narrow_the_findings(run_action):
    result, _target = run_action(script_audit, {"paths": ["C:\\Scripts"], "rules": ["adsi"]}, [reply(None, FILES)])
    assert [f["finding_id"] for f in result["findings"]] == ["adsi_wmi_extension"]


def test_pre_2003_hosts_have_no_unsecapp_check_so_async_is_high(run_action):
    result, _target = run_action(script_audit, {"paths": ["C:\\Scripts"]}, [reply(1, FILES, facts=W2000_FACTS)])
    assert {f["severity"] for f in result["findings"] if f["finding_id"].startswith("async")} == {"high"}


def test_a_budget_stop_is_said_and_never_compliant(run_action):
    files = [
        entry("C:\\Scripts\\a.vbs", b"x = 1\r\n"),
        {
            **entry("C:\\Scripts\\b.vbs", b"y"),
            "content": None,
            "error": {"code": "BUDGET", "hresult": None, "message": "not read"},
        },
    ]
    result, _target = run_action(script_audit, {"paths": ["C:\\Scripts"]}, [reply(1, files, stopped="max_total_bytes")])
    assert result["findings"] == [] and result["compliant"] is False
    assert any("max_total_bytes" in warning for warning in result["warnings"])
    assert len(result["limits"]) == 1 and "max_total_bytes" in result["limits"][0]


def test_baseline_controls_share_one_read_and_split_the_findings():
    # Every file read: the verdict is drift (big.vbs, not read, would make it error).
    caller = FakeWmiCaller(lambda _operations: reply(0, FILES[:2]), check_mode=True)
    controls = [AdsiScriptAudit(["C:\\Scripts"]), AsyncScriptAudit(["C:\\Scripts"])]
    _host, runs = read_host(caller, controls, enforce=False)
    assert [[op["op"] for op in call] for call in caller.calls] == [["facts", "registry_read", "script_files"]]
    adsi, async_ = (run.control.outcome(run.decision) for run in runs)
    assert (adsi["id"], adsi["status"], [f["id"] for f in adsi["findings"]]) == (
        "WMI-010",
        "drift",
        ["adsi_wmi_extension"],
    )
    assert (async_["id"], async_["status"]) == ("WMI-011", "drift")
    assert {f["id"] for f in async_["findings"]} == {"async_wmi_sink", "async_wmi_call"}
    assert async_["findings"][0]["file"] == "C:\\Scripts\\procs.js" and async_["findings"][0]["line"] == 1
    assert async_["findings"][0]["message"].startswith("C:\\Scripts\\procs.js:1:")


def test_src_scan_never_touches_the_connection(tmp_path, monkeypatch):
    plugin = make_action(
        script_audit,
        {"src": str(materialize(tmp_path)), "sarif_path": str(tmp_path / "corpus.sarif")},
        windows=False,
    )

    def no_module(*args, **kwargs):
        raise AssertionError("src must not run a module on the host")

    monkeypatch.setattr(plugin, "_execute_module", no_module)
    result = plugin.run(task_vars={})
    assert not result.get("failed"), result
    # 61 corpus findings, plus oversized.vbs's: the default max_file_bytes (1 MiB) reads it
    assert result["summary"]["findings"] == 62
    assert any(f["file"] == "other/oversized.vbs" and f["line"] == 903 for f in result["findings"])
    assert result["unsecapp_lockdown"] is None
    assert {f["severity"] for f in result["findings"] if f["finding_id"] == "async_wmi_call"} == {"medium"}
    assert plugin._connection.method_calls == []
    log = validate_sarif(tmp_path / "corpus.sarif")
    run = log["runs"][0]
    assert run["originalUriBaseIds"]["SRCROOT"]["uri"].startswith("file:///")
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uriBaseId"] for r in run["results"]} == {
        "SRCROOT"
    }
    notes = [n["message"]["text"] for n in run["invocations"][0]["toolExecutionNotifications"]]
    assert any("encoded.vbe" in note for note in notes) and any("binary.vbs" in note for note in notes)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ({}, "one of the following is required: paths, src"),
        ({"paths": ["C:\\x"], "src": "/tmp"}, "mutually exclusive"),
        ({"src": "/nonexistent/scripts"}, "does not exist on the controller"),
        ({"src": "/tmp", "rules": []}, "rules must name at least one"),
    ],
)
def test_bad_arguments_fail_with_a_message(args, message, monkeypatch):
    plugin = make_action(script_audit, args)
    monkeypatch.setattr(plugin, "_execute_module", lambda *a, **k: pytest.fail("no host call expected"))
    result = plugin.run(task_vars={})
    assert result["failed"] is True
    assert message in result["msg"]


def test_repository_budgets(tmp_path):
    for index in range(5):
        (tmp_path / f"s{index}.vbs").write_bytes(b"x = 1\r\n" * 10)
    files, stopped = script_audit.read_repository(str(tmp_path), ["*.vbs"], 1000, 10**6, 3)
    assert (len(files), stopped) == (3, "max_files")
    files, stopped = script_audit.read_repository(str(tmp_path), ["*.VBS"], 1000, 150, 100)
    assert stopped == "max_total_bytes"
    assert [f.content is not None for f in files] == [True, True, False]
    assert files[-1].error.startswith("BUDGET")
