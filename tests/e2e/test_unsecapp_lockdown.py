# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""winsec.wmi.unsecapp_lockdown end to end: real ansible-playbook over WinRM against the simulated small fleet.

Fleet (simulator/fleets/small.yml): ws2022 REG_DWORD 1 (compliant), ws2016 absent (drift), ws2012 REG_SZ "1"
(compliant, Microsoft's sample type); ws2003 (PowerShell 2.0: refused by ansible-core's bootstrap) and w2000 (no
WinRM) are what they are for Ansible: never reached, never compliant.
"""

from __future__ import annotations

import pathlib

import pytest

from simulator.harness import each_on_its_host, run_step, wmi_state_runs

pytestmark = pytest.mark.e2e

REPO_ROOT = pathlib.Path(__file__).resolve().parents[2]

KEY = "HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"
REACHABLE = "ws2022:ws2016:ws2012"  # ws2003 fails at ansible-core's bootstrap, w2000 has no WinRM
ENABLE = [{"name": "unsecapp", "winsec.wmi.unsecapp_lockdown": {"state": "enabled"}}]


def unsecapp_value(fleet, host):
    return fleet.state(host)["registry"].get(KEY, {}).get("UnsecAppAccessControlDefault")


def test_four_steps_with_round_trips_and_zero_writes_in_check_mode(fleet, run_playbook):
    # 1. check mode: drift reported, nothing written, one round trip per host
    run = run_playbook(fleet, ENABLE, hosts=REACHABLE, check=True, diff=True)
    assert run.rc == 0, run.stdout
    drift = run.result("ws2016", "unsecapp")
    assert drift["changed"] is True and drift["compliant"] is False and drift["applicable"] is True
    assert drift["before"] == {"exists": False, "type": None, "data": None, "value": 0}
    assert drift["after"]["value"] == 1 and drift["written_type"] == "REG_DWORD"
    assert drift["diff"]["before"].endswith("UnsecAppAccessControlDefault (absent: counts as 0)\n")
    assert "would be set to 1" in drift["msg"]
    for host in ("ws2022", "ws2012"):
        assert run.result(host, "unsecapp")["changed"] is False
        assert run.result(host, "unsecapp")["compliant"] is True
    assert run.result("ws2012", "unsecapp")["observed_type"] == "REG_SZ"
    for host in REACHABLE.split(":"):
        assert fleet.counters(host)["writes"] == 0
        assert wmi_state_runs(fleet, host) == 1
    assert unsecapp_value(fleet, "ws2016") is None

    # 2. apply: the drifting host is fixed in two round trips (read, then write + read-back)
    fleet.reset_counters()
    run = run_playbook(fleet, ENABLE, hosts=REACHABLE)
    assert run.rc == 0, run.stdout
    fixed = run.result("ws2016", "unsecapp")
    assert fixed["changed"] is True and fixed["compliant"] is True
    assert fixed["after"] == {"exists": True, "type": "REG_DWORD", "data": 1, "value": 1}
    assert any("pre-Windows 2000" in warning for warning in fixed["warnings"])
    assert unsecapp_value(fleet, "ws2016") == {"type": "REG_DWORD", "data": 1}
    assert wmi_state_runs(fleet, "ws2016") == 2
    assert fleet.counters("ws2016")["writes_by_kind"] == {"registry": 1}
    for host in ("ws2022", "ws2012"):
        assert wmi_state_runs(fleet, host) == 1
        assert fleet.counters(host)["writes"] == 0
    assert unsecapp_value(fleet, "ws2012") == {"type": "REG_SZ", "data": "1"}  # auto never rewrites a good REG_SZ

    # 3. idempotent re-run: nothing changes, one round trip per host
    fleet.reset_counters()
    run = run_playbook(fleet, ENABLE, hosts=REACHABLE)
    assert run.rc == 0, run.stdout
    for host in REACHABLE.split(":"):
        assert run.result(host, "unsecapp")["changed"] is False
        assert wmi_state_runs(fleet, host) == 1
        assert fleet.counters(host)["writes"] == 0

    # 4. check mode again: compliant, nothing to do, nothing written
    fleet.reset_counters()
    run = run_playbook(fleet, ENABLE, hosts=REACHABLE, check=True)
    assert run.rc == 0, run.stdout
    for host in ("ws2022", "ws2016", "ws2012"):
        assert run.result(host, "unsecapp")["changed"] is False
        assert run.result(host, "unsecapp")["compliant"] is True
    assert all(fleet.counters(host)["writes"] == 0 for host in fleet.hosts)


@pytest.fixture(scope="module")
def module_fleet(module_fleet_factory):
    """The small fleet of the module's scenarios below: each resets it first, then keeps what its tests assert on."""
    return module_fleet_factory("small")


