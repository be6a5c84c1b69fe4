"""The simulator through real ansible-playbook: every host answers, check mode writes nothing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

FACTS = {
    "winsec.wmi.wmi_state": {
        "operations": [{"op": "facts"}, {"op": "registry_read", "value": "unsecapp_access_control_default"}]
    }
}


def test_small_hosts_answer_as_ansible_can_reach_them(fleet, run_playbook):
    run = run_playbook(fleet, [{"name": "facts", **FACTS}, {"name": "ping", "ansible.windows.win_ping": {}}])
    assert run.rc != 0  # ws2003 and w2000 cannot run Ansible modules
    for host in ("ws2022", "ws2016"):
        facts, unsecapp = run.result(host, "facts")["results"]
        assert facts["failed"] is False and facts["ps_version"] == "5.1"
        assert facts["computer_name"] == host.upper()
        assert unsecapp["op"] == "registry_read"
        assert run.result(host, "ping")["ping"] == "pong"
    # Server 2003 stops at PowerShell 2.0: ansible-core's bootstrap refuses it before any module runs.
    refused = run.result("ws2003", "facts")
    assert run.status("ws2003", "facts") == "failed" and "Ansible requires PowerShell v" in refused["msg"], refused
    assert fleet.counters("ws2003")["round_trips"] == 0
    # Windows 2000 has no WinRM listener: the connection is refused, the host is unreachable.
    assert run.status("w2000", "facts") == "unreachable"
    assert "refused" in run.result("w2000", "facts")["msg"].lower()
    assert fleet.counters("w2000")["requests"] == 0
    counters = fleet.counters("ws2022")
    assert counters["module_executions"] == {"winsec.wmi.wmi_state": 1, "ansible.windows.win_ping": 1}
    assert counters["writes"] == 0
