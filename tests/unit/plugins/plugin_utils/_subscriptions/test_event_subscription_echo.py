# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Nothing a host echoes is a record of what was done: event_subscription state=absent returns as ``removed`` what
the controller read and planned, whatever the host answers, and a host answer that names another part is a warning.
Restoring that ``removed`` therefore recreates what was removed, never what a compromised host slipped in; and a
restore that recreates a code-running consumer says how WMI-020 will judge it.

As a class: three namespaces, four consumer classes, and four kinds of lying answer (another part in another
namespace, an answer with extra keys, an answer with fewer keys, no answer).
"""

from __future__ import annotations

import copy
import typing as t

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription import (
    EventSubscriptionRemoval,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription_restore import (
    EventSubscriptionRestore,
    parse_definition,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiOperationError
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_state_contract import check_result

FACTS = {"os_caption": "Microsoft Windows Server 2022", "os_version": "10.0.20348", "os_build": 20348}
NAMESPACES = ["root\\subscription", "root\\cimv2", "root\\default"]
CRADLE = "powershell.exe -NoP -W Hidden -Enc SQBFAFgAIAAoAE4AZQB3AC0ATwBiAGoAZQBjAHQAKQA="
CONSUMERS: dict[str, dict[str, t.Any]] = {
    "LogFileEventConsumer": {"properties": {"Filename": "C:\\Logs\\agent.log", "Text": "beat"}},
    "NTEventLogEventConsumer": {"properties": {"SourceName": "Agent", "EventID": 10}},
    "CommandLineEventConsumer": {"command_line_template": "C:\\Program Files\\Agent\\agent.exe --beat"},
    "ActiveScriptEventConsumer": {"script_text": "x = 1", "scripting_engine": "VBScript"},
}
ATTACKER = {
    "filter": {"namespace": "root\\cimv2", "name": "Evil", "query": "SELECT * FROM __TimerEvent"},
    "consumer": {
        "namespace": "root\\cimv2",
        "name": "Evil",
        "class": "CommandLineEventConsumer",
        "command_line_template": CRADLE,
    },
    "binding": {
        "namespace": "root\\cimv2",
        "filter": "Evil",
        "consumer": "Evil",
        "consumer_class": "CommandLineEventConsumer",
    },
}


def host() -> HostContext:
    return HostContext(FACTS, os_profile(FACTS), check_mode=False, diff_mode=True, enforce=True)


def on_host(namespace: str, consumer_class: str) -> dict:
    return {
        "filters": [
            {"namespace": namespace, "name": "Agent", "query": "SELECT * FROM __TimerEvent", "query_language": "WQL"}
        ],
        "consumers": [{"namespace": namespace, "name": "Agent", "class": consumer_class, **CONSUMERS[consumer_class]}],
        "bindings": [
            {"namespace": namespace, "filter": "Agent", "consumer": "Agent", "consumer_class": consumer_class}
        ],
    }


ANOTHER_DEFINITION = {"filter": {"query": "SELECT * FROM __InstanceCreationEvent"}, "binding": {"consumer": "Evil"},
                      "consumer": {"command_line_template": CRADLE}}  # fmt: skip
# How many of the three answers (binding, consumer, filter) each lie falsifies.
LIED = {"another part": 3, "another definition": 3, "extra items": 1, "fewer items": 1}


def lie(kind: str, planned: dict, how: str) -> dict | None:
    """The host's answer to the removal of ``planned``."""
    if how == "another part":
        return ATTACKER[kind]
    if how == "another definition":
        return {**planned, **ANOTHER_DEFINITION[kind]}
    if kind != "consumer":
        return planned
    if how == "extra items":  # one more property than the consumer had: a command line for the restore to create
        return {**planned, "properties": {**planned["properties"], "CommandLineTemplate": CRADLE}}
    if how == "fewer items":  # the consumer without its definition
        return {key: planned[key] for key in ("namespace", "name", "class")}
    return None


def through_boundary(operation: dict, outcome: dict) -> dict:
    # The runner checks every write result against the contract before verify sees it.
    return check_result(operation, outcome, "results[0]")


@pytest.mark.parametrize("how", [*LIED, "no answer"])
@pytest.mark.parametrize("consumer_class", list(CONSUMERS))
@pytest.mark.parametrize("namespace", NAMESPACES)
def test_removed_is_what_was_read_and_planned_never_the_echo(namespace, consumer_class, how):
    control = EventSubscriptionRemoval(namespace=namespace, consumer_name="Agent", consumer_class=consumer_class)
    read = {"op": "event_subscriptions", "failed": False, **on_host(namespace, consumer_class)}
    decision = control.decide(host(), [read])
    planned = copy.deepcopy(decision.result["removed"])
    assert [len(planned[kind]) for kind in ("bindings", "consumers", "filters")] == [1, 1, 1]
    outcomes = []
    for operation in decision.writes:
        kind = operation["kind"]
        answer = lie(kind, planned[f"{kind}s"][0], how) if how != "no answer" else None
        outcome = {"op": "event_subscription_remove", "failed": False, "removed": answer}
        outcomes.append(through_boundary(operation, outcome))
    if how == "no answer":
        # A write result without its record is malformed at the boundary: the write's failure, by name.
        assert all(outcome["failed"] and outcome["error"]["code"] == "MALFORMED_REPLY" for outcome in outcomes)
        with pytest.raises(WmiOperationError, match="MALFORMED_REPLY"):
            control.verify(host(), decision, outcomes)
        return
    final = control.verify(host(), decision, outcomes)
    assert final.result["removed"] == planned
    assert len(final.warnings) == LIED[how] and all("the host answered with another" in w for w in final.warnings)
    # Restoring the record recreates what was removed: never the attacker's consumer.
    definition = parse_definition(final.result["removed"])
    assert {(c.namespace, c.name, c.cls) for c in definition.consumers} == {(namespace, "Agent", consumer_class)}


def test_a_truthful_echo_gives_no_warning():
    control = EventSubscriptionRemoval(consumer_name="Agent", consumer_class="LogFileEventConsumer")
    read = {"op": "event_subscriptions", "failed": False, **on_host("root\\subscription", "LogFileEventConsumer")}
    decision = control.decide(host(), [read])
    parts = {"binding": "bindings", "consumer": "consumers", "filter": "filters"}
    outcomes = [
        {
            "op": "event_subscription_remove",
            "failed": False,
            "removed": decision.result["removed"][parts[op["kind"]]][0],
        }
        for op in decision.writes
    ]
    final = control.verify(host(), decision, outcomes)
    assert final.warnings == [] and final.result["removed"] == decision.result["removed"]


@pytest.mark.parametrize("namespace", NAMESPACES)
@pytest.mark.parametrize("consumer_class", list(CONSUMERS))
def test_a_restore_of_a_code_running_consumer_warns_as_wmi020_judges_it(namespace, consumer_class):
    definition = on_host(namespace, consumer_class)
    empty = {"op": "event_subscriptions", "failed": False, "filters": [], "consumers": [], "bindings": []}
    decision = EventSubscriptionRestore(definition).decide(host(), [empty])
    assert decision.writes
    runs_code = consumer_class in ("CommandLineEventConsumer", "ActiveScriptEventConsumer")
    warned = [warning for warning in decision.warnings if "WMI-020" in warning]
    assert bool(warned) is runs_code
    if runs_code:
        assert "'Agent'" in warned[0] and namespace in warned[0] and "suspicious" in warned[0]
