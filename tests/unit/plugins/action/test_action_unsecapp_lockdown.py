# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.action import unsecapp_lockdown
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import W2000_FACTS, WS2022_FACTS


def read_reply(exists: bool, reg_type: str | None = None, data: t.Any = None, facts: dict | None = None) -> list:
    return [
        facts or WS2022_FACTS,
        {"op": "registry_read", "failed": False, "key_exists": True, "exists": exists, "type": reg_type, "data": data},
    ]


def write_reply(operations: list[dict]) -> list:
    operation = operations[0]
    expected = operation["expected"]
    before = {"exists": expected["exists"], "type": expected.get("type"), "data": expected.get("data")}
    if before["type"] == "REG_DWORD":
        before["data"] = int(before["data"])
    if operation["value_type"] == "dword":
        after = {"exists": True, "type": "REG_DWORD", "data": int(operation["data"])}
    else:
        after = {"exists": True, "type": "REG_SZ", "data": operation["data"]}
    return [{"op": "registry_write", "failed": False, "before": before, "after": after}]


def test_absent_value_is_enabled_as_dword_in_two_round_trips(run_action):
    result, target = run_action(unsecapp_lockdown, {}, [read_reply(False), write_reply])
    assert target.module_names == ["winsec.wmi.wmi_state", "winsec.wmi.wmi_state"]
    assert target.ops == [["facts", "registry_read"], ["registry_write"]]
    assert target.calls[1][0] == {
        "op": "registry_write",
        "value": "unsecapp_access_control_default",
        "data": "1",
        "value_type": "dword",
        "expected": {"exists": False},
    }
    assert result["changed"] is True
    assert result["compliant"] is True
    assert result["applicable"] is True
    assert result["before"] == {"exists": False, "type": None, "data": None, "value": 0}
    assert result["after"] == {"exists": True, "type": "REG_DWORD", "data": 1, "value": 1}
    assert result["written_type"] == "REG_DWORD"
    assert any("pre-Windows 2000" in warning for warning in result["warnings"])
    assert result["invocation"] == {"module_args": {"state": "enabled", "value_type": "auto"}}
    assert result["os"]["os_build"] == 20348


def test_compliant_dword_is_one_round_trip_and_unchanged(run_action):
    result, target = run_action(unsecapp_lockdown, {"state": "enabled"}, [read_reply(True, "REG_DWORD", 1)])
    assert target.ops == [["facts", "registry_read"]]
    assert result["changed"] is False
    assert result["compliant"] is True
    assert result["observed_type"] == "REG_DWORD"
    assert "warnings" not in result


@pytest.mark.parametrize("value_type", ["auto", "string"])
def test_reg_sz_one_is_compliant_and_keeps_its_type(run_action, value_type):
    result, target = run_action(unsecapp_lockdown, {"value_type": value_type}, [read_reply(True, "REG_SZ", "1")])
    assert len(target.calls) == 1
    assert result["changed"] is False
    assert result["compliant"] is True
    assert result["observed_type"] == "REG_SZ"
    assert result["before"]["value"] == 1


def test_reg_sz_zero_is_rewritten_as_reg_sz_with_auto(run_action):
    result, target = run_action(unsecapp_lockdown, {}, [read_reply(True, "REG_SZ", "0"), write_reply])
    assert target.calls[1][0]["value_type"] == "string"
    assert target.calls[1][0]["expected"] == {"exists": True, "type": "REG_SZ", "data": "0"}
    assert result["after"] == {"exists": True, "type": "REG_SZ", "data": "1", "value": 1}
    assert result["compliant"] is True


def test_explicit_dword_converts_reg_sz_one(run_action):
    result, target = run_action(
        unsecapp_lockdown, {"value_type": "dword"}, [read_reply(True, "REG_SZ", "1"), write_reply]
    )
    assert target.calls[1][0]["value_type"] == "dword"
    assert result["changed"] is True
    assert result["after"]["type"] == "REG_DWORD"


