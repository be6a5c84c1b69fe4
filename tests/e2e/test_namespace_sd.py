# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.namespace_sd end to end over WinRM against the simulated small fleet."""

from __future__ import annotations

import re

import pytest

from simulator.harness import each_on_its_host, run_step, wmi_state_runs

pytestmark = pytest.mark.e2e

ADMIN = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"
MONITORING = "(A;CI;CCDCWPRC;;;S-1-5-32-558)"  # Performance Monitor Users: Enable, MethodExecute, Remote, ReadSecurity
EXACT = {"namespace": "ROOT/CIMV2", "sddl": "O:BAG:BAD:" + ADMIN + MONITORING}


def cimv2(fleet, host):
    return fleet.state(host)["namespaces"]["root\\cimv2"]


@pytest.fixture(scope="module")
def scenario_fleet(module_fleet_factory):
    """The small fleet of the module's scenarios (``four_steps`` and the fixtures after it): each resets it first,
    then keeps what its tests assert on (results, counters, states), so they never see one another."""
    return module_fleet_factory("small")


def side_by_side(fleet, tasks_by_host):
    """Each host's tasks (two tests' plays, on hosts of their own) in one run, every task guarded to its host so the
    other hosts skip it: the Step (each host's results and counters are its own) and each host's state after it."""
    step = run_step(fleet, each_on_its_host(tasks_by_host), hosts=":".join(tasks_by_host))
    return step, {host: fleet.state(host) for host in tasks_by_host}


FOUR_STEP_HOSTS = ("ws2016", "ws2022", "ws2012")


@pytest.fixture(scope="module")
def four_steps(scenario_fleet):
    """The four steps once, each one run over every host of FOUR_STEP_HOSTS (each host's outcome is its own): the
    descriptors before, and per step the run, the simulator's counters and each host's root\\cimv2 after it."""
    fleet = scenario_fleet
    fleet.reset()
    tasks = [{"name": "sd", "winsec.wmi.namespace_sd": EXACT}]
    hosts = ":".join(FOUR_STEP_HOSTS)
    before = {host: cimv2(fleet, host) for host in FOUR_STEP_HOSTS}
    steps = {}
    for name, options in (
        ("checked", {"check": True, "diff": True}),
        ("applied", {}),
        ("rerun", {}),
        ("checked_again", {"check": True}),
    ):
        step = run_step(fleet, tasks, hosts=hosts, **options)
        steps[name] = (step, {host: cimv2(fleet, host) for host in FOUR_STEP_HOSTS})
    return before, steps


@pytest.mark.parametrize("host", FOUR_STEP_HOSTS)
def test_four_steps_exact(four_steps, host):
    before, steps = four_steps

    # 1. check mode predicts, writes nothing, one round trip
    checked, after_check = steps["checked"]
    assert checked.run.rc == 0, checked.run.stdout
    predicted = checked.run.result(host, "sd")
    assert predicted["changed"] is True
    assert predicted["previous_sddl"] == before[host]
    if host == "ws2016":  # the drifting host: Everyone has write and remote access on root\cimv2
        assert any(change.startswith("removed: allow Everyone (S-1-1-0)") for change in predicted["changes"])
    assert any(change.startswith("added: allow BUILTIN\\Performance Monitor Users") for change in predicted["changes"])
    assert predicted["diff"]["before"].startswith("sddl: " + before[host])
    assert "BUILTIN\\Performance Monitor Users (S-1-5-32-558): Enable" in predicted["diff"]["after"]
    # WMI compares namespace names case-insensitively; the result keeps the spelling the host answered with.
    assert predicted["namespace"].lower() == "root\\cimv2"
    # The callback printed it.
    header = f"before: {predicted['namespace']} (namespace security descriptor)"
    assert header in checked.run.stdout, checked.run.stdout
    assert wmi_state_runs(checked, host) == 1 and checked.writes(host) == 0
    assert after_check[host] == before[host]

    # 2. apply: read, then write + read-back; the host ends where check mode said
    applied, after_apply = steps["applied"]
    assert applied.run.rc == 0, applied.run.stdout
    result = applied.run.result(host, "sd")
    assert result["changed"] is True
    assert result["sddl"] == predicted["sddl"] == after_apply[host]
    assert wmi_state_runs(applied, host) == 2
    assert applied.counters[host]["writes_by_kind"] == {"namespace_sd": 1}

    # 3. idempotent re-run and 4. check mode again: no change, one round trip, no write
    for again, _ in (steps["rerun"], steps["checked_again"]):
        assert again.run.rc == 0, again.run.stdout
        assert again.run.result(host, "sd")["changed"] is False
        assert again.run.result(host, "sd")["changes"] == []
        assert wmi_state_runs(again, host) == 1 and again.writes(host) == 0


