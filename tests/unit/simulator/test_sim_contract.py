"""The simulator's wmi_state against the contract (_wmi_state_contract): per-op parameters, write ops, the keys of
every op's result on success and on failure, and only documented error codes."""

from __future__ import annotations

import base64
from typing import Any

from ansible_collections.winsec.wmi.plugins.plugin_utils import _wmi_state_contract as contract
from ansible_collections.winsec.wmi.plugins.plugin_utils._argspec import argspec_from_options

from simulator import argspec, wmi_state
from simulator.fleet import Fleet
from tests.unit.simulator.test_sim_wmi_state import admin, run, user

SD = base64.b64encode(bytes.fromhex("01000480" + "00" * 16)).decode()  # a DACL-less descriptor: INVALID_SD


def one_of_each() -> list[dict[str, Any]]:
    return [
        {"op": "facts"},
        {"op": "registry_read", "value": "unsecapp_access_control_default"},
        {
            "op": "registry_write",
            "value": "unsecapp_access_control_default",
            "data": "1",
            "value_type": "dword",
            "expected": {"exists": False},
        },
        {"op": "sd_get", "namespace": "root", "resolve_names": True},
        {"op": "sd_get", "namespace": "root"},
        {"op": "caller_rights", "namespace": "root"},
        {"op": "sid_lookup", "names": ["Everyone"]},
        {"op": "name_lookup", "sids": ["S-1-1-0"]},
        {"op": "event_subscriptions"},
        {"op": "script_files", "paths": ["C:\\nothere"]},
    ]


def test_the_simulator_uses_the_contract_tables() -> None:
    assert wmi_state.REQUIRED_BY_OP is contract.REQUIRED_BY_OP
    assert wmi_state.WRITE_OPS is contract.WRITE_OPS
    assert set(wmi_state._OPS) == set(contract.REQUIRED_BY_OP)


def test_the_argument_spec_converter_is_the_controllers() -> None:
    assert argspec.options_to_argument_spec({"x": {"type": "int", "default": 1}}) == argspec_from_options(
        {"x": {"type": "int", "default": 1}}
    )


def test_success_results_have_exactly_the_contract_keys(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    operations = one_of_each()
    results = run(host, operations, caller=admin(host))["results"]
    for operation, result in zip(operations, results, strict=True):
        assert result["failed"] is False, result
        expected = {"op", "failed", *contract.SUCCESS_KEYS[operation["op"]]}
        for (op, option), keys in contract.CONDITIONAL_KEYS.items():
            if op == operation["op"] and operation.get(option):
                expected |= set(keys)
        assert set(result) == expected, operation


def test_failed_results_are_exactly_op_failed_error_with_a_documented_code(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    failing = [
        {"op": "registry_write", **{k: v for k, v in one_of_each()[2].items() if k != "op"}},  # non-admin: denied
        {"op": "sd_set", "namespace": "root", "sd": SD, "expected_sd": SD},  # skipped after the failed write
        {"op": "caller_rights", "namespace": "root\\nothere"},
        {"op": "event_subscriptions", "namespaces": ["root\\nothere"]},
    ]
    results = run(host, failing, caller=user(host))["results"]
    assert [r["error"]["code"] for r in results] == ["ACCESS_DENIED", "SKIPPED", "WMI", "WMI"]
    for result in results:
        assert tuple(result) == contract.FAILURE_KEYS
        assert tuple(result["error"]) == contract.ERROR_KEYS
    alone = run(host, [failing[1]])["results"][0]
    assert tuple(alone) == contract.FAILURE_KEYS and alone["error"]["code"] == "INVALID_SD"
    checked = run(host, [failing[1]], check=True)["results"][0]
    assert tuple(checked) == contract.FAILURE_KEYS and checked["error"]["code"] == "CHECK_MODE"
