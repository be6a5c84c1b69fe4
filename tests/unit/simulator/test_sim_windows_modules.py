"""The ansible.windows emulations (win_ping, setup, win_reg_stat, win_regedit) and their argument specs."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.dispatch import execute
from simulator.fleet import Fleet
from simulator.host import Host
from simulator.payload import ModuleCall

KEY = "HKLM:\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"


def run(host: Host, module: str, check: bool = False, diff: bool = False, admin: bool = True, **args: Any) -> dict:
    caller = next(c for c in host.callers.values() if c.admin is admin)
    call = ModuleCall(
        module=module,
        args={**args, "_ansible_check_mode": check, "_ansible_diff": diff, "_ansible_module_name": module},
        payload_format="legacy_json",
    )
    return execute(host, caller, call).result


def test_win_ping(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    assert run(host, "ansible.windows.win_ping")["ping"] == "pong"
    assert run(host, "ping", data="x")["ping"] == "x"  # <= 2.18 name before the Windows rewrite
    assert run(host, "ansible.windows.win_ping", data="crash")["failed"] is True
    assert run(host, "ansible.windows.win_ping", nope=1)["msg"].startswith("SIMULATOR ARGSPEC MISMATCH")


def test_setup_facts_per_os(small_fleet: Fleet) -> None:
    modern = run(small_fleet.hosts["ws2022"], "ansible.legacy.setup", gather_subset=["all"])
    facts = modern["ansible_facts"]
    assert facts["ansible_os_family"] == "Windows"
    assert facts["ansible_distribution"] == "Microsoft Windows Server 2022 Datacenter"
    assert facts["ansible_windows_domain_member"] is True and facts["ansible_fqdn"] == "ws2022.corp.example.com"
    assert facts["ansible_windows_domain_role"] == "Member server"
    assert "warnings" not in modern
    old = run(small_fleet.hosts["w2000"], "ansible.windows.setup", gather_timeout=5, some_future_option="x")
    assert old["ansible_facts"]["ansible_architecture"] == "32-bit"
    assert old["warnings"] == ["The Windows version '5.0' is no longer supported or tested by Ansible."]


def test_win_reg_stat(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2003"]
    value = run(host, "ansible.windows.win_reg_stat", path=KEY, name="unsecappaccesscontroldefault")
    assert value == {**value, "exists": True, "type": "REG_SZ", "value": "1", "raw_value": "1", "changed": False}
    key = run(host, "ansible.windows.win_reg_stat", key="HKLM:\\SOFTWARE\\Microsoft\\WBEM")
    assert key["exists"] is True and key["sub_keys"] == ["CIMOM"]
    assert key["properties"] == {}
    assert run(host, "ansible.windows.win_reg_stat", path="HKLM:\\SOFTWARE\\Nope")["exists"] is False
    assert "not a valid registry path" in run(host, "ansible.windows.win_reg_stat", path="C:\\x")["msg"]
    assert run(host, "ansible.windows.win_reg_stat")["msg"].startswith("SIMULATOR ARGSPEC MISMATCH")


def test_win_regedit_check_mode_diff_apply_idempotence_and_absent(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    args: dict[str, Any] = {"path": KEY, "name": "UnsecAppAccessControlDefault", "data": "0x1", "type": "dword"}
    checked = run(host, "ansible.windows.win_regedit", check=True, diff=True, **args)
    assert checked["changed"] is True
    assert checked["diff"] == {
        "before": {KEY: {}},
        "after": {KEY: {"UnsecAppAccessControlDefault": {"type": "DWord", "value": "0x00000001"}}},
    }
    assert host.registry.get(KEY, "UnsecAppAccessControlDefault") is None and host.counters.writes["registry"] == 0
    assert run(host, "ansible.windows.win_regedit", **args)["changed"] is True
    assert run(host, "ansible.windows.win_regedit", **args)["changed"] is False
    retype = run(host, "ansible.windows.win_regedit", path=KEY, name="UnsecAppAccessControlDefault", data="1")
    assert retype["data_type_changed"] is True and retype["data_changed"] is True
    gone = run(
        host, "ansible.windows.win_regedit", diff=True, path=KEY, name="UnsecAppAccessControlDefault", state="absent"
    )
    assert gone["changed"] is True and gone["diff"]["after"] == {KEY: {}}
    assert host.counters.writes["registry"] == 3


def test_win_regedit_types_and_new_key(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2022"]
    new_key = "HKLM:\\SOFTWARE\\Contoso\\Agent"
    assert run(host, "ansible.windows.win_regedit", check=True, path=new_key)["changed"] is True
    assert host.registry.key(new_key) is None
    run(host, "ansible.windows.win_regedit", path=new_key, name="Blob", data="hex:be,ef", type="binary")
    run(host, "ansible.windows.win_regedit", path=new_key, name="List", data=["a", "b"], type="multistring")
    stat = run(host, "ansible.windows.win_reg_stat", path=new_key)
    assert stat["properties"]["Blob"]["raw_value"] == ["0xbe", "0xef"]
    assert stat["properties"]["List"]["value"] == ["a", "b"]
    assert run(host, "ansible.windows.win_regedit", path=new_key, state="absent")["changed"] is True
    assert host.registry.key(new_key) is None
    too_big = run(host, "ansible.windows.win_regedit", path=new_key, name="x", data=2**32, type="dword")
    assert "larger than 0xffffffff" in too_big["msg"]


def test_win_regedit_non_admin_is_refused(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    result = run(host, "ansible.windows.win_regedit", admin=False, path=KEY, name="X", data=1, type="dword")
    assert result["failed"] and "Requested registry access is not allowed" in result["msg"]


@pytest.mark.parametrize("bad", [{"state": "gone"}, {"type": "REG_DWORD"}, {"path": KEY, "bogus": 1}])
def test_win_regedit_argspec(small_fleet: Fleet, bad: dict[str, Any]) -> None:
    result = run(small_fleet.hosts["ws2022"], "ansible.windows.win_regedit", **{"path": KEY, **bad})
    assert result["msg"].startswith("SIMULATOR ARGSPEC MISMATCH")