@pytest.fixture(scope="module")
def untouched(module_fleet):
    """One run for the four tests that leave the fleet as it started, each on hosts of its own (its task guarded by
    host, so every other host skips it): the Step, and ws2016's value after it."""
    fleet = module_fleet
    fleet.reset()
    tasks = [
        # Hosts Ansible cannot run on, and ws2022 for the invocation: ENABLE itself.
        {**ENABLE[0], "when": "inventory_hostname in ['w2000', 'ws2003', 'ws2022']"},
        {"name": "bad", "winsec.wmi.unsecapp_lockdown": {"state": "on"}, "when": "inventory_hostname == 'ws2016'"},
        {
            "name": "local",
            "winsec.wmi.unsecapp_lockdown": {},
            "connection": "local",
            "when": "inventory_hostname == 'localhost'",
        },
    ]
    step = run_step(fleet, tasks, hosts="w2000:ws2003:ws2022:ws2016:localhost")
    return step, unsecapp_value(fleet, "ws2016")


def test_hosts_ansible_cannot_run_on_are_never_compliant(untouched):
    step, _ = untouched
    run = step.run
    assert run.rc != 0
    assert run.status("w2000", "unsecapp") == "unreachable"  # Windows 2000 has no WinRM
    refused = run.result("ws2003", "unsecapp")  # PowerShell 2.0: ansible-core's bootstrap refuses the host
    assert run.status("ws2003", "unsecapp") == "failed" and "Ansible requires PowerShell" in refused["msg"]
    assert refused.get("compliant") is not True
    assert step.writes("ws2003") == step.writes("w2000") == 0


DWORD = [{"name": "dword", "winsec.wmi.unsecapp_lockdown": {"state": "enabled", "value_type": "dword"}}]
OFF = [{"name": "off", "winsec.wmi.unsecapp_lockdown": {"state": "disabled"}}]
STEP_HOSTS = ("ws2016", "ws2012")


@pytest.fixture(scope="module")
def lost_reply(module_fleet):
    """ENABLE on ws2016 whose reply is lost after the write (fault fail_after_write); then, the fault cleared, its
    re-run, side by side with DWORD on ws2012 (REG_SZ "1"). Each Step, with the two hosts' values after it."""
    fleet = module_fleet
    fleet.reset()
    fleet.set_fault("ws2016", fail_after_write=1)
    lost = run_step(fleet, ENABLE, hosts="ws2016")
    lost_values = {host: unsecapp_value(fleet, host) for host in STEP_HOSTS}
    fleet.clear_faults()
    again = run_step(fleet, each_on_its_host({"ws2016": ENABLE, "ws2012": DWORD}), hosts=":".join(STEP_HOSTS))
    return (lost, lost_values), (again, {host: unsecapp_value(fleet, host) for host in STEP_HOSTS})


@pytest.fixture(scope="module")
def changed_before_write(module_fleet):
    """ENABLE on ws2016 while another administrator writes 7 between its read and its write (fault
    change_before_write); then its re-run, side by side with OFF on ws2012 (REG_SZ "1"). Each Step, with the two
    hosts' values after it."""
    fleet = module_fleet
    fleet.reset()
    fleet.set_fault("ws2016", change_before_write=1)
    changed = run_step(fleet, ENABLE, hosts="ws2016")
    changed_values = {host: unsecapp_value(fleet, host) for host in STEP_HOSTS}
    again = run_step(fleet, each_on_its_host({"ws2016": ENABLE, "ws2012": OFF}), hosts=":".join(STEP_HOSTS))
    return (changed, changed_values), (again, {host: unsecapp_value(fleet, host) for host in STEP_HOSTS})


def test_reg_sz_is_converted_only_when_asked(lost_reply):
    _, (step, values) = lost_reply
    run = step.run
    assert run.rc == 0, run.stdout
    assert run.result("ws2012", "dword")["changed"] is True
    assert run.result("ws2012", "dword")["before"]["type"] == "REG_SZ"
    assert values["ws2012"] == {"type": "REG_DWORD", "data": 1}