def test_check_mode_predicts_and_never_writes(run_action):
    result, target = run_action(unsecapp_lockdown, {}, [read_reply(True, "REG_DWORD", 0)], check_mode=True, diff=True)
    assert target.ops == [["facts", "registry_read"]]
    assert result["changed"] is True
    assert result["compliant"] is False
    assert result["after"] == {"exists": True, "type": "REG_DWORD", "data": 1, "value": 1}
    assert result["diff"]["before"].endswith("UnsecAppAccessControlDefault = REG_DWORD 0\n")
    assert result["diff"]["after"].endswith("UnsecAppAccessControlDefault = REG_DWORD 1\n")


def test_disabled_with_absent_value_creates_nothing(run_action):
    result, target = run_action(unsecapp_lockdown, {"state": "disabled", "value_type": "dword"}, [read_reply(False)])
    assert len(target.calls) == 1
    assert result["changed"] is False
    assert result["compliant"] is True


def test_non_numeric_data_is_non_compliant_and_replaced(run_action):
    result, _target = run_action(unsecapp_lockdown, {}, [read_reply(True, "REG_SZ", "yes"), write_reply])
    assert result["changed"] is True
    assert result["before"]["value"] is None
    assert any("not a number" in warning for warning in result["warnings"])


def test_pre_2003_host_is_not_applicable_and_never_written(run_action):
    result, target = run_action(unsecapp_lockdown, {}, [read_reply(False, facts=W2000_FACTS)])
    assert len(target.calls) == 1
    assert result["changed"] is False
    assert result["applicable"] is False
    assert result["compliant"] is False
    assert "semisynchronous" in result["msg"]
    assert "administrative context" in result["msg"]
    assert result["os"]["pre_2003"] is True


def test_access_denied_is_named(run_action):
    denied = {
        "op": "registry_read",
        "failed": True,
        "error": {"code": "WMI", "hresult": 2147749891, "message": "Access is denied."},
    }
    result, _target = run_action(unsecapp_lockdown, {}, [[WS2022_FACTS, denied]])
    assert result["failed"] is True
    assert "WBEM_E_ACCESS_DENIED (0x80041003)" in result["msg"]
    assert result["error"]["name"] == "WBEM_E_ACCESS_DENIED"
    assert "compliant" not in result


def test_changed_since_read_fails_cleanly(run_action):
    conflict = {"op": "registry_write", "failed": True, "error": {"code": "CHANGED_SINCE_READ", "message": "changed"}}
    result, _target = run_action(unsecapp_lockdown, {}, [read_reply(True, "REG_DWORD", 0), [conflict]])
    assert result["failed"] is True
    assert "CHANGED_SINCE_READ" in result["msg"]
    assert result["changed"] is False


def test_bad_argument_is_refused_before_any_contact(run_action):
    result, target = run_action(unsecapp_lockdown, {"state": "on"}, [])
    assert target.calls == []
    assert result["failed"] is True
    assert "state" in result["msg"] and "enabled" in result["msg"]


def test_unknown_argument_is_refused(run_action):
    result, target = run_action(unsecapp_lockdown, {"stat": "enabled"}, [], action_name="winsec.wmi.unsecapp_lockdown")
    assert target.calls == []
    assert result["msg"].startswith("Unsupported parameters for (winsec.wmi.unsecapp_lockdown) module")


def test_non_windows_connection_is_refused(run_action):
    result, target = run_action(unsecapp_lockdown, {}, [], windows=False)
    assert target.calls == []
    assert result["failed"] is True
    assert "Windows hosts only" in result["msg"]


def test_module_failure_keeps_target_details(run_action):
    reply = {"failed": True, "msg": "MODULE FAILURE", "module_stderr": "boom", "rc": 1}
    result, _target = run_action(unsecapp_lockdown, {}, [reply])
    assert result["failed"] is True
    assert "MODULE FAILURE" in result["msg"]
    assert result["target_result"]["module_stderr"] == "boom"


def test_async_is_refused_before_any_contact(monkeypatch):
    from ansible.errors import AnsibleActionFail
    from ansible_collections.winsec.wmi.tests.unit.plugins.action.conftest import Target, make_action

    plugin = make_action(unsecapp_lockdown, {})
    plugin._task.async_val = 30
    target = Target([])
    monkeypatch.setattr(plugin, "_execute_module", target)
    with pytest.raises(AnsibleActionFail, match="async"):
        plugin.run(task_vars={})
    assert target.calls == []
