# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.event_subscription state=present end to end: real ansible-playbook over WinRM against copies of the
small fleet's ws2016, which holds the built-in SCM subscription and the WindowsUpdateHealth command-line consumer
(T1546.003).

A subscription is removed (its ``removed`` kept), then restored from that value in four steps - check, apply, apply
again, check - and event_subscription_info afterwards shows the definitions it showed before the removal.

Each test is a plan on a host of its own (a generator yielding its plays, asserting on each run); the plans run side by
side, one ansible-playbook run per round, so five tests cost five runs instead of seventeen.
"""

from __future__ import annotations

import copy

import pytest

from simulator.harness import SideBySide, wmi_state_runs

pytestmark = pytest.mark.e2e

# ws2016 of simulator/fleets/small.yml, once per test.
FLEET = r"""
defaults:
  profile: "2016"
  namespaces:
    root\cimv2: "O:BAG:BAD:(A;CI;CCDCLCSWRPWP;;;WD)(A;CI;CCDCRP;;;{machine}-1109)"
  subscriptions: [scm, malicious]
  scripts: [legacy_adsi, async_sink, clean]
hosts:
  - name: four-steps
  - name: conflicting
  - name: invalid
  - name: created-meanwhile
  - name: hand-written
"""
CONSUMER = {"consumer": "WindowsUpdateHealth", "consumer_class": "CommandLineEventConsumer"}
INFO = [{"name": "info", "winsec.wmi.event_subscription_info": {}}]


def restore(definition, **keywords):
    task = {"name": "restore", "winsec.wmi.event_subscription": {"state": "present", "definition": definition}}
    return [{**task, **keywords}]


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


def consumer_names(fleet, host):
    return {c["name"] for c in fleet.state(host)["subscriptions"]["consumers"]}


def remove(host, before=()):
    """Remove WindowsUpdateHealth (after the tasks ``before``): that round's step and the ``removed`` value."""
    step = yield {"hosts": host, "tasks": [*before, {"name": "remove", "winsec.wmi.event_subscription": CONSUMER}]}
    assert step.run.rc == 0, step.run.stdout
    removed = step.run.result(host, "remove")["removed"]
    assert [len(removed[kind]) for kind in ("bindings", "consumers", "filters")] == [1, 1, 1]
    return step, removed


def restore_what_was_removed_in_four_steps(fleet, host):
    step, removed = yield from remove(host, before=[{**INFO[0], "check_mode": True}])
    before = subscription_parts(step.run.result(host, "info"), "WindowsUpdateHealth")
    assert without_creator(removed) == without_creator(before)

    # 1. check mode: the creation predicted, with its diff; nothing written
    step = yield {"hosts": host, "tasks": restore(removed), "check_mode": True, "diff": True}
    assert step.run.rc == 0, step.run.stdout
    checked = step.run.result(host, "restore")
    assert checked["changed"] is True and "would be created" in checked["msg"]
    assert checked["created"] == removed
    assert checked["diff"]["before"] == "" and "-Enc" in checked["diff"]["after"]
    assert step.writes(host) == 0 and wmi_state_runs(step, host) == 1
    assert "WindowsUpdateHealth" not in consumer_names(fleet, host)

    # 2. apply: one write per part, in a second round trip
    step = yield {"hosts": host, "tasks": restore(removed)}
    assert step.run.rc == 0, step.run.stdout
    applied = step.run.result(host, "restore")
    assert applied["changed"] is True
    assert without_creator(applied["created"]) == without_creator(removed)
    assert step.counters[host]["writes_by_kind"] == {"event_subscription": 3}
    assert wmi_state_runs(step, host) == 2

    # 3. idempotent: one read, nothing written
    step = yield {"hosts": host, "tasks": restore(removed)}
    assert step.run.rc == 0, step.run.stdout
    again = step.run.result(host, "restore")
    assert again["changed"] is False and "present as defined (3 parts)" in again["msg"]
    assert again["created"] == {"bindings": [], "consumers": [], "filters": []}
    assert step.writes(host) == 0 and wmi_state_runs(step, host) == 1

    # 4. check again: nothing to do (the inventory, read-only, runs in the same check-mode play)
    step = yield {"hosts": host, "tasks": restore(removed) + INFO, "check_mode": True}
    assert step.run.rc == 0, step.run.stdout
    assert step.run.result(host, "restore")["changed"] is False
    assert step.writes(host) == 0

    # The inventory shows the definitions it showed before the removal - and still calls the consumer suspicious.
    info = step.run.result(host, "info")
    assert without_creator(subscription_parts(info, "WindowsUpdateHealth")) == without_creator(before)
    restored = [s for s in info["subscriptions"] if s["consumer"] and s["consumer"]["name"] == "WindowsUpdateHealth"]
    assert [s["classification"] for s in restored] == ["suspicious"]


