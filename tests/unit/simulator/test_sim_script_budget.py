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


# --- the walk: one directory at a time, no reparse point followed, nothing unread left unsaid (win_find's way)


def test_a_junction_loop_under_a_script_path_ends_with_the_loop_reported(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    host.faults["junctions"] = {"C:\\Scripts\\legacy\\loop": "C:\\Scripts"}  # points back up: a loop if followed
    result = script_files(small_fleet)
    assert len(result["files"]) == 6 and result["stopped"] is None
    assert result["unread"] == [
        {
            "path": "C:\\Scripts\\legacy\\loop",
            "kind": "directory",
            "error": {
                "code": "REPARSE_POINT",
                "hresult": None,
                "message": "'C:\\Scripts\\legacy\\loop' is a junction or symbolic link; not followed (it may loop "
                "or lead off the host)",
            },
        }
    ]


def test_an_unreadable_directory_is_reported_and_the_rest_is_read(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    host.faults["unreadable_dirs"] = ["C:\\Scripts\\legacy"]
    result = script_files(small_fleet)
    assert [entry["path"] for entry in result["unread"]] == ["C:\\Scripts\\legacy"]
    assert result["unread"][0]["error"]["hresult"] == 0x80070005 and result["unread"][0]["kind"] == "directory"
    assert len(result["files"]) == 5 and not any("legacy" in entry["path"] for entry in result["files"])


def test_a_path_too_long_for_net_framework_is_unread_not_a_failed_op(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    host.faults["long_paths"] = True
    deep = "C:\\Scripts\\" + "\\".join(["d" * 50] * 5) + "\\x.vbs"
    host.files[deep.lower()] = (deep, b"WScript.Echo 1")
    result = script_files(small_fleet)
    assert [(entry["path"], entry["kind"]) for entry in result["unread"]] == [(deep, "file")]
    assert result["unread"][0]["error"]["hresult"] == 0x800700CE
    assert len(result["files"]) == 6


def test_the_hosts_ansi_code_page_comes_with_the_files(small_fleet: Fleet) -> None:
    assert script_files(small_fleet)["ansi_code_page"] == 1252
    small_fleet.hosts["ws2016"].ansi_code_page = 932  # Japanese (Shift-JIS)
    assert script_files(small_fleet)["ansi_code_page"] == 932
