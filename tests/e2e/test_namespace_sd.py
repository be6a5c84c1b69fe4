# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.namespace_sd end to end over WinRM against the simulated small fleet."""

from __future__ import annotations

import re

import pytest

from simulator.harness import Step, run_step

pytestmark = pytest.mark.e2e

ADMIN = "(A;CI;CCDCLCSWRPWPRCWD;;;BA)"
MONITORING = "(A;CI;CCDCWPRC;;;S-1-5-32-558)"  # Performance Monitor Users: Enable, MethodExecute, Remote, ReadSecurity
EXACT = {"namespace": "ROOT/CIMV2", "sddl": "O:BAG:BAD:" + ADMIN + MONITORING}


def executions(fleet_or_step, host):
    """wmi_state runs on ``host``: counted by the fleet since its last counter reset, or during one ``Step``."""
    counters = fleet_or_step.counters[host] if isinstance(fleet_or_step, Step) else fleet_or_step.counters(host)
    return counters["module_executions"].get("winsec.wmi.wmi_state", 0)


def cimv2(fleet, host):
    return fleet.state(host)["namespaces"]["root\\cimv2"]


FOUR_STEP_HOSTS = ("ws2016", "ws2022", "ws2012")


@pytest.fixture(scope="module")
def four_steps(module_fleet_factory):
    """The four steps once, each one run over every host of FOUR_STEP_HOSTS (each host's outcome is its own): the
    descriptors before, and per step the run, the simulator's counters and each host's root\\cimv2 after it."""
    fleet = module_fleet_factory("small")
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
    assert executions(checked, host) == 1 and checked.writes(host) == 0
    assert after_check[host] == before[host]

    # 2. apply: read, then write + read-back; the host ends where check mode said
    applied, after_apply = steps["applied"]
    assert applied.run.rc == 0, applied.run.stdout
    result = applied.run.result(host, "sd")
    assert result["changed"] is True
    assert result["sddl"] == predicted["sddl"] == after_apply[host]
    assert executions(applied, host) == 2
    assert applied.counters[host]["writes_by_kind"] == {"namespace_sd": 1}

    # 3. idempotent re-run and 4. check mode again: no change, one round trip, no write
    for again, _ in (steps["rerun"], steps["checked_again"]):
        assert again.run.rc == 0, again.run.stdout
        assert again.run.result(host, "sd")["changed"] is False
        assert again.run.result(host, "sd")["changes"] == []
        assert executions(again, host) == 1 and again.writes(host) == 0


