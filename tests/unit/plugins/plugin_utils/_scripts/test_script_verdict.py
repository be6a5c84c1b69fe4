# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""WMI-010/WMI-011 never call a host compliant about a file they did not fully scan; the host's ANSI code page and
its unread directories are consumed; the script budgets are stated once."""

from __future__ import annotations

import base64
import pathlib

import pytest
import yaml
from ansible_collections.winsec.wmi.plugins.modules import baseline as baseline_docs
from ansible_collections.winsec.wmi.plugins.modules import script_audit as script_audit_docs
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_audit import (
    DEFAULT_MAX_FILE_BYTES,
    DEFAULT_MAX_FILES,
    DEFAULT_MAX_TOTAL_BYTES,
    NOT_SCANNED,
    AdsiScriptAudit,
    AsyncScriptAudit,
    ScriptAudit,
    script_files,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_lexers import ansi_codec, decode_script
from ansible_collections.winsec.wmi.plugins.plugin_utils._scripts._script_scan import ScriptFile, scan_files

MODULES = pathlib.Path(script_audit_docs.__file__).parent
CLEAN = b"WScript.Echo 1\r\n"


def entry(path, content, **extra):
    return {
        "path": path,
        "size": len(content),
        "content": base64.b64encode(content).decode(),
        "truncated": False,
        "error": None,
        **extra,
    }


# Every way a listed script can end up not fully scanned (the host's reply entry for it).
NOT_FULLY_SCANNED = {
    "over max_file_bytes": {"path": "C:\\S\\big.vbs", "size": 1153434, "content": None, "truncated": True},
    "binary (240 control bytes in a comment)": entry("C:\\S\\pad.vbs", b"' " + bytes(range(1, 9)) * 30 + b"\r\n"),
    "encoded": entry("C:\\S\\enc.vbe", b"#@~^AAAA==abc^#~@"),
    "BUDGET": {
        "path": "C:\\S\\late.vbs",
        "size": 10,
        "content": None,
        "truncated": False,
        "error": {"code": "BUDGET", "hresult": None, "message": "not read"},
    },
    "read error": {
        "path": "C:\\S\\locked.vbs",
        "size": 10,
        "content": None,
        "truncated": False,
        "error": {"code": "ACCESS_DENIED", "hresult": -2147024891, "message": "Access is denied"},
    },
    "content not base64": {**entry("C:\\S\\x.vbs", CLEAN), "content": "***"},
}


@pytest.mark.parametrize("control_class", [AdsiScriptAudit, AsyncScriptAudit, ScriptAudit])
@pytest.mark.parametrize("case", sorted(NOT_FULLY_SCANNED))
def test_a_file_not_fully_scanned_makes_the_control_error_and_is_a_finding(control_class, case):
    listing = {"files": [entry("C:\\S\\ok.vbs", CLEAN), NOT_FULLY_SCANNED[case]], "stopped": None}
    control = control_class(["C:\\S"])
    decision = control.decision(scan_files(script_files(listing), lockdown=True, rules=control.rules), lockdown=True)
    assert decision.status == "error"
    assert decision.result["compliant"] is False
    (missed,) = [finding for finding in decision.findings if finding["id"] == NOT_SCANNED]
    assert missed["file"] == NOT_FULLY_SCANNED[case]["path"]
    assert missed["file"] in missed["message"] and missed["message"].count(":") >= 2  # file: status: reason
    assert NOT_FULLY_SCANNED[case]["path"] in decision.reason


def test_findings_and_an_unscanned_file_are_error_with_the_findings_kept():
    adsi = b'Set c = GetObject("LDAP://CN=X,DC=corp")\r\nWScript.Echo c.WMIObjectPath\r\n'
    listing = {"files": [entry("C:\\S\\a.vbs", adsi), NOT_FULLY_SCANNED["over max_file_bytes"]]}
    control = AdsiScriptAudit(["C:\\S"])
    decision = control.decision(scan_files(script_files(listing), rules=control.rules), lockdown=None)
    assert decision.status == "error"
    assert [finding["id"] for finding in decision.findings] == ["adsi_wmi_extension", NOT_SCANNED]


def test_a_missing_path_and_a_non_script_file_are_not_unscanned_scripts():
    listing = {
        "files": [
            entry("C:\\S\\ok.vbs", CLEAN),
            entry("C:\\S\\readme.txt", b"GetWMIObject"),
            {
                "path": "C:\\Gone",
                "size": None,
                "content": None,
                "truncated": False,
                "error": {"code": "NOT_FOUND", "hresult": None, "message": "'C:\\Gone' does not exist"},
            },
        ]
    }
    control = ScriptAudit(["C:\\S", "C:\\Gone"])
    decision = control.decision(scan_files(script_files(listing), rules=control.rules), lockdown=True)
    assert decision.status == "compliant"


def test_the_time_budget_ends_in_a_named_error_not_a_long_run():
    ticks = iter(range(100))
    files = [ScriptFile(f"s{index}.vbs", len(CLEAN), CLEAN) for index in range(5)]
    scan = scan_files(files, time_budget=2, clock=lambda: float(next(ticks)))
    assert [record["status"] for record in scan.files] == ["scanned", "scanned", "error", "error", "error"]
    assert all("scan time budget exceeded" in record["message"] for record in scan.files[2:])
    assert any("time budget exceeded" in limit for limit in scan.limits)
    decision = ScriptAudit(["C:\\S"]).decision(scan, lockdown=True)
    assert decision.status == "error" and "scan time budget exceeded" in decision.reason


def test_unread_entries_are_unscanned_and_read_defensively():
    listing = {
        "files": [entry("C:\\S\\ok.vbs", CLEAN)],
        "unread": [
            {"path": "C:\\S\\Private", "kind": "directory", "error": {"code": "ACCESS_DENIED", "message": "denied"}},
            {"path": "C:\\S\\x.vbs", "kind": "file", "error": "sharing violation"},
            "not a mapping",
        ],
    }
    files = script_files(listing)
    assert [(f.path, f.error) for f in files[1:]] == [
        ("C:\\S\\Private", "UNREAD directory: ACCESS_DENIED: denied"),
        ("C:\\S\\x.vbs", "UNREAD file: sharing violation"),
    ]
    decision = ScriptAudit(["C:\\S"]).decision(scan_files(files), lockdown=True)
    assert decision.status == "error"
    assert {f["file"] for f in decision.findings if f["id"] == NOT_SCANNED} == {"C:\\S\\Private", "C:\\S\\x.vbs"}
    assert script_files({"files": []}) == []  # an older target: no unread key


def test_ansi_scripts_decode_with_the_hosts_code_page():
    cyrillic = '\' Проверка\r\nSet c = GetObject("LDAP://CN=Сервер,DC=corp")\r\nWScript.Echo c.WMIObjectPath\r\n'
    data = cyrillic.encode("cp1251")
    text, encoding = decode_script(data, 1251)
    assert (text, encoding) == (cyrillic, "cp1251")
    assert decode_script(data)[1] == "cp1252"  # no code page: the documented default
    listing = {"files": [entry("C:\\S\\ru.vbs", data)], "ansi_code_page": 1251}
    control = AdsiScriptAudit(["C:\\S"])
    scan = scan_files(script_files(listing), rules=control.rules, code_page=listing["ansi_code_page"])
    assert [(finding["line"], finding["finding_id"]) for finding in scan.findings] == [(3, "adsi_wmi_extension")]


@pytest.mark.parametrize(("code_page", "codec"), [(1251, "cp1251"), (932, "cp932"), (None, "cp1252")])
def test_ansi_codec_falls_back_to_cp1252(code_page, codec):
    assert ansi_codec(code_page) == codec
    assert ansi_codec(99999) == ansi_codec("1251") == ansi_codec(True) == "cp1252"


def _option_defaults(documentation, *path):
    options = yaml.safe_load(documentation)["options"]
    for name in path:
        options = options[name]["suboptions"]
    return options


def test_the_script_budget_defaults_are_stated_once():
    expected = {
        "max_file_bytes": DEFAULT_MAX_FILE_BYTES,
        "max_total_bytes": DEFAULT_MAX_TOTAL_BYTES,
        "max_files": DEFAULT_MAX_FILES,
    }
    module = _option_defaults(script_audit_docs.DOCUMENTATION)
    assert {name: module[name]["default"] for name in expected} == expected
    baseline = _option_defaults(baseline_docs.DOCUMENTATION, "scripts")
    assert {name: baseline[name]["default"] for name in expected} == expected
    wmi_state = yaml.safe_load((MODULES / "wmi_state.yml").read_text())["DOCUMENTATION"]["options"]
    operation = wmi_state["operations"]["suboptions"]
    assert {name: operation[name]["default"] for name in ("max_bytes", "max_total_bytes", "max_files")} == {
        "max_bytes": DEFAULT_MAX_FILE_BYTES,
        "max_total_bytes": DEFAULT_MAX_TOTAL_BYTES,
        "max_files": DEFAULT_MAX_FILES,
    }
    control = ScriptAudit(["C:\\S"])
    assert control.budget == {
        "max_bytes": DEFAULT_MAX_FILE_BYTES,
        "max_total_bytes": DEFAULT_MAX_TOTAL_BYTES,
        "max_files": DEFAULT_MAX_FILES,
    }
