# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.event_subscription state=present: the definition's validation and the restore plan (pure)."""

from __future__ import annotations

import copy

import pytest
from ansible_collections.winsec.wmi.plugins.plugin_utils._control import HostContext
from ansible_collections.winsec.wmi.plugins.plugin_utils._os_profile import os_profile
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription import (
    EventSubscriptionRemoval,
    plan_removal,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscription_restore import (
    CONSUMER_PROPERTIES,
    EventSubscriptionRestore,
    parse_definition,
    plan_restore,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._subscriptions._event_subscriptions import parse_inventory
from ansible_collections.winsec.wmi.plugins.plugin_utils._wmi_errors import WmiActionError, WmiOperationError
from ansible_collections.winsec.wmi.tests.unit.plugins.fakes import facts

SUB = "root\\subscription"
FACTS = facts()
ADMIN = "S-1-5-21-1-2-3-500"

FILTER = {
    "namespace": SUB,
    "name": "AgentHeartbeat",
    "query": "SELECT * FROM __InstanceModificationEvent WITHIN 300 WHERE TargetInstance ISA 'Win32_LocalTime'",
    "query_language": "WQL",
    "event_namespace": "root\\cimv2",
    "creator_sid": ADMIN,
}
CONSUMER = {
    "namespace": SUB,
    "name": "AgentHeartbeat",
    "class": "CommandLineEventConsumer",
    "command_line_template": "C:\\Program Files\\Agent\\agent.exe --heartbeat",
    "executable_path": None,
    "script_text": None,
    "script_file_name": None,
    "scripting_engine": None,
    "properties": {"CreatorSID": ADMIN, "KillTimeout": 30, "Priority": 32},
}
BINDING = {
    "namespace": SUB,
    "filter": "AgentHeartbeat",
    "consumer": "AgentHeartbeat",
    "consumer_class": "CommandLineEventConsumer",
}
# What state=absent returned when it removed the agent's subscription.
REMOVED = {"bindings": [BINDING], "consumers": [CONSUMER], "filters": [FILTER]}
# The host before the removal: the agent's subscription next to the built-in SCM one.
SCM = {
    "filters": [{"namespace": SUB, "name": "SCM Event Log Filter", "query": "select * from MSFT_SCMEventLogEvent"}],
    "consumers": [{"namespace": SUB, "name": "SCM Event Log Consumer", "class": "NTEventLogEventConsumer"}],
    "bindings": [
        {
            "namespace": SUB,
            "filter": "SCM Event Log Filter",
            "consumer": "SCM Event Log Consumer",
            "consumer_class": "NTEventLogEventConsumer",
        }
    ],
}
EMPTY: dict[str, list[dict[str, object]]] = {"filters": [], "consumers": [], "bindings": []}


def merged(*reads):
    return {kind: [entry for read in reads for entry in read[kind]] for kind in ("filters", "consumers", "bindings")}


def host(check_mode=False):
    return HostContext(FACTS, os_profile(FACTS), check_mode=check_mode, diff_mode=True, enforce=True)


def read_result(read):
    return {"op": "event_subscriptions", "failed": False, **read}


# --- the plan --------------------------------------------------------------------------------------------------


def test_missing_parts_are_created_filters_and_consumers_first_bindings_last():
    plan = plan_restore(parse_definition(REMOVED), parse_inventory([SCM]))
    operations = plan.operations()
    assert [(o["op"], o["kind"]) for o in operations] == [
        ("event_subscription_create", "filter"),
        ("event_subscription_create", "consumer"),
        ("event_subscription_create", "binding"),
    ]
    assert all(o["namespace"] == SUB for o in operations)
    # The creator's SID is WMI's to set: never sent.
    assert "creator_sid" not in operations[0]["instance"]
    assert operations[1]["instance"]["properties"] == {"KillTimeout": 30, "Priority": 32}
    assert operations[2]["instance"] == {
        "filter": "AgentHeartbeat",
        "consumer": "AgentHeartbeat",
        "consumer_class": "CommandLineEventConsumer",
    }
    assert plan.to_dict() == REMOVED


def test_what_exists_with_the_same_definition_is_left_alone():
    # Restored by another account: its creator SIDs differ, and they are not compared.
    on_host = copy.deepcopy(REMOVED)
    on_host["filters"][0]["creator_sid"] = "S-1-5-18"
    on_host["consumers"][0]["properties"]["CreatorSID"] = "S-1-5-18"
    on_host["consumers"][0]["name"] = "agentheartbeat"  # keys compare case-insensitively, as WMI compares them
    plan = plan_restore(parse_definition(REMOVED), parse_inventory([merged(SCM, on_host)]))
    assert plan.empty and plan.present == 3
    assert plan.operations() == []


def test_a_half_restored_subscription_gets_only_its_missing_binding():
    half = {"filters": [FILTER], "consumers": [CONSUMER], "bindings": []}
    plan = plan_restore(parse_definition(REMOVED), parse_inventory([half]))
    assert [o["kind"] for o in plan.operations()] == ["binding"]
    assert plan.present == 2


@pytest.mark.parametrize(
    ("kind", "change", "expected"),
    [
        ("filters", {"query": "SELECT * FROM __InstanceCreationEvent"}, "query is"),
        ("consumers", {"command_line_template": "C:\\Temp\\other.exe"}, "command_line_template is"),
        ("consumers", {"properties": {"KillTimeout": 0, "Priority": 32}}, "properties.KillTimeout is 0 on the host"),
    ],
)
def test_a_part_that_exists_with_another_definition_fails_and_plans_nothing(kind, change, expected):
    on_host = copy.deepcopy(REMOVED)
    on_host[kind][0].update(change)
    with pytest.raises(WmiActionError) as failure:
        plan_restore(parse_definition(REMOVED), parse_inventory([on_host]))
    assert "exists with another definition" in failure.value.msg
    assert expected in failure.value.msg
    assert failure.value.result["conflicts"]


def test_a_binding_whose_filter_or_consumer_exists_nowhere_is_refused():
    only_binding = {"bindings": [BINDING]}
    with pytest.raises(WmiActionError) as failure:
        plan_restore(parse_definition(only_binding), parse_inventory([SCM]))
    assert "its filter 'AgentHeartbeat' is neither in the definition nor on the host" in failure.value.msg
    assert "its consumer CommandLineEventConsumer.AgentHeartbeat is neither" in failure.value.msg
    # The same binding is fine when the host holds its filter and consumer.
    plan = plan_restore(
        parse_definition(only_binding), parse_inventory([{"filters": [FILTER], "consumers": [CONSUMER]}])
    )
    assert [o["kind"] for o in plan.operations()] == ["binding"]


def test_a_binding_to_a_consumer_of_another_class_with_the_same_name_is_not_satisfied():
    impostor = copy.deepcopy(CONSUMER)
    impostor["class"] = "ActiveScriptEventConsumer"
    impostor.update(command_line_template=None, script_text="x", scripting_engine="VBScript")
    impostor["properties"] = {}
    with pytest.raises(WmiActionError, match=r"its consumer CommandLineEventConsumer\.AgentHeartbeat"):
        plan_restore(
            parse_definition({"bindings": [BINDING]}),
            parse_inventory([{"filters": [FILTER], "consumers": [impostor]}]),
        )


def test_round_trip_with_the_removal_plan():
    """What plan_removal takes away, plan_restore puts back, part for part."""
    before = parse_inventory([merged(SCM, REMOVED)])
    removal = plan_removal(
        before, filter_name=None, consumer_name="AgentHeartbeat", consumer_class="CommandLineEventConsumer"
    )
    restore = plan_restore(parse_definition(removal.to_dict()), parse_inventory([SCM]))
    assert restore.to_dict() == removal.to_dict()


# --- validation before the host is contacted -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("definition", "expected"),
    [
        ([], "definition must be a dict"),
        ({}, "holds no filter, consumer or binding"),
        ({"filters": [], "extra": []}, "definition: unknown key(s) extra"),
        ({"filters": [{**FILTER, "query": None}]}, "definition.filters[0]: query is required"),
        ({"filters": [{**FILTER, "namespace": "cimv2"}]}, "definition.filters[0]: namespace 'cimv2' must start"),
        ({"filters": [{k: v for k, v in FILTER.items() if k != "namespace"}]}, "namespace is required"),
        ({"consumers": [{**CONSUMER, "class": "EvilConsumer"}]}, "class EvilConsumer is not a standard consumer"),
        ({"consumers": [{**CONSUMER, "name": ""}]}, "definition.consumers[0]: name is required"),
        (
            {"consumers": [{**CONSUMER, "script_text": "x"}]},
            "script_text is not a property of CommandLineEventConsumer",
        ),
        (
            {"consumers": [{**CONSUMER, "properties": {"Filename": "C:\\x.log"}}]},
            "properties.Filename is not a property of CommandLineEventConsumer",
        ),
        (
            {"consumers": [{**CONSUMER, "properties": {"CommandLineTemplate": "y"}}]},
            "belongs in its own key (command_line_template)",
        ),
        ({"consumers": [{**CONSUMER, "properties": {"KillTimeout": {"a": 1}}}]}, "properties.KillTimeout must be"),
        ({"bindings": [{**BINDING, "consumer_class": None}]}, "definition.bindings[0]: consumer_class is required"),
        ({"bindings": [{**BINDING, "typo": 1}]}, "definition.bindings[0]: unknown key(s) typo"),
        ({"filters": [FILTER, {**FILTER, "name": "agentheartbeat"}]}, "filter 'agentheartbeat' in root"),
    ],
)
def test_invalid_definitions_are_refused_naming_the_entry(definition, expected):
    with pytest.raises(WmiActionError) as failure:
        EventSubscriptionRestore(definition)
    assert expected in failure.value.msg


def test_every_problem_is_reported_at_once():
    definition = {
        "filters": [{**FILTER, "query": None}],
        "consumers": [{**CONSUMER, "class": "EvilConsumer"}],
        "bindings": [{**BINDING, "filter": None}],
    }
    with pytest.raises(WmiActionError) as failure:
        EventSubscriptionRestore(definition)
    assert [problem.split(":")[0] for problem in failure.value.result["problems"]] == [
        "definition.filters[0]",
        "definition.consumers[0]",
        "definition.bindings[0]",
    ]
    assert "nothing was sent to the host" in failure.value.msg


def test_class_and_property_names_take_wmis_spelling():
    consumer = {**CONSUMER, "class": "commandlineeventconsumer", "properties": {"killtimeout": 30}}
    definition = parse_definition({"consumers": [consumer]})
    assert definition.consumers[0].cls == "CommandLineEventConsumer"
    assert dict(definition.consumers[0].properties) == {"KillTimeout": 30}


def test_every_standard_consumer_class_can_be_restored():
    assert set(CONSUMER_PROPERTIES) == {
        "ActiveScriptEventConsumer",
        "CommandLineEventConsumer",
        "LogFileEventConsumer",
        "NTEventLogEventConsumer",
        "SMTPEventConsumer",
    }
    log = {
        "namespace": SUB,
        "name": "DiskSpaceLog",
        "class": "LogFileEventConsumer",
        "properties": {"Filename": "C:\\Logs\\disk.log", "Text": "low disk", "MaximumQueueSize": 10},
    }
    assert parse_definition({"consumers": [log]}).consumers[0].properties["Filename"] == "C:\\Logs\\disk.log"


# --- the control: one read, then the writes and their verification ----------------------------------------------


def test_reads_once_every_namespace_involved():
    default = {**FILTER, "namespace": "root/default", "name": "Other"}
    control = EventSubscriptionRestore(
        {"filters": [FILTER, default], "consumers": [{**CONSUMER, "namespace": "ROOT\\Subscription"}]}
    )
    assert control.reads() == [{"op": "event_subscriptions", "namespaces": [SUB, "root\\default"]}]


def test_check_mode_predicts_the_creation_with_a_diff():
    control = EventSubscriptionRestore(REMOVED)
    decision = control.decide(host(check_mode=True), [read_result(SCM)])
    assert decision.status == "drift" and len(decision.writes) == 3
    assert decision.result["created"] == REMOVED
    assert "would be created" in decision.result["msg"]
    assert decision.diff["before"] == ""
    # Each part named by its WMI class, then its properties: the filter and consumer before the binding joining them.
    names = [line.split(" ")[0] for line in decision.diff["after"].splitlines() if not line.startswith(" ")]
    assert names == ["__EventFilter", "CommandLineEventConsumer", "__FilterToConsumerBinding"]
    assert "agent.exe --heartbeat" in decision.diff["after"]


def test_nothing_to_do_is_compliant_with_no_writes():
    decision = EventSubscriptionRestore(REMOVED).decide(host(), [read_result(merged(SCM, REMOVED))])
    assert decision.status == "compliant" and decision.writes == [] and not decision.changed
    assert decision.result["created"] == EMPTY
    assert "present as defined (3 parts)" in decision.result["msg"]


def test_verify_returns_what_the_host_read_back():
    control = EventSubscriptionRestore(REMOVED)
    decision = control.decide(host(), [read_result(SCM)])
    stored = [
        {**FILTER, "creator_sid": "S-1-5-18"},
        {**CONSUMER, "properties": {**CONSUMER["properties"], "CreatorSID": "S-1-5-18"}},
        BINDING,
    ]
    outcomes = [{"op": "event_subscription_create", "failed": False, "created": entry} for entry in stored]
    final = control.verify(host(), decision, outcomes)
    assert final.status == "remediated"
    assert final.result["created"] == {"bindings": [BINDING], "consumers": [stored[1]], "filters": [stored[0]]}


def test_a_failed_creation_returns_the_parts_created_before_it():
    control = EventSubscriptionRestore(REMOVED)
    decision = control.decide(host(), [read_result(SCM)])
    error = {"code": "CHANGED_SINCE_READ", "hresult": None, "message": "the consumer exists; nothing was created"}
    skipped = {"code": "SKIPPED", "hresult": None, "message": "skipped"}
    outcomes = [
        {"op": "event_subscription_create", "failed": False, "created": FILTER},
        {"op": "event_subscription_create", "failed": True, "error": error},
        {"op": "event_subscription_create", "failed": True, "error": skipped},
    ]
    with pytest.raises(WmiOperationError) as failure:
        control.verify(host(), decision, outcomes)
    assert failure.value.result["changed"] is True
    assert failure.value.result["created"] == {"bindings": [], "consumers": [], "filters": [FILTER]}
    assert failure.value.error.code == "CHANGED_SINCE_READ"


def test_removal_still_defaults_to_root_subscription():
    removal = EventSubscriptionRemoval.from_params({"filter": "x", "namespace": None})
    assert removal.namespace == SUB


# --- WMI's defaults and CIM types (the class pages' syntax blocks: "uint32 KillTimeout = 0;")


def test_a_restored_consumer_read_back_with_wmis_defaults_is_present_as_defined():
    # WMI stores every declared default on the instance it creates; the definition named none of them.
    written = {**CONSUMER, "properties": {"KillTimeout": 30}}
    on_host = {
        **written,
        "properties": {
            "CreatorSID": ADMIN,
            "KillTimeout": 30,
            "Priority": 32,
            "CreateNewProcessGroup": True,
            **dict.fromkeys(("CreateNewConsole", "CreateSeparateWowVdm", "CreateSharedWowVdm"), False),
            **dict.fromkeys(("ForceOffFeedback", "ForceOnFeedback", "RunInteractively", "UseDefaultErrorMode"), False),
        },
    }
    definition = {**REMOVED, "consumers": [written]}
    plan = plan_restore(parse_definition(definition), parse_inventory([{**REMOVED, "consumers": [on_host]}]))
    assert plan.empty and plan.present == 3


def test_a_value_the_definition_leaves_to_its_default_but_the_host_changed_is_a_conflict():
    on_host = copy.deepcopy(CONSUMER)
    on_host["properties"]["RunInteractively"] = True
    with pytest.raises(WmiActionError) as failure:
        plan_restore(parse_definition(REMOVED), parse_inventory([{**REMOVED, "consumers": [on_host]}]))
    assert "properties.RunInteractively is true on the host, false in the definition" in failure.value.msg


@pytest.mark.parametrize(
    ("cls", "properties", "expected"),
    [
        ("CommandLineEventConsumer", {"KillTimeout": -1}, "KillTimeout is uint32, a whole number from 0 to 4294967295"),
        ("CommandLineEventConsumer", {"KillTimeout": 2**32}, "KillTimeout is uint32"),
        ("CommandLineEventConsumer", {"KillTimeout": "30"}, "KillTimeout is uint32"),
        ("CommandLineEventConsumer", {"KillTimeout": 1.5}, "KillTimeout is uint32"),
        ("CommandLineEventConsumer", {"Priority": 2**31}, "Priority is sint32"),
        ("CommandLineEventConsumer", {"RunInteractively": "false"}, "RunInteractively is a boolean"),
        ("NTEventLogEventConsumer", {"Category": 65536}, "Category is uint16"),
        ("NTEventLogEventConsumer", {"EventType": True}, "EventType is uint32"),
        ("NTEventLogEventConsumer", {"InsertionStringTemplates": "x"}, "InsertionStringTemplates is a list of strings"),
        ("LogFileEventConsumer", {"MaximumFileSize": -5}, "MaximumFileSize is uint64"),
        ("SMTPEventConsumer", {"Subject": True}, "Subject is a string"),
    ],
)
def test_a_value_its_cim_type_cannot_hold_is_refused_before_contact(cls, properties, expected):
    consumer = {**CONSUMER, "class": cls, "command_line_template": None, "properties": properties}
    with pytest.raises(WmiActionError) as failure:
        EventSubscriptionRestore({"consumers": [consumer]})
    assert expected in failure.value.msg