def test_disable_keeps_reg_sz(changed_before_write):
    _, (step, values) = changed_before_write
    run = step.run
    assert run.rc == 0, run.stdout
    assert run.result("ws2012", "off")["after"] == {"exists": True, "type": "REG_SZ", "data": "0", "value": 0}
    assert "warnings" not in run.result("ws2012", "off")
    assert values["ws2012"] == {"type": "REG_SZ", "data": "0"}


def test_bad_input_is_refused_before_contact(untouched):
    step, ws2016_value = untouched
    run = step.run
    assert run.status("ws2016", "bad") == "failed"
    assert "value of state must be one of: enabled, disabled" in run.result("ws2016", "bad")["msg"]
    assert wmi_state_runs(step, "ws2016") == 0
    assert ws2016_value is None


def test_non_admin_caller_gets_a_named_error_and_no_write(fleet, run_playbook):
    tasks = [{"name": "unsecapp", "winsec.wmi.unsecapp_lockdown": {"state": "enabled"}}]
    run = run_playbook(
        fleet, tasks, hosts="ws2016", extra_vars={"ansible_user": "simuser", "ansible_password": "Sim-User-Pass1"}
    )
    result = run.result("ws2016", "unsecapp")
    assert run.status("ws2016", "unsecapp") == "failed", result
    assert "compliant" not in result
    assert result["error"]["name"] in ("E_ACCESSDENIED", "WBEM_E_ACCESS_DENIED", "ACCESS_DENIED"), result
    assert unsecapp_value(fleet, "ws2016") is None


def test_the_invocation_shows_the_users_arguments(untouched):
    run = untouched[0].run
    assert run.result("ws2022", "unsecapp")["invocation"] == {"module_args": {"state": "enabled", "value_type": "auto"}}


def test_real_host_integration_target_passes_against_the_simulator(fleet, run_playbook):
    # tests/integration/targets/unsecapp_lockdown is written for real Windows hosts; it only needs wmi_state and
    # ansible.windows.win_regedit, which the simulator also speaks, so it is checked here too.
    target = REPO_ROOT / "tests" / "integration" / "targets" / "unsecapp_lockdown" / "tasks" / "main.yml"
    run = run_playbook(fleet, [{"name": "target", "ansible.builtin.include_tasks": str(target)}], hosts="ws2022:ws2016")
    assert run.rc == 0, run.stdout[-6000:] + run.stderr[-3000:]
    assert unsecapp_value(fleet, "ws2022") == {"type": "REG_DWORD", "data": 1}  # restored
    assert unsecapp_value(fleet, "ws2016") is None  # restored to absent


def test_lost_reply_after_the_write_never_reports_compliant_and_the_rerun_converges(lost_reply):
    (step, values), (again, _) = lost_reply
    run = step.run
    assert run.rc != 0
    lost = run.result("ws2016", "unsecapp")
    # Not "unreachable" with a bare ConnectionResetError: the user learns the write may have happened, and what to do.
    assert run.status("ws2016", "unsecapp") == "failed"
    assert lost["write_outcome"] == "unknown" and lost["writes_sent"] == 1
    assert "may or may not have applied" in lost["msg"] and "check mode" in lost["msg"]
    assert lost.get("compliant") is not True
    assert values["ws2016"] == {"type": "REG_DWORD", "data": 1}  # the write did happen
    assert again.run.rc == 0, again.run.stdout
    assert again.run.result("ws2016", "unsecapp")["changed"] is False
    assert again.run.result("ws2016", "unsecapp")["compliant"] is True
    assert wmi_state_runs(again, "ws2016") == 1


def test_a_value_changed_between_read_and_write_is_not_overwritten(changed_before_write):
    # Another administrator writes 7 after our read and before our write (simulator fault change_before_write).
    (step, values), (again, values_again) = changed_before_write
    run = step.run
    result = run.result("ws2016", "unsecapp")
    assert run.status("ws2016", "unsecapp") == "failed"
    assert result["error"]["code"] == "CHANGED_SINCE_READ" and "nothing was written" in result["msg"]
    assert result.get("compliant") is not True
    assert values["ws2016"] == {"type": "REG_DWORD", "data": 7}  # theirs, not ours
    assert step.writes("ws2016") == 0
    # The re-run reads the new value and converges.
    assert again.run.result("ws2016", "unsecapp")["changed"] is True
    assert values_again["ws2016"] == {"type": "REG_DWORD", "data": 1}


def test_non_windows_connection_is_refused_with_a_clear_message(untouched):
    run = untouched[0].run
    assert run.status("localhost", "local") == "failed"
    assert "manages Windows hosts only" in run.result("localhost", "local")["msg"]
