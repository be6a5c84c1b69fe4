# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The simulator's script_files op stops at max_files and max_total_bytes, as wmi_state.ps1 does while it reads."""

from __future__ import annotations

from typing import Any

from simulator.dispatch import execute
from simulator.fleet import Fleet
from simulator.payload import ModuleCall


def script_files(fleet: Fleet, **budget: Any) -> dict[str, Any]:
    host = fleet.hosts["ws2016"]  # small fleet: legacy_adsi, async_sink and clean scripts under C:\Scripts
    args = {
        "operations": [{"op": "script_files", "paths": ["C:\\Scripts"], **budget}],
        "_ansible_module_name": "winsec.wmi.wmi_state",
    }
    caller = next(c for c in host.callers.values() if c.admin)
    reply = execute(host, caller, ModuleCall("winsec.wmi.wmi_state", args, "exec_manifest")).result
    assert not reply.get("failed"), reply
    return reply["results"][0]


def test_without_a_budget_every_script_is_read(small_fleet: Fleet) -> None:
    result = script_files(small_fleet)
    assert result["stopped"] is None
    assert len(result["files"]) == 6 and all(entry["content"] for entry in result["files"])


def test_max_files_stops_the_listing(small_fleet: Fleet) -> None:
    result = script_files(small_fleet, max_files=2)
    assert result["stopped"] == "max_files"
    assert len(result["files"]) == 2


def test_max_total_bytes_stops_reading_at_the_first_file_that_would_pass_it(small_fleet: Fleet) -> None:
    everything = script_files(small_fleet)["files"]
    budget = everything[0]["size"] + everything[1]["size"]
    result = script_files(small_fleet, max_total_bytes=budget)
    assert result["stopped"] == "max_total_bytes"
    assert [entry["content"] is not None for entry in result["files"]] == [True, True, False]
    assert result["files"][2]["error"]["code"] == "BUDGET"
