"""The simulated fleet through real ansible-playbook: the demo fleet, ansible.windows modules, check mode, faults."""

from __future__ import annotations

import pytest
import yaml

pytestmark = pytest.mark.e2e

FACTS_AND_UNSECAPP = {
    "winsec.wmi.wmi_state": {
        "operations": [
            {"op": "facts"},
            {"op": "registry_read", "value": "unsecapp_access_control_default"},
            {"op": "sd_get", "namespace": "root", "recurse": True, "resolve_names": True},
        ]
    }
}
UNSECAPP_WRITE = {
    "winsec.wmi.wmi_state": {
        "operations": [
            {
                "op": "registry_write",
                "value": "unsecapp_access_control_default",
                "data": "1",
                "value_type": "dword",
                "expected": {"exists": False},
            }
        ]
    }
}


# What Ansible can reach in the demo fleet: NT 4.0/2000/XP have no WinRM (unreachable), Server 2003 stops at
# PowerShell 2.0 (refused by ansible-core's bootstrap), branch-srv is down (fault).
NO_WINRM = {"nt4-lab", "w2k-scada", "xp-kiosk"}
POWERSHELL_2 = {"legacy-erp", "legacy-fax"}


def test_every_demo_host_answers_as_ansible_can_reach_it(fleet_factory, run_playbook, run_adhoc):
    demo = fleet_factory("demo")
    assert len(demo.hosts) == 24
    # The acceptance command: ansible -i <generated inventory> all -m ansible.windows.win_ping
    adhoc = run_adhoc(demo, "ansible.windows.win_ping")
    answered = {line.split()[0] for line in adhoc.stdout.splitlines() if "| SUCCESS" in line}
    assert answered == set(demo.hosts) - {"branch-srv"} - NO_WINRM - POWERSHELL_2, adhoc.stdout + adhoc.stderr
    for host in ("branch-srv", *NO_WINRM):
        assert f"{host} | UNREACHABLE!" in adhoc.stdout
    for host in POWERSHELL_2:
        # "v5.1" from ansible-core 2.19, "v3.0 or newer" from 2.18: either way refused at the bootstrap.
        assert f"{host} | FAILED!" in adhoc.stdout and "Ansible requires PowerShell v" in adhoc.stdout
    demo.reset_counters()
    run = run_playbook(
        demo,
        [
            {"name": "audit read", **FACTS_AND_UNSECAPP},
            {"name": "ping", "ansible.windows.win_ping": {"data": "demo"}},
        ],
    )
    assert run.rc != 0  # the unreachable and refused hosts
    for host in ("branch-srv", *NO_WINRM):
        assert run.status(host, "audit read") == "unreachable"
    for host in POWERSHELL_2:
        assert run.status(host, "audit read") == "failed"
    reachable = [h for h in demo.hosts if h not in {"branch-srv", *NO_WINRM, *POWERSHELL_2}]
    captions = set()
    for host in reachable:
        assert run.status(host, "audit read") == "ok", run.result(host, "audit read")
        facts, unsecapp, sds = run.result(host, "audit read")["results"]
        captions.add(facts["os_caption"])
        assert sds["failed"] is False and sds["namespaces"][0]["namespace"] == "root"
        assert run.result(host, "ping")["ping"] == "demo"
    assert len(captions) == 6  # Server 2008 R2 (with WMF 5.1) through Server 2025
    # The drift the demo is about is visible through the real stack.
    unsecapp = {h: run.result(h, "audit read")["results"][1] for h in reachable}
    assert unsecapp["web01"]["exists"] is False
    assert unsecapp["app01"]["type"] == "REG_SZ"
    principals = run.result("sql02", "audit read")["results"][2]["principals"]
    assert [sid for sid, name in principals.items() if name is None] != []  # orphaned SIDs
    counters = demo.all_counters()
    assert all(c["writes"] == 0 for c in counters.values())
    assert counters["dc01"]["module_executions"] == {"winsec.wmi.wmi_state": 1, "ansible.windows.win_ping": 1}
    assert all(counters[h]["round_trips"] == 0 for h in ("branch-srv", *NO_WINRM, *POWERSHELL_2))


def test_gather_facts_and_registry_modules_in_check_then_real_mode(fleet_from_text, run_playbook):
    # A 2016 host holding REG_SZ "1" (Microsoft's sample) next to one without the value.
    fleet = fleet_from_text(
        'hosts:\n  - {name: ws2016, profile: "2016"}\n'
        '  - {name: regsz, profile: "2016", unsecapp: {type: REG_SZ, data: "1"}}\n'
    )
    key = "HKLM:\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"
    tasks = [
        {"name": "stat", "ansible.windows.win_reg_stat": {"path": key, "name": "UnsecAppAccessControlDefault"}},
        {
            "name": "set",
            "ansible.windows.win_regedit": {
                "path": key,
                "name": "UnsecAppAccessControlDefault",
                "data": 1,
                "type": "dword",
            },
        },
        {"name": "facts", "ansible.builtin.debug": {"var": "ansible_facts.distribution"}},
    ]
    checked = run_playbook(fleet, tasks, check=True, diff=True, gather_facts=True, hosts="ws2016:regsz")
    assert checked.rc == 0, checked.stdout
    assert checked.result("ws2016", "facts")["ansible_facts.distribution"] == "Microsoft Windows Server 2016 Standard"
    assert checked.result("ws2016", "stat")["exists"] is False
    assert checked.result("ws2016", 0) == checked.result("ws2016", "stat")  # implicit fact gathering is not counted
    assert checked.status("ws2016", "Gathering Facts") == "ok"
    assert checked.result("ws2016", "set")["changed"] is True
    assert checked.result("ws2016", "set")["diff"]["after"][key]["UnsecAppAccessControlDefault"] == {
        "type": "DWord",
        "value": "0x00000001",
    }
    # regsz holds REG_SZ "1": a DWORD 1 is a type change.
    assert checked.result("regsz", "set")["data_type_changed"] is True
    for host in ("ws2016", "regsz"):
        assert fleet.counters(host)["writes"] == 0, host  # check mode wrote nothing
        assert fleet.counters(host)["module_executions"]["ansible.windows.setup"] == 1
    assert (
        "UnsecAppAccessControlDefault"
        not in fleet.state("ws2016")["registry"]["HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"]
    )

    applied = run_playbook(fleet, tasks[:2] + tasks[:2], hosts="ws2016")
    assert applied.rc == 0
    assert applied.result("ws2016", 1)["changed"] is True
    assert applied.result("ws2016", 2)["value"] == 1 and applied.result("ws2016", 2)["type"] == "REG_DWORD"
    assert applied.result("ws2016", 3)["changed"] is False  # idempotent
    assert fleet.counters("ws2016")["writes_by_kind"] == {"registry": 1}