def test_present_and_absent_with_names_and_orphans(fleet, run_playbook):
    orphan = re.search(r"S-1-5-21-[0-9-]+-1109", cimv2(fleet, "ws2016")).group(0)
    tasks = [
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
    run = run_playbook(fleet, tasks, hosts="ws2016")
    assert run.rc == 0, run.stdout
    assert run.result("ws2016", "add")["changed"] is True
    assert orphan in run.result("ws2016", "add")["sddl"]  # present keeps what it was not asked about
    dropped = run.result("ws2016", "drop")
    assert dropped["changed"] is True
    assert any(orphan in change and change.startswith("removed:") for change in dropped["changes"])
    assert run.result("ws2016", "again")["changed"] is False
    final = cimv2(fleet, "ws2016")
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
        assert executions(fleet, host) == 0
        assert fleet.state(host)["namespaces"] == before[host]
        assert fleet.state(host)["null_sd_namespaces"] == []


def test_a_descriptor_changed_between_read_and_write_is_not_overwritten(fleet, run_playbook):
    # Another administrator adds an ACE for Performance Monitor Users (CI, Enable) between our read and our write.
    tasks = [{"name": "sd", "winsec.wmi.namespace_sd": {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:" + ADMIN}}]
    fleet.set_fault("ws2016", change_before_write=1)
    run = run_playbook(fleet, tasks, hosts="ws2016")
    result = run.result("ws2016", "sd")
    assert run.status("ws2016", "sd") == "failed"
    assert result["error"]["code"] == "CHANGED_SINCE_READ" and "nothing was written" in result["msg"]
    assert "(A;CI;CC;;;MU)" in cimv2(fleet, "ws2016")  # their change stands
    assert fleet.counters("ws2016")["writes"] == 0
    again = run_playbook(fleet, tasks, hosts="ws2016")
    assert again.result("ws2016", "sd")["changed"] is True
    assert cimv2(fleet, "ws2016").startswith("O:BAG:BAD:" + ADMIN + "(A;CIID;")


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


def test_unknown_account_is_refused_after_the_lookup(fleet, run_playbook):
    tasks = [
        {
            "name": "sd",
            "winsec.wmi.namespace_sd": {
                "namespace": "root\\cimv2",
                "mode": "present",
                "aces": [{"principal": "CORP\\nobody", "rights": ["Enable"]}],
            },
        }
    ]
    run = run_playbook(fleet, tasks, hosts="ws2022")
    result = run.result("ws2022", "sd")
    assert result["refusal"] == "unknown_principal" and "'CORP\\nobody'" in result["msg"]  # as written, not repr
    assert executions(fleet, "ws2022") == 1 and fleet.counters("ws2022")["writes"] == 0


def test_domain_account_by_name(fleet, run_playbook):
    tasks = [
        {
            "name": "sd",
            "winsec.wmi.namespace_sd": {
                "namespace": "root\\cimv2",
                "mode": "present",
                "aces": [{"principal": "CORP\\svc_backup", "rights": ["Enable", "MethodExecute", "RemoteAccess"]}],
            },
        }
    ]
    run = run_playbook(fleet, tasks, hosts="ws2022")
    assert run.rc == 0, run.stdout
    result = run.result("ws2022", "sd")
    assert result["changed"] is True
    assert any("svc_backup" in change.lower() for change in result["changes"]), result["changes"]
    assert executions(fleet, "ws2022") == 2


def test_child_namespace_back_to_inherited_only(fleet, run_playbook):
    # An empty explicit DACL on a child namespace is not an empty DACL: the ACEs inherited from root stay.
    tasks = [{"name": "sd", "winsec.wmi.namespace_sd": {"namespace": "root\\cimv2", "sddl": "O:BAG:BAD:"}}]
    run = run_playbook(fleet, tasks, hosts="ws2016")
    assert run.rc == 0, run.stdout
    result = run.result("ws2016", "sd")
    assert result["changed"] is True
    assert result["sddl"] == cimv2(fleet, "ws2016") == cimv2(fleet, "ws2022")
    assert "(A;CIID;CCDCLCSWRPWPRCWD;;;BA)" in result["sddl"]


@pytest.mark.parametrize("namespace", ["root\\cimv2", "root"])
def test_rollback_restores_the_saved_descriptor_exactly(fleet, run_playbook, namespace):
    host = "ws2016"
    original = fleet.state(host)["namespaces"]
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
    run = run_playbook(fleet, [change, rollback], hosts=host)
    assert run.rc == 0, run.stdout[-4000:]
    assert run.result(host, "change")["changed"] is True and run.result(host, "rollback")["changed"] is True
    # Every namespace of the host, the children included, is back to exactly what it was.
    assert fleet.state(host)["namespaces"] == original
    # Rolling back again changes nothing; in check mode it writes nothing either.
    fleet.reset_counters()
    again = run_playbook(
        fleet,
        [
            {
                "name": "rollback",
                "winsec.wmi.namespace_sd": {"namespace": namespace, "rollback_from": original[namespace]},
            }
        ],
        hosts=host,
    )
    assert again.result(host, "rollback")["changed"] is False
    assert fleet.counters(host)["writes"] == 0


def test_rollback_needs_exact_mode_and_a_dacl(fleet, run_playbook):
    tasks = [
        {
            "name": "present",
            "winsec.wmi.namespace_sd": {"namespace": "root", "mode": "present", "rollback_from": "O:BAG:BAD:"},
        },
        {"name": "nodacl", "winsec.wmi.namespace_sd": {"namespace": "root", "rollback_from": "O:BAG:BA"}},
    ]
    run = run_playbook(fleet, [{**task, "ignore_errors": True} for task in tasks], hosts="ws2022")
    assert "needs mode=exact" in run.result("ws2022", "present")["msg"]
    assert run.result("ws2022", "nodacl")["refusal"] == "no_dacl"
    assert fleet.counters("ws2022")["module_executions"] == {}


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


def test_a_deny_to_the_account_this_collection_connects_with_is_refused(fleet, run_playbook):
    # The modelled administrator tokens cannot hold one account's own SID: the guard also checks the token the host
    # reports for the connecting account (wmi_state facts), so a deny to it is a lock-out.
    before = fleet.state("ws2022")["namespaces"]["root\\cimv2"]
    run = run_playbook(
        fleet, [_deny_to_the_connecting_account(["Enable", "ReadSecurity", "WriteSecurity"])], hosts="ws2022"
    )
    deny = run.result("ws2022", "deny")
    assert deny.get("refusal") == "lockout" and "connects with" in deny["msg"], deny
    assert fleet.state("ws2022")["namespaces"]["root\\cimv2"] == before
    assert fleet.counters("ws2022")["writes"] == 0


def test_a_write_that_took_the_accounts_own_access_says_it_was_written(fleet, run_playbook):
    # With allow_lockout the write goes through and the read-back fails: the result is failed AND changed, with
    # what to do, never "changed: false" as if nothing had been written.
    run = run_playbook(fleet, [_deny_to_the_connecting_account(["ReadSecurity"], allow_lockout=True)], hosts="ws2022")
    deny = run.result("ws2022", "deny")
    assert fleet.counters("ws2022")["writes"] == 1
    assert run.status("ws2022", "deny") == "failed" and deny["changed"] is True, deny
    assert "the write was made" in deny["msg"] and deny["read_back_error"]["name"] == "WBEM_E_ACCESS_DENIED"
