# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.event_subscription_info and winsec.wmi.event_subscription end to end: real ansible-playbook over WinRM
against simulated hosts with built-in, benign and malicious permanent event subscriptions (T1546.003).

Fleet (written below): clean (Server 2022, the built-in SCM subscription only), mixed (Server 2022: the built-in
SCM subscription; a CommandLineEventConsumer named "SCM Event Log Consumer" bound to the SCM filter; an encoded
PowerShell download cradle; an ActiveScriptEventConsumer in root\\default; an administrator's LogFileEventConsumer).
Server 2003's built-in BVT consumer is covered by the unit tests: ansible-core 2.19+ cannot reach Server 2003.

The tests but the examples' are plans, each on hosts of its own (copies of mixed where it changes it), run side by side:
one ansible-playbook run per round (SideBySide).
"""

from __future__ import annotations

import importlib

import pytest
import yaml

from simulator.harness import SideBySide, wmi_state_runs

pytestmark = pytest.mark.e2e

FLEET = r"""
hosts:
  - {name: clean, profile: "2022"}
  - &mixed
    name: mixed
    profile: "2022"
    subscriptions: [scm, impostor, malicious, active_script, disk_log]
    # Administrators are denied Enable on it: a recursive inventory lists it as unreadable and reads the rest.
    namespaces: {'root\Locked': "O:BAG:BAD:(D;;CC;;;BA)"}
"""

# mixed again for each plan that changes it or counts its round trips alone.
SIDE_BY_SIDE_FLEET = (
    FLEET
    + r"""
  - {<<: *mixed, name: allow-list}
  - {<<: *mixed, name: impostor}
  - {<<: *mixed, name: changed-host}
  - {<<: *mixed, name: by-consumer}
"""
)
INFO = [{"name": "info", "winsec.wmi.event_subscription_info": {}}]
IMPOSTOR = {"consumer": "SCM Event Log Consumer", "consumer_class": "CommandLineEventConsumer"}


@pytest.fixture
def subscription_fleet(fleet_from_text):
    return fleet_from_text(FLEET)


def by_consumer(result):
    return {(s["consumer"]["class"], s["consumer"]["name"]): s for s in result["subscriptions"] if s["consumer"]}


def consumers_on(fleet, host):
    return sorted((c["class"], c["name"]) for c in fleet.state(host)["subscriptions"]["consumers"])


def inventory_classifies_malicious_and_keeps_builtins(fleet, hosts=("clean", "mixed")):
    step = yield {"hosts": ":".join(hosts), "tasks": INFO, "check_mode": True}
    run = step.run
    assert run.rc == 0, run.stdout

    clean = run.result("clean", "info")
    assert clean["changed"] is False and clean["compliant"] is True
    assert clean["counts"] == {"builtin": 1, "allowed": 0, "suspicious": 0, "unrecognised": 0}
    assert clean["findings"] == []

    mixed = run.result("mixed", "info")
    assert mixed["changed"] is False and mixed["compliant"] is False
    subscriptions = by_consumer(mixed)
    # The real SCM consumer is built-in; its namesake of another class, bound to the same filter, is not.
    assert subscriptions[("NTEventLogEventConsumer", "SCM Event Log Consumer")]["classification"] == "builtin"
    impostor = subscriptions[("CommandLineEventConsumer", "SCM Event Log Consumer")]
    assert impostor["classification"] == "suspicious"
    assert {"code_running_consumer", "lolbin", "user_writable_path"} <= {r["id"] for r in impostor["reasons"]}
    assert impostor["binding"]["consumer_class"] == "CommandLineEventConsumer"

    encoded = subscriptions[("CommandLineEventConsumer", "WindowsUpdateHealth")]
    reasons = {r["id"]: r for r in encoded["reasons"]}
    assert "198.51.100.7" in reasons["encoded_powershell"]["evidence"]  # decoded from -Enc
    assert {"downloads", "network_path"} <= set(reasons)

    script = subscriptions[("ActiveScriptEventConsumer", "LogonAudit")]
    # Read through root's children, the namespace is named as WMI spells it (root\\DEFAULT in the simulator).
    assert script["classification"] == "suspicious" and script["namespace"].lower() == "root\\default"
    assert "executes" in {r["id"] for r in script["reasons"]}

    disk = subscriptions[("LogFileEventConsumer", "DiskSpaceLog")]
    assert disk["classification"] == "unrecognised" and disk["reasons"] == []
    assert disk["consumer"]["properties"]["Filename"] == "C:\\Logs\\disk.log"

    assert mixed["counts"] == {"builtin": 1, "allowed": 0, "suspicious": 3, "unrecognised": 1}
    # Every namespace is read by default, root\Locked too, which the account may not open: listed, never skipped.
    assert {f["id"] for f in mixed["findings"]} == {
        "suspicious_event_consumer",
        "unrecognised_event_consumer",
        "namespace_unreadable",
    }
    for host in hosts:
        assert step.writes(host) == 0
        assert wmi_state_runs(step, host) == 1  # one round trip per host, facts included


def allow_list_and_every_namespace(fleet, host):
    allowed = {"consumer": "DiskSpaceLog", "consumer_class": "LogFileEventConsumer", "description": "ops disk log"}
    tasks = [
        {
            "name": "info",
            "winsec.wmi.event_subscription_info": {"namespaces": ["root"], "recurse": True, "allowed": [allowed]},
        },
        # A name alone would admit a consumer of another class: refused.
        {
            "name": "bad",
            "winsec.wmi.event_subscription_info": {"allowed": [{"consumer": "x", "consumer_class": ""}]},
            "ignore_errors": True,
        },
    ]
    step = yield {"hosts": host, "tasks": tasks}
    run = step.run
    assert run.rc == 0, run.stdout
    mixed = run.result(host, "info")
    subscriptions = by_consumer(mixed)
    assert subscriptions[("LogFileEventConsumer", "DiskSpaceLog")]["classification"] == "allowed"
    assert subscriptions[("LogFileEventConsumer", "DiskSpaceLog")]["known_as"] == "ops disk log"
    # root and every namespace below it: root\default's script consumer is found too.
    assert ("ActiveScriptEventConsumer", "LogonAudit") in subscriptions
    assert mixed["counts"]["suspicious"] == 3
    assert [(e["namespace"], e["error"]["name"]) for e in mixed["namespace_errors"]] == [
        ("root\\Locked", "WBEM_E_ACCESS_DENIED")
    ]
    assert mixed["compliant"] is False
    assert run.status(host, "bad") == "failed"
    assert "consumer_class" in run.result(host, "bad")["msg"]


def remove_impostor_in_four_steps(fleet, host):
    remove = [{"name": "remove", "winsec.wmi.event_subscription": {**IMPOSTOR, "state": "absent"}}]
    before = consumers_on(fleet, host)

    # 1. check mode: what would be removed, with its definition; nothing written
    step = yield {"hosts": host, "tasks": remove, "check_mode": True, "diff": True}
    assert step.run.rc == 0, step.run.stdout
    checked = step.run.result(host, "remove")
    assert checked["changed"] is True
    assert [c["class"] for c in checked["removed"]["consumers"]] == ["CommandLineEventConsumer"]
    assert checked["removed"]["filters"] == []  # the SCM filter is still bound to the built-in consumer
    assert "rundll32.exe" in checked["diff"]["before"] and checked["diff"]["after"] == ""
    assert "would be removed" in checked["msg"]
    assert step.writes(host) == 0
    assert consumers_on(fleet, host) == before

    # 2. apply: binding, then consumer; the built-in namesake stays
    step = yield {"hosts": host, "tasks": remove, "diff": True}
    assert step.run.rc == 0, step.run.stdout
    applied = step.run.result(host, "remove")
    assert applied["changed"] is True
    consumer = applied["removed"]["consumers"][0]
    assert consumer["command_line_template"].startswith("C:\\Windows\\System32\\rundll32.exe")
    assert applied["removed"]["bindings"] == [
        {
            "namespace": "root\\subscription",
            "filter": "SCM Event Log Filter",
            "consumer": "SCM Event Log Consumer",
            "consumer_class": "CommandLineEventConsumer",
        }
    ]
    assert step.counters[host]["writes_by_kind"] == {"event_subscription": 2}
    assert wmi_state_runs(step, host) == 2
    after = consumers_on(fleet, host)
    assert ("CommandLineEventConsumer", "SCM Event Log Consumer") not in after
    assert ("NTEventLogEventConsumer", "SCM Event Log Consumer") in after

    # 3. idempotent
    step = yield {"hosts": host, "tasks": remove}
    assert step.run.rc == 0, step.run.stdout
    again = step.run.result(host, "remove")
    assert again["changed"] is False and "is absent" in again["msg"]
    assert step.writes(host) == 0 and wmi_state_runs(step, host) == 1

    # 4. check again: nothing to do, nothing written (the inventory, read-only, runs in the same check-mode play)
    step = yield {"hosts": host, "tasks": remove + INFO, "check_mode": True}
    assert step.run.rc == 0, step.run.stdout
    assert step.run.result(host, "remove")["changed"] is False
    assert step.writes(host) == 0

    # The inventory now sees the built-in only, where the impostor was.
    assert ("CommandLineEventConsumer", "SCM Event Log Consumer") not in by_consumer(step.run.result(host, "info"))


def changed_host_is_refused_and_the_rerun_converges(fleet, host):
    args = {"consumer": "WindowsUpdateHealth", "consumer_class": "CommandLineEventConsumer"}
    remove = [{"name": "remove", "winsec.wmi.event_subscription": args}]

    # Another administrator changes the binding between our read and our write: nothing is removed.
    fleet.set_fault(host, change_before_write=1)
    step = yield {"hosts": host, "tasks": [{**remove[0], "ignore_errors": True}]}
    failed = step.run.result(host, "remove")
    assert step.run.status(host, "remove") == "failed"
    assert failed["error"]["code"] == "CHANGED_SINCE_READ"
    assert failed["removed"] == {"bindings": [], "consumers": [], "filters": []}
    assert ("CommandLineEventConsumer", "WindowsUpdateHealth") in consumers_on(fleet, host)

    # The re-run converges. The binding the other administrator deleted no longer links the filter to this consumer,
    # so only the consumer goes; the filter is left unbound, and the inventory reports it as an orphan.
    step = yield {"hosts": host, "tasks": remove}
    assert step.run.rc == 0, step.run.stdout
    removed = step.run.result(host, "remove")["removed"]
    assert removed["bindings"] == [] and removed["filters"] == []
    assert "-Enc" in removed["consumers"][0]["command_line_template"]
    step = yield {"hosts": host, "tasks": INFO, "check_mode": True}
    orphans = [f for f in step.run.result(host, "info")["findings"] if f["id"] == "orphan_filter"]
    assert [f["filter"] for f in orphans] == ["WindowsUpdateHealth"]


def remove_by_consumer_takes_the_filter_bound_to_it_alone(fleet, host):
    args = {"namespace": "root/default", "consumer": "LogonAudit", "consumer_class": "ActiveScriptEventConsumer"}
    step = yield {"hosts": host, "tasks": [{"name": "remove", "winsec.wmi.event_subscription": args}]}
    assert step.run.rc == 0, step.run.stdout
    removed = step.run.result(host, "remove")["removed"]
    assert [len(removed[kind]) for kind in ("bindings", "consumers", "filters")] == [1, 1, 1]
    assert removed["consumers"][0]["script_text"].startswith('Set sh = CreateObject("WScript.Shell")')
    assert removed["filters"][0]["query"].startswith("SELECT * FROM __InstanceCreationEvent")
    state = fleet.state(host)["subscriptions"]
    assert "LogonAudit" not in {f["name"] for f in state["filters"]} | {c["name"] for c in state["consumers"]}
    assert step.counters[host]["writes_by_kind"] == {"event_subscription": 3}


@pytest.fixture(scope="module")
def plans(module_fleet_from_text):
    fleet = module_fleet_from_text(SIDE_BY_SIDE_FLEET)
    return SideBySide(
        fleet,
        {
            "inventory": inventory_classifies_malicious_and_keeps_builtins(fleet),
            "allow-list": allow_list_and_every_namespace(fleet, "allow-list"),
            "impostor": remove_impostor_in_four_steps(fleet, "impostor"),
            "changed-host": changed_host_is_refused_and_the_rerun_converges(fleet, "changed-host"),
            "by-consumer": remove_by_consumer_takes_the_filter_bound_to_it_alone(fleet, "by-consumer"),
        },
    )


def test_inventory_classifies_malicious_and_keeps_builtins(plans):
    plans.outcome("inventory")


def test_allow_list_and_every_namespace(plans):
    plans.outcome("allow-list")


def test_remove_impostor_in_four_steps(plans):
    plans.outcome("impostor")


def test_changed_host_is_refused_and_the_rerun_converges(plans):
    plans.outcome("changed-host")


def test_remove_by_consumer_takes_the_filter_bound_to_it_alone(plans):
    plans.outcome("by-consumer")


def examples(name):
    return yaml.safe_load(importlib.import_module(f"ansible_collections.winsec.wmi.plugins.modules.{name}").EXAMPLES)


def test_examples_run(subscription_fleet, run_playbook):
    fleet = subscription_fleet
    info = examples("event_subscription_info")
    run = run_playbook(fleet, info, hosts="clean")
    assert run.rc == 0, run.stdout[-4000:]
    run = run_playbook(fleet, examples("event_subscription"), hosts="mixed")
    assert run.rc == 0, run.stdout[-4000:]
    assert [run.result("mixed", index)["changed"] for index in (0, 2, 3)] == [True, True, True]
    # The last example restored what the first removed, from the JSON file the second wrote.
    restored = run.result("mixed", 3)["created"]
    assert [c["name"] for c in restored["consumers"]] == ["WindowsUpdateHealth"]
    assert ("CommandLineEventConsumer", "WindowsUpdateHealth") in consumers_on(fleet, "mixed")
    assert ("ActiveScriptEventConsumer", "LogonAudit") not in consumers_on(fleet, "mixed")
    # On the host with malicious consumers, the second example's assert fails, as it should.
    run = run_playbook(fleet, info, hosts="mixed")
    assert run.status("mixed", 1) == "failed"