def present_and_absent_tasks(orphan):
    return [
        {
            "name": "add",
            "winsec.wmi.namespace_sd": {
                "namespace": "root\\cimv2",
                "mode": "present",
                "aces": [
                    {"principal": "BUILTIN\\Administrators", "rights": ["FullControl"]},
                    {"principal": "Remote Management Users", "rights": ["Enable", "RemoteAccess"], "inherit": "this"},
                ],
            },
        },
        {
            "name": "drop",
            "winsec.wmi.namespace_sd": {
                "namespace": "root\\cimv2",
                "mode": "absent",
                "aces": [{"principal": "Everyone"}, {"principal": orphan}],
            },
        },
        {
            "name": "again",
            "winsec.wmi.namespace_sd": {
                "namespace": "root\\cimv2",
                "mode": "absent",
                "aces": [{"principal": "Everyone"}, {"principal": orphan}],
            },
        },
    ]


@pytest.fixture(scope="module")
def present_and_deny(scenario_fleet):
    """One run: present and absent on ws2016, side by side with the refused deny to the connecting account on
    ws2022. Returns ws2016's orphaned SID, ws2022's root\\cimv2 before, the Step and the states after."""
    scenario_fleet.reset()
    orphan = re.search(r"S-1-5-21-[0-9-]+-1109", cimv2(scenario_fleet, "ws2016")).group(0)
    before = cimv2(scenario_fleet, "ws2022")
    deny = _deny_to_the_connecting_account(["Enable", "ReadSecurity", "WriteSecurity"])
    step, after = side_by_side(scenario_fleet, {"ws2016": present_and_absent_tasks(orphan), "ws2022": [deny]})
    return orphan, before, step, after


def test_present_and_absent_with_names_and_orphans(present_and_deny):
    orphan, _, step, after = present_and_deny
    run = step.run
    assert run.rc == 0, run.stdout
    assert run.result("ws2016", "add")["changed"] is True
    assert orphan in run.result("ws2016", "add")["sddl"]  # present keeps what it was not asked about
    dropped = run.result("ws2016", "drop")
    assert dropped["changed"] is True
    assert any(orphan in change and change.startswith("removed:") for change in dropped["changes"])
    assert run.result("ws2016", "again")["changed"] is False
    final = after["ws2016"]["namespaces"]["root\\cimv2"]
    assert "WD)" not in final.split("(A;CIID")[0] and orphan not in final
    assert "(A;;CCWP;;;RM)" in final  # Remote Management Users, inherit: this