def test_wmi_state_check_mode_refuses_writes_and_writes_nothing(fleet, run_playbook):
    run = run_playbook(fleet, [{"name": "write", **UNSECAPP_WRITE}], check=True, hosts="ws2016")
    result = run.result("ws2016", "write")["results"][0]
    assert result["failed"] is True and result["error"]["code"] == "CHECK_MODE"
    assert fleet.counters("ws2016")["writes"] == 0


def test_non_admin_caller_is_denied_cleanly(fleet, run_playbook):
    run = run_playbook(
        fleet,
        [
            {
                "name": "read",
                "winsec.wmi.wmi_state": {
                    "operations": [
                        {"op": "caller_rights", "namespace": "root\\cimv2"},
                        {"op": "sd_get", "namespace": "root\\cimv2"},
                    ]
                },
            },
            {"name": "write", **UNSECAPP_WRITE},
            {
                "name": "as system",
                "become": True,
                "become_method": "ansible.builtin.runas",
                "become_user": "SYSTEM",
                "winsec.wmi.wmi_state": {"operations": [{"op": "sd_get", "namespace": "root\\cimv2"}]},
            },
        ],
        hosts="ws2016",
        extra_vars={"ansible_user": "simuser", "ansible_password": "Sim-User-Pass1"},
    )
    # runas become: the exec wrapper switches to LocalSystem, whose token holds Administrators.
    assert run.result("ws2016", "as system")["results"][0]["failed"] is False
    rights, sd = run.result("ws2016", "read")["results"]
    assert rights["mask"] & 0x20000 == 0
    # Like wmi_state.ps1: the sd_get op succeeds; the namespace's entry carries GetSD's access-denied HRESULT.
    assert sd["failed"] is False and sd["namespaces"][0]["error"]["hresult"] == 0x80041003
    assert run.result("ws2016", "write")["results"][0]["error"]["hresult"] == 0x80070005
    assert fleet.state("ws2016")["callers"]["simuser"]["admin"] is False


def test_faults_through_the_real_client(fleet_from_text, run_playbook):
    fleet = fleet_from_text(
        yaml.safe_dump(
            {
                "hosts": [
                    {"name": "slow", "profile": "2022", "faults": {"latency": 0.3}},
                    {"name": "polled", "profile": "2022", "faults": {"operation_timeout": 3}},
                    {"name": "broken", "profile": "2022", "faults": {"http_500": True}},
                    {"name": "reset", "profile": "2022", "faults": {"connection_reset": True}},
                    {"name": "badauth", "profile": "2022", "faults": {"auth_failure": True}},
                    {"name": "crash", "profile": "2022", "faults": {"fail_after_write": 1}},
                    {"name": "healthy", "profile": "2022"},
                ]
            }
        )
    )
    run = run_playbook(fleet, [{"name": "write", **UNSECAPP_WRITE}])
    assert run.status("slow", "write") == "ok"
    assert run.status("healthy", "write") == "ok"
    # OperationTimeout faults are polled through by the client (pywinrm + the winrm plugin retry Receive).
    assert run.status("polled", "write") == "ok"
    assert fleet.counters("polled")["requests_by_action"]["Receive"] == 4
    assert run.status("broken", "write") == "unreachable"
    assert run.status("reset", "write") == "unreachable"
    assert run.status("badauth", "write") == "unreachable"
    assert "credentials were rejected" in run.result("badauth", "write")["msg"]
    # The write happened, the reply never came: the client sees a failure, the host has changed.
    assert run.status("crash", "write") in ("failed", "unreachable")
    crash_state = fleet.state("crash")["registry"]["HKEY_LOCAL_MACHINE\\SOFTWARE\\Microsoft\\WBEM\\CIMOM"]
    assert crash_state["UnsecAppAccessControlDefault"] == {"type": "REG_DWORD", "data": 1}
    assert fleet.counters("crash")["faults_injected"] == {"fail_after_write": 1}

    # Faults are switched at run time through the control API.
    fleet.clear_faults()
    fleet.set_fault("healthy", http_500=1)
    fleet.reset_counters()
    again = run_playbook(fleet, [{"name": "ping", "ansible.windows.win_ping": {}}], hosts="healthy:broken")
    assert again.status("healthy", "ping") == "unreachable"
    assert again.status("broken", "ping") == "ok"
    assert fleet.counters("healthy")["faults_injected"] == {"http_500": 1}
