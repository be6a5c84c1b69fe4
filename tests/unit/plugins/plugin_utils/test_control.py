# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The control runner: one read round trip (shared reads sent once), at most one write round trip, write order."""

from __future__ import annotations

import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import (
    Control,
    Decision,
    HostContext,
    host_verdict,
    run_controls,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import FakeWmiCaller, facts, per_operation

# Results in the shapes of the wmi_state contract (the runner drops anything else); each names what was asked.
ANSWERS: dict[str, t.Callable[[dict[str, t.Any]], dict[str, t.Any]]] = {
    "sd_get": lambda op: {"namespaces": [{"namespace": op["namespace"], "sd": None, "error": None}]},
    "registry_read": lambda op: {"key_exists": True, "exists": True, "type": "REG_SZ", "data": op["value"]},
    "sd_set": lambda op: {"sd": None, "read_back_error": None},
    "sacl_set": lambda op: {"sd": None, "read_back_error": None},
    "registry_write": lambda op: {
        "before": {"exists": False, "type": None, "data": None},
        "after": {"exists": True, "type": "REG_DWORD", "data": 1},
    },
}


def asked(result: t.Mapping[str, t.Any]) -> str:
    return result["namespaces"][0]["namespace"] if result["op"] == "sd_get" else result["data"]


def answer(operation: dict[str, t.Any]) -> dict[str, t.Any]:
    """A 2022 host's facts; any other operation succeeds, its result naming what was asked (asked())."""
    if operation["op"] == "facts":
        return facts()
    return {"op": operation["op"], "failed": False, **ANSWERS[operation["op"]](operation)}


def caller_of(*, check_mode: bool = False) -> FakeWmiCaller:
    return FakeWmiCaller(per_operation(answer), check_mode=check_mode)


class Writer(Control):
    id = "T-1"
    title = "writes what it is told"
    severity = "low"

    def __init__(self, reads: list[dict[str, t.Any]], writes: list[dict[str, t.Any]]) -> None:
        self._reads, self._writes = reads, writes

    def reads(self) -> list[dict[str, t.Any]]:
        return self._reads

    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        # Each control gets its own reads, in order.
        assert [asked(result) for result in results] == [read.get("namespace") or read["value"] for read in self._reads]
        return Decision("drift" if self._writes else "compliant", writes=list(self._writes))


class Broken(Writer):
    def decide(self, host: HostContext, results: list[t.Mapping[str, t.Any]]) -> Decision:
        raise WmiActionError("cannot judge")


SHARED = {"op": "sd_get", "namespace": "root", "recurse": True}


def sd_set(namespace: str) -> dict[str, t.Any]:
    return {"op": "sd_set", "namespace": namespace, "sd": "x", "expected_sd": "y"}


def test_shared_reads_are_sent_once_and_writes_in_one_more_round_trip():
    caller = caller_of()
    controls = [
        Writer([SHARED, {"op": "registry_read", "value": "a"}], [sd_set("root")]),
        Writer([SHARED], [sd_set("root\\cimv2\\deep"), {"op": "registry_write", "value": "a"}]),
        Writer([SHARED], []),
    ]
    runs = run_controls(caller, controls, enforce=True)[1]
    assert [[op["op"] for op in call] for call in caller.calls] == [
        ["facts", "sd_get", "registry_read"],
        ["registry_write", "sd_set", "sd_set"],
    ]
    # Deepest namespace first: writing root first would change what root\cimv2\deep inherits before its own write.
    assert [op.get("namespace") for op in caller.calls[1][1:]] == ["root\\cimv2\\deep", "root"]
    # Each control gets back the results of its own writes.
    assert [run.decision.status for run in runs] == ["remediated", "remediated", "compliant"]


@pytest.mark.parametrize(("check_mode", "enforce"), [(True, True), (False, False), (True, False)])
def test_check_mode_and_audit_send_no_write(check_mode, enforce):
    caller = caller_of(check_mode=check_mode)
    runs = run_controls(caller, [Writer([SHARED], [sd_set("root")])], enforce=enforce)[1]
    assert len(caller.calls) == 1
    assert runs[0].decision.status == "drift" and runs[0].decision.writes  # what enforcement would change


def test_a_failing_control_does_not_stop_the_others():
    caller = caller_of()
    runs = run_controls(caller, [Broken([SHARED], []), Writer([SHARED], [])], enforce=False)[1]
    assert runs[0].error is not None and runs[0].error.msg == "cannot judge"
    assert runs[1].decision.status == "compliant"


@pytest.mark.parametrize(
    ("statuses", "verdict"),
    [
        (["compliant", "error", "drift"], "error"),
        (["compliant", "drift", "excepted"], "drift"),
        (["compliant", "remediated"], "remediated"),
        (["compliant", "not_applicable", "excepted"], "excepted"),
        (["compliant", "not_applicable"], "compliant"),
        (["excepted", "not_applicable"], "excepted"),
        ([], "not_applicable"),
    ],
)
def test_host_verdict(statuses, verdict):
    assert host_verdict(statuses) == verdict


@pytest.mark.parametrize("check_mode", [False, True])
def test_one_writer_per_target_and_check_mode_says_so(check_mode):
    # Two controls rewriting root's DACL from one read cannot both hold: the later one waits for the next run, in
    # check mode too. A SACL write and another namespace are other targets.
    first = Writer([SHARED], [sd_set("root")])
    second = Writer([SHARED], [sd_set("ROOT/"), sd_set("root\\cimv2")])
    second.id = "T-2"
    sacl = Writer([SHARED], [{**sd_set("root"), "op": "sacl_set"}])
    sacl.id = "T-3"
    caller = caller_of(check_mode=check_mode)
    _host, runs = run_controls(caller, [first, second, sacl], enforce=True)
    assert [bool(run.decision and run.decision.writes) for run in runs] == [True, False, True]
    deferred = t.cast(Decision, runs[1].decision)
    assert deferred.status == "drift" and "T-2 is not fixed in this run: T-1 writes root" in deferred.warnings[0]
    if not check_mode:
        assert [op["op"] for op in caller.calls[1]] == ["sacl_set", "sd_set"]