REFUSALS = [
    ({"sddl": ""}, "null_sd", "NULL security descriptor"),
    ({"sddl": "O:BAG:BA"}, "no_dacl", "no DACL"),
    ({"sddl": "O:BAG:BAD:NO_ACCESS_CONTROL"}, "null_dacl", "NULL (D:NO_ACCESS_CONTROL)"),
    ({"sddl": "O:BAG:BAD:", "namespace": "root"}, "empty_dacl", "the DACL is empty"),
    ({"sddl": "O:BAG:BAD:(A;CI;CCDCRP;;;AU)", "namespace": "ROOT"}, "lockout", "from BUILTIN\\Administrators"),
    ({"sddl": "O:BAG:BAD:P(A;CI;CCDCRP;;;AU)", "namespace": "root"}, "lockout", "from BUILTIN\\Administrators"),
    ({"sddl": "O:BAG:BAD:" + ADMIN + "(A;CI;CCLC;;;AU)"}, "full_write_incomplete", "FullWrite"),
    ({"sddl": "O:BAG:BAD:" + ADMIN + "(A;IO;CC;;;AU)"}, "inherit_only_without_container_inherit", "Inherit-Only"),
    ({"sddl": "O:BAG:BAD:" + ADMIN + "(A;CI;0x100000;;;AU)"}, "unknown_access_bits", "access bits 0x100000"),
    ({"sddl": "O:BAG:BAD:" + ADMIN + "(A;CIFA;CC;;;AU)"}, "unknown_ace_flags", "ACE flags 0x80"),
    ({"sddl": "O:BAG:BAD:" + ADMIN + "(OA;CI;CC;;;AU)"}, "unknown_ace_type", "ACE type"),
    ({"sddl": "O:BAG:BAD:" + ADMIN + "(A;CIID;CC;;;AU)"}, "inherited_ace", "marked inherited"),
]


def test_each_refusal_before_any_contact_on_every_os(fleet, run_playbook):
    before = {host: fleet.state(host)["namespaces"] for host in fleet.hosts}
    tasks = [
        {
            "name": f"{index}-{code}",
            "winsec.wmi.namespace_sd": {"namespace": "root\\cimv2", **args},
            "ignore_errors": True,
        }
        for index, (args, code, _) in enumerate(REFUSALS)
    ]
    run = run_playbook(fleet, tasks)
    for host in fleet.hosts:  # w2000's WMI would take a NULL SD or NULL DACL: refused there as well
        for index, (_args, code, words) in enumerate(REFUSALS):
            result = run.result(host, f"{index}-{code}")
            assert run.status(host, f"{index}-{code}") == "failed", (host, code, result)
            assert result["refusal"] == code, (host, code, result["msg"])
            assert words in result["msg"] and "nothing written" in result["msg"]
        assert wmi_state_runs(fleet, host) == 0
        assert fleet.state(host)["namespaces"] == before[host]
        assert fleet.state(host)["null_sd_namespaces"] == []


