# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.event_subscription state=present end to end: real ansible-playbook over WinRM against the small fleet's
ws2016, which holds the built-in SCM subscription and the WindowsUpdateHealth command-line consumer (T1546.003).

A subscription is removed (its ``removed`` kept), then restored from that value in four steps - check, apply, apply
again, check - and event_subscription_info afterwards shows the definitions it showed before the removal.
"""

from __future__ import annotations

import copy

import pytest

pytestmark = pytest.mark.e2e

HOST = "ws2016"
CONSUMER = {"consumer": "WindowsUpdateHealth", "consumer_class": "CommandLineEventConsumer"}
INFO = [{"name": "info", "winsec.wmi.event_subscription_info": {}}]


def executions(fleet):
    return fleet.counters(HOST)["module_executions"].get("winsec.wmi.wmi_state", 0)


def restore(definition):
    return [{"name": "restore", "winsec.wmi.event_subscription": {"state": "present", "definition": definition}}]


def without_creator(definition):
    """The definitions as compared across a restore: WMI records the creating account itself (CreatorSID)."""
    plain = copy.deepcopy(definition)
    for event_filter in plain["filters"]:
        event_filter.pop("creator_sid")
    for consumer in plain["consumers"]:
        consumer["properties"].pop("CreatorSID", None)
    return plain


def subscription_parts(info, name):
    return {
        "filters": [f for f in info["filters"] if f["name"] == name],
        "consumers": [c for c in info["consumers"] if c["name"] == name],
        "bindings": [b for b in info["bindings"] if b["consumer"] == name],
    }


def remove(fleet, run_playbook):
    run = run_playbook(fleet, [{"name": "remove", "winsec.wmi.event_subscription": CONSUMER}], hosts=HOST)
    assert run.rc == 0, run.stdout
    removed = run.result(HOST, "remove")["removed"]
    assert [len(removed[kind]) for kind in ("bindings", "consumers", "filters")] == [1, 1, 1]
    return removed


def test_restore_what_was_removed_in_four_steps(fleet, run_playbook):
    run = run_playbook(fleet, INFO, hosts=HOST, check=True)
    before = subscription_parts(run.result(HOST, "info"), "WindowsUpdateHealth")
    removed = remove(fleet, run_playbook)
    assert without_creator(removed) == without_creator(before)

    # 1. check mode: the creation predicted, with its diff; nothing written
    fleet.reset_counters()
    run = run_playbook(fleet, restore(removed), hosts=HOST, check=True, diff=True)
    assert run.rc == 0, run.stdout
    checked = run.result(HOST, "restore")
    assert checked["changed"] is True and "would be created" in checked["msg"]
    assert checked["created"] == removed
    assert checked["diff"]["before"] == "" and "-Enc" in checked["diff"]["after"]
    assert fleet.counters(HOST)["writes"] == 0 and executions(fleet) == 1
    assert "WindowsUpdateHealth" not in {c["name"] for c in fleet.state(HOST)["subscriptions"]["consumers"]}

    # 2. apply: one write per part, in a second round trip
    fleet.reset_counters()
    run = run_playbook(fleet, restore(removed), hosts=HOST)
    assert run.rc == 0, run.stdout
    applied = run.result(HOST, "restore")
    assert applied["changed"] is True
    assert without_creator(applied["created"]) == without_creator(removed)
    assert fleet.counters(HOST)["writes_by_kind"] == {"event_subscription": 3}
    assert executions(fleet) == 2

    # 3. idempotent: one read, nothing written
    fleet.reset_counters()
    run = run_playbook(fleet, restore(removed), hosts=HOST)
    assert run.rc == 0, run.stdout
    again = run.result(HOST, "restore")
    assert again["changed"] is False and "present as defined (3 parts)" in again["msg"]
    assert again["created"] == {"bindings": [], "consumers": [], "filters": []}
    assert fleet.counters(HOST)["writes"] == 0 and executions(fleet) == 1

    # 4. check again: nothing to do
    run = run_playbook(fleet, restore(removed), hosts=HOST, check=True)
    assert run.rc == 0, run.stdout
    assert run.result(HOST, "restore")["changed"] is False
    assert fleet.counters(HOST)["writes"] == 0

    # The inventory shows the definitions it showed before the removal - and still calls the consumer suspicious.
    run = run_playbook(fleet, INFO, hosts=HOST, check=True)
    info = run.result(HOST, "info")
    assert without_creator(subscription_parts(info, "WindowsUpdateHealth")) == without_creator(before)
    restored = [s for s in info["subscriptions"] if s["consumer"] and s["consumer"]["name"] == "WindowsUpdateHealth"]
    assert [s["classification"] for s in restored] == ["suspicious"]


def test_a_conflicting_definition_fails_and_writes_nothing(fleet, run_playbook):
    removed = remove(fleet, run_playbook)
    # Someone else has since put a filter of that name back, with another query: it is never overwritten.
    other_filter = {**removed["filters"][0], "query": "SELECT * FROM __InstanceCreationEvent WITHIN 5"}
    run = run_playbook(fleet, restore({"filters": [other_filter]}), hosts=HOST)
    assert run.rc == 0, run.stdout
    fleet.reset_counters()
    run = run_playbook(fleet, restore(removed), hosts=HOST)
    failed = run.result(HOST, "restore")
    assert run.status(HOST, "restore") == "failed"
    assert "exists with another definition" in failed["msg"] and "query is" in failed["msg"]
    assert failed["conflicts"] and failed["changed"] is False
    assert fleet.counters(HOST)["writes"] == 0 and executions(fleet) == 1
    consumers = {c["name"] for c in fleet.state(HOST)["subscriptions"]["consumers"]}
    assert "WindowsUpdateHealth" not in consumers


def test_an_invalid_definition_never_reaches_the_host(fleet, run_playbook):
    removed = remove(fleet, run_playbook)
    removed["consumers"][0]["class"] = "EvilProviderConsumer"
    fleet.reset_counters()
    run = run_playbook(fleet, restore(removed), hosts=HOST)
    assert run.status(HOST, "restore") == "failed"
    assert (
        "definition.consumers[0]: class EvilProviderConsumer is not a standard consumer class"
        in (run.result(HOST, "restore")["msg"])
    )
    assert executions(fleet) == 0


def test_a_part_created_by_someone_else_meanwhile_is_not_replaced_and_the_rerun_converges(fleet, run_playbook):
    removed = remove(fleet, run_playbook)
    # Another administrator creates the filter between our read and our first write.
    fleet.set_fault(HOST, change_before_write=1)
    run = run_playbook(fleet, restore(removed), hosts=HOST)
    failed = run.result(HOST, "restore")
    assert run.status(HOST, "restore") == "failed"
    assert failed["error"]["code"] == "CHANGED_SINCE_READ"
    assert failed["created"] == {"bindings": [], "consumers": [], "filters": []}
    # The re-run finds that filter present as defined and creates the consumer and the binding.
    fleet.reset_counters()
    run = run_playbook(fleet, restore(removed), hosts=HOST)
    assert run.rc == 0, run.stdout
    created = run.result(HOST, "restore")["created"]
    assert [len(created[kind]) for kind in ("bindings", "consumers", "filters")] == [1, 1, 0]
    assert fleet.counters(HOST)["writes_by_kind"] == {"event_subscription": 2}


def test_a_hand_written_definition_is_restored_once_against_wmis_defaults(fleet, run_playbook):
    # The definition names KillTimeout only; WMI stores every default the class declares (Priority = 0x20, ...) and
    # types KillTimeout as the uint32 the class declares. The second run must find it present, not "another
    # definition".
    definition = {
        "filters": [
            {
                "namespace": "root\\subscription",
                "name": "Agent",
                "query": "SELECT * FROM __TimerEvent",
                "query_language": "WQL",
            }
        ],
        "consumers": [
            {
                "namespace": "root\\subscription",
                "name": "Agent",
                "class": "CommandLineEventConsumer",
                "command_line_template": "agent.exe --beat",
                "properties": {"KillTimeout": 30},
            }
        ],
        "bindings": [
            {
                "namespace": "root\\subscription",
                "filter": "Agent",
                "consumer": "Agent",
                "consumer_class": "CommandLineEventConsumer",
            }
        ],
    }
    run = run_playbook(fleet, restore(definition), hosts=HOST)
    assert run.rc == 0, run.stdout
    assert run.result(HOST, "restore")["changed"] is True
    stored = next(c for c in fleet.state(HOST)["subscriptions"]["consumers"] if c["name"] == "Agent")
    assert stored["properties"]["KillTimeout"] == 30 and stored["properties"]["Priority"] == 32
    fleet.reset_counters()
    run = run_playbook(fleet, restore(definition), hosts=HOST)
    assert run.rc == 0, run.stdout
    assert run.result(HOST, "restore")["changed"] is False
    assert fleet.counters(HOST)["writes"] == 0