def a_conflicting_definition_fails_and_writes_nothing(fleet, host):
    _, removed = yield from remove(host)
    # Someone else has since put a filter of that name back, with another query: it is never overwritten.
    other_filter = {**removed["filters"][0], "query": "SELECT * FROM __InstanceCreationEvent WITHIN 5"}
    step = yield {"hosts": host, "tasks": restore({"filters": [other_filter]})}
    assert step.run.rc == 0, step.run.stdout
    step = yield {"hosts": host, "tasks": restore(removed, ignore_errors=True)}
    failed = step.run.result(host, "restore")
    assert step.run.status(host, "restore") == "failed"
    assert "exists with another definition" in failed["msg"] and "query is" in failed["msg"]
    assert failed["conflicts"] and failed["changed"] is False
    assert step.writes(host) == 0 and wmi_state_runs(step, host) == 1
    assert "WindowsUpdateHealth" not in consumer_names(fleet, host)


def an_invalid_definition_never_reaches_the_host(fleet, host):
    _, removed = yield from remove(host)
    removed["consumers"][0]["class"] = "EvilProviderConsumer"
    step = yield {"hosts": host, "tasks": restore(removed, ignore_errors=True)}
    assert step.run.status(host, "restore") == "failed"
    assert (
        "definition.consumers[0]: class EvilProviderConsumer is not a standard consumer class"
        in (step.run.result(host, "restore")["msg"])
    )
    assert wmi_state_runs(step, host) == 0


def a_part_created_by_someone_else_meanwhile_is_not_replaced_and_the_rerun_converges(fleet, host):
    _, removed = yield from remove(host)
    # Another administrator creates the filter between our read and our first write.
    fleet.set_fault(host, change_before_write=1)
    step = yield {"hosts": host, "tasks": restore(removed, ignore_errors=True)}
    failed = step.run.result(host, "restore")
    assert step.run.status(host, "restore") == "failed"
    assert failed["error"]["code"] == "CHANGED_SINCE_READ"
    assert failed["created"] == {"bindings": [], "consumers": [], "filters": []}
    # The re-run finds that filter present as defined and creates the consumer and the binding.
    step = yield {"hosts": host, "tasks": restore(removed)}
    assert step.run.rc == 0, step.run.stdout
    created = step.run.result(host, "restore")["created"]
    assert [len(created[kind]) for kind in ("bindings", "consumers", "filters")] == [1, 1, 0]
    assert step.counters[host]["writes_by_kind"] == {"event_subscription": 2}


def a_hand_written_definition_is_restored_once_against_wmis_defaults(fleet, host):
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
    step = yield {"hosts": host, "tasks": restore(definition)}
    assert step.run.rc == 0, step.run.stdout
    assert step.run.result(host, "restore")["changed"] is True
    stored = next(c for c in fleet.state(host)["subscriptions"]["consumers"] if c["name"] == "Agent")
    assert stored["properties"]["KillTimeout"] == 30 and stored["properties"]["Priority"] == 32
    step = yield {"hosts": host, "tasks": restore(definition)}
    assert step.run.rc == 0, step.run.stdout
    assert step.run.result(host, "restore")["changed"] is False
    assert step.writes(host) == 0


PLANS = {  # host: plan
    "four-steps": restore_what_was_removed_in_four_steps,
    "conflicting": a_conflicting_definition_fails_and_writes_nothing,
    "invalid": an_invalid_definition_never_reaches_the_host,
    "created-meanwhile": a_part_created_by_someone_else_meanwhile_is_not_replaced_and_the_rerun_converges,
    "hand-written": a_hand_written_definition_is_restored_once_against_wmis_defaults,
}


@pytest.fixture(scope="module")
def plans(module_fleet_from_text):
    return SideBySide.per_host(module_fleet_from_text(FLEET), PLANS)


def test_restore_what_was_removed_in_four_steps(plans):
    plans.outcome("four-steps")


def test_a_conflicting_definition_fails_and_writes_nothing(plans):
    plans.outcome("conflicting")


def test_an_invalid_definition_never_reaches_the_host(plans):
    plans.outcome("invalid")


def test_a_part_created_by_someone_else_meanwhile_is_not_replaced_and_the_rerun_converges(plans):
    plans.outcome("created-meanwhile")


def test_a_hand_written_definition_is_restored_once_against_wmis_defaults(plans):
    plans.outcome("hand-written")