DOMAIN_ACCOUNT = {
    "name": "domain",
    "winsec.wmi.namespace_sd": {
        "namespace": "root\\cimv2",
        "mode": "present",
        "aces": [{"principal": "CORP\\svc_backup", "rights": ["Enable", "MethodExecute", "RemoteAccess"]}],
    },
}
CHANGED_TASKS = [{"name": "sd", "winsec.wmi.namespace_sd": {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:" + ADMIN}}]


@pytest.fixture(scope="module")
def changed_and_accounts(scenario_fleet):
    """A descriptor changed between read and write on ws2016 (the simulator's change_before_write), side by side with
    an unknown account on ws2022 (refused, nothing written); then ws2016's re-run, side by side with a domain account
    by name on ws2022. Returns each Step with the states after it."""
    scenario_fleet.reset()
    # Another administrator adds an ACE for Performance Monitor Users (CI, Enable) between our read and our write.
    scenario_fleet.set_fault("ws2016", change_before_write=1)
    unknown = {
        "name": "unknown",
        "winsec.wmi.namespace_sd": {
            "namespace": "root\\cimv2",
            "mode": "present",
            "aces": [{"principal": "CORP\\nobody", "rights": ["Enable"]}],
        },
    }
    first = side_by_side(scenario_fleet, {"ws2016": CHANGED_TASKS, "ws2022": [unknown]})
    again = side_by_side(scenario_fleet, {"ws2016": CHANGED_TASKS, "ws2022": [DOMAIN_ACCOUNT]})
    return first, again


def test_a_descriptor_changed_between_read_and_write_is_not_overwritten(changed_and_accounts):
    (step, after), (again, after_again) = changed_and_accounts
    run = step.run
    result = run.result("ws2016", "sd")
    assert run.status("ws2016", "sd") == "failed"
    assert result["error"]["code"] == "CHANGED_SINCE_READ" and "nothing was written" in result["msg"]
    assert "(A;CI;CC;;;MU)" in after["ws2016"]["namespaces"]["root\\cimv2"]  # their change stands
    assert step.writes("ws2016") == 0
    assert again.run.result("ws2016", "sd")["changed"] is True
    assert after_again["ws2016"]["namespaces"]["root\\cimv2"].startswith("O:BAG:BAD:" + ADMIN + "(A;CIID;")


def test_non_admin_caller_gets_access_denied_by_name(fleet, run_playbook):
    tasks = [{"name": "sd", "winsec.wmi.namespace_sd": EXACT}]
    before = cimv2(fleet, "ws2016")
    run = run_playbook(
        fleet, tasks, hosts="ws2016", extra_vars={"ansible_user": "simuser", "ansible_password": "Sim-User-Pass1"}
    )
    result = run.result("ws2016", "sd")
    assert run.status("ws2016", "sd") == "failed"
    assert "WBEM_E_ACCESS_DENIED (0x80041003)" in result["msg"], result["msg"]
    assert cimv2(fleet, "ws2016") == before and fleet.counters("ws2016")["writes"] == 0


def test_unknown_account_is_refused_after_the_lookup(changed_and_accounts):
    (step, _), _ = changed_and_accounts
    result = step.run.result("ws2022", "unknown")
    assert result["refusal"] == "unknown_principal" and "'CORP\\nobody'" in result["msg"]  # as written, not repr
    assert wmi_state_runs(step, "ws2022") == 1 and step.writes("ws2022") == 0


def test_domain_account_by_name(changed_and_accounts):
    _, (step, _) = changed_and_accounts
    run = step.run
    assert run.rc == 0, run.stdout
    result = run.result("ws2022", "domain")
    assert result["changed"] is True
    assert any("svc_backup" in change.lower() for change in result["changes"]), result["changes"]
    assert wmi_state_runs(step, "ws2022") == 2


ROLLBACK_REFUSALS = [
    {
        "name": "present",
        "winsec.wmi.namespace_sd": {"namespace": "root", "mode": "present", "rollback_from": "O:BAG:BAD:"},
    },
    {"name": "nodacl", "winsec.wmi.namespace_sd": {"namespace": "root", "rollback_from": "O:BAG:BA"}},
]


@pytest.fixture(scope="module")
def child_and_rollback_refusals(scenario_fleet):
    """One run: root\\cimv2 back to inherited-only on ws2016, side by side with the rollback refusals on ws2022."""
    scenario_fleet.reset()
    # An empty explicit DACL on a child namespace is not an empty DACL: the ACEs inherited from root stay.
    child = {"name": "sd", "winsec.wmi.namespace_sd": {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:"}}
    refusals = [{**task, "ignore_errors": True} for task in ROLLBACK_REFUSALS]
    return side_by_side(scenario_fleet, {"ws2016": [child], "ws2022": refusals})


def test_child_namespace_back_to_inherited_only(child_and_rollback_refusals):
    step, after = child_and_rollback_refusals
    run = step.run
    assert run.rc == 0, run.stdout
    result = run.result("ws2016", "sd")
    assert result["changed"] is True
    assert (
        result["sddl"] == after["ws2016"]["namespaces"]["root\\cimv2"] == after["ws2022"]["namespaces"]["root\\cimv2"]
    )
    assert "(A;CIID;CCDCLCSWRPWPRCWD;;;BA)" in result["sddl"]


ROLLBACK_NAMESPACES = ["root\\cimv2", "root"]


def change_and_rollback(namespace):
    change = {
        "name": "change",
        "winsec.wmi.namespace_sd": {
            "namespace": namespace,
            # Everyone's write grant on ws2016's root\cimv2 goes, and with it what the children inherited from it.
            "sddl": "O:BAG:BAD:" + ADMIN + MONITORING,
        },
        "register": "change",
    }
    rollback = {
        "name": "rollback",
        "winsec.wmi.namespace_sd": {"namespace": namespace, "rollback_from": "{{ change.previous_sddl }}"},
    }
    return [change, rollback]


@pytest.fixture(scope="module")
def rollbacks_and_lockout(scenario_fleet):
    """On ws2016, per namespace of ROLLBACK_NAMESPACES, from the fleet as it started: one run that changes the
    descriptor and rolls it back (the host's namespaces before and after it). Then one run that rolls back every one
    of them again to what it was (a task per namespace), side by side with a deny that takes the connecting
    account's own access on ws2022 (allow_lockout)."""
    fleet, host = scenario_fleet, "ws2016"
    changes = {}
    for namespace in ROLLBACK_NAMESPACES:
        fleet.reset()
        original = fleet.state(host)["namespaces"]
        run = run_step(fleet, change_and_rollback(namespace), hosts=host).run
        changes[namespace] = (original, run, fleet.state(host)["namespaces"])
    again = [
        {
            "name": f"rollback {namespace}",
            "winsec.wmi.namespace_sd": {"namespace": namespace, "rollback_from": original[namespace]},
        }
        for namespace, (original, _, _) in changes.items()
    ]
    took_access = _deny_to_the_connecting_account(["ReadSecurity"], allow_lockout=True)
    return changes, side_by_side(fleet, {host: again, "ws2022": [took_access]})[0]


@pytest.mark.parametrize("namespace", ROLLBACK_NAMESPACES)
def test_rollback_restores_the_saved_descriptor_exactly(rollbacks_and_lockout, namespace):
    host = "ws2016"
    changes, again = rollbacks_and_lockout
    original, run, after = changes[namespace]
    assert run.rc == 0, run.stdout[-4000:]
    assert run.result(host, "change")["changed"] is True and run.result(host, "rollback")["changed"] is True
    # Every namespace of the host, the children included, is back to exactly what it was.
    assert after == original
    # Rolling back again changes nothing; in check mode it writes nothing either.
    assert again.run.result(host, f"rollback {namespace}")["changed"] is False
    assert again.writes(host) == 0


def test_rollback_needs_exact_mode_and_a_dacl(child_and_rollback_refusals):
    step, _ = child_and_rollback_refusals
    run = step.run
    assert "needs mode=exact" in run.result("ws2022", "present")["msg"]
    assert run.result("ws2022", "nodacl")["refusal"] == "no_dacl"
    assert step.counters["ws2022"]["module_executions"] == {}


def _deny_to_the_connecting_account(rights, **extra):
    return {
        "name": "deny",
        "winsec.wmi.namespace_sd": {
            "namespace": "root\\cimv2",
            "mode": "present",
            "aces": [{"principal": "simadmin", "type": "deny", "rights": rights}],
            **extra,
        },
        "ignore_errors": True,
    }


def test_a_deny_to_the_account_this_collection_connects_with_is_refused(present_and_deny):
    # The modelled administrator tokens cannot hold one account's own SID: the guard also checks the token the host
    # reports for the connecting account (wmi_state facts), so a deny to it is a lock-out.
    _, before, step, after = present_and_deny
    deny = step.run.result("ws2022", "deny")
    assert deny.get("refusal") == "lockout" and "connects with" in deny["msg"], deny
    assert after["ws2022"]["namespaces"]["root\\cimv2"] == before
    assert step.writes("ws2022") == 0


def test_a_write_that_took_the_accounts_own_access_says_it_was_written(rollbacks_and_lockout):
    # With allow_lockout the write goes through and the read-back fails: the result is failed AND changed, with
    # what to do, never "changed: false" as if nothing had been written.
    _, step = rollbacks_and_lockout
    run = step.run
    deny = run.result("ws2022", "deny")
    assert step.writes("ws2022") == 1
    assert run.status("ws2022", "deny") == "failed" and deny["changed"] is True, deny
    assert "the write was made" in deny["msg"] and deny["read_back_error"]["name"] == "WBEM_E_ACCESS_DENIED"
