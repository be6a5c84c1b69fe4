"""The simulator's event_subscription_create, as wmi_state.ps1's New-EventSubscriptionPart: creates only what is
missing, refuses what exists or what a binding would point at in vain, non-standard consumer classes and non-admins,
and returns the instance read back in event_subscriptions' shape."""

from __future__ import annotations

from typing import Any

import pytest

from simulator.fleet import Fleet
from tests.unit.simulator.test_sim_wmi_state import admin, run, user

SUB = "root\\subscription"
FILTER = {"name": "AgentHeartbeat", "query": "SELECT * FROM __TimerEvent", "query_language": "WQL"}
CONSUMER = {
    "name": "AgentHeartbeat",
    "class": "CommandLineEventConsumer",
    "command_line_template": "agent.exe --heartbeat",
    "properties": {"KillTimeout": 30, "CreatorSID": "S-1-5-18"},
}
BINDING = {"filter": "AgentHeartbeat", "consumer": "AgentHeartbeat", "consumer_class": "CommandLineEventConsumer"}


def create(kind: str, instance: dict[str, Any]) -> dict[str, Any]:
    return {"op": "event_subscription_create", "namespace": SUB, "kind": kind, "instance": instance}


def test_creates_filter_consumer_and_binding_and_reads_them_back(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    caller = admin(host)
    results = run(host, [create("filter", FILTER), create("consumer", CONSUMER), create("binding", BINDING)])["results"]
    assert [r["failed"] for r in results] == [False, False, False]
    assert results[0]["created"]["creator_sid"] == caller.sid  # WMI records the creator, not what was sent
    # WMI fills the class's declared defaults (CommandLineEventConsumer: Priority = 0x20, CreateNewProcessGroup = True)
    created = results[1]["created"]["properties"]
    assert created["KillTimeout"] == 30 and created["Priority"] == 32 and created["CreateNewProcessGroup"] is True
    assert results[2]["created"] == {"namespace": SUB, **BINDING}
    listed = run(host, [{"op": "event_subscriptions", "namespaces": [SUB]}])["results"][0]
    assert {**BINDING, "namespace": SUB} in listed["bindings"]
    assert host.counters.writes["event_subscription"] == 3


def test_refuses_what_exists_and_skips_the_rest(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    existing = {"name": "windowsupdatehealth", "query": "x", "query_language": "WQL"}  # keys compare case-insensitively
    results = run(host, [create("filter", existing), create("consumer", CONSUMER)])["results"]
    assert [r["error"]["code"] for r in results] == ["CHANGED_SINCE_READ", "SKIPPED"]
    assert "exists; nothing was created" in results[0]["error"]["message"]
    assert host.counters.writes["event_subscription"] == 0


def test_refuses_a_binding_to_nothing_a_provider_class_and_a_non_admin(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    dangling = run(host, [create("binding", BINDING)])["results"][0]
    assert dangling["error"]["code"] == "CHANGED_SINCE_READ" and "does not exist" in dangling["error"]["message"]
    provider = run(host, [create("consumer", {**CONSUMER, "class": "__Win32Provider"})])["results"][0]
    assert provider["error"]["code"] == "UNEXPECTED"
    denied = run(host, [create("filter", FILTER)], caller=user(host))["results"][0]
    assert denied["error"]["code"] == "WMI" and denied["error"]["hresult"] == 0x80041003
    checked = run(host, [create("filter", FILTER)], check=True)["results"][0]
    assert checked["error"]["code"] == "CHECK_MODE"
    assert host.counters.writes["event_subscription"] == 0
    assert "AgentHeartbeat" not in {f.name for f in host.filters}


def test_every_consumer_holds_its_class_defaults_whatever_was_given(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    log = {"name": "Disk", "class": "NTEventLogEventConsumer", "properties": {"EventID": 7, "Category": 3}}
    created = run(host, [create("consumer", log)])["results"][0]["created"]["properties"]
    assert created == {"EventID": 7, "Category": 3, "EventType": 1, "InsertionStringTemplates": [""]} | {
        "NumberOfInsertionStrings": 0
    }


@pytest.mark.parametrize(
    ("cls", "properties"),
    [
        ("CommandLineEventConsumer", {"KillTimeout": -1}),  # what an SInt32 -1 cannot become
        ("CommandLineEventConsumer", {"KillTimeout": 2**32}),
        ("CommandLineEventConsumer", {"KillTimeout": 1.5}),
        ("CommandLineEventConsumer", {"KillTimeout": "soon"}),
        ("CommandLineEventConsumer", {"KillTimeout": True}),
        ("CommandLineEventConsumer", {"KillTimeout": [30]}),
        ("CommandLineEventConsumer", {"RunInteractively": "false"}),  # [bool]'false' would be $true
        ("CommandLineEventConsumer", {"Filename": "C:\\x.log"}),  # LogFileEventConsumer's, not this class's
        ("NTEventLogEventConsumer", {"Category": 65536}),
        ("NTEventLogEventConsumer", {"InsertionStringTemplates": "x"}),
        ("LogFileEventConsumer", {"MaximumFileSize": -1}),
        ("SMTPEventConsumer", {"ToLine": {"to": "x"}}),
    ],
)
def test_a_value_the_class_type_cannot_hold_creates_nothing(small_fleet: Fleet, cls: str, properties: dict) -> None:
    host = small_fleet.hosts["ws2016"]
    consumer = {"name": "Typed", "class": cls, "properties": properties}
    results = run(host, [create("consumer", consumer), create("filter", FILTER)])["results"]
    assert [r["error"]["code"] for r in results] == ["INVALID_PROPERTY", "SKIPPED"]
    assert "nothing was created" in results[0]["error"]["message"]
    assert "Typed" not in {c.name for c in host.consumers}
    assert host.counters.writes["event_subscription"] == 0


def test_text_numbers_and_whole_floats_convert_as_powershell_converts_them(small_fleet: Fleet) -> None:
    host = small_fleet.hosts["ws2016"]
    properties: dict[str, Any] = {"KillTimeout": "30", "XSize": 80.0}
    consumer = {"name": "Typed", "class": "CommandLineEventConsumer", "properties": properties}
    created = run(host, [create("consumer", consumer)])["results"][0]["created"]["properties"]
    assert created["KillTimeout"] == 30 and created["XSize"] == 80
