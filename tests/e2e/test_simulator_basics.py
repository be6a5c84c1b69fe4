"""The simulator through real ansible-playbook: every host answers, check mode writes nothing."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

FACTS = {
    "winsec.wmi.wmi_state": {
        "operations": [{"op": "facts"}, {"op": "registry_read", "value": "unsecapp_access_control_default"}]
    }
}


def test_every_small_host_answers_wmi_state_and_win_ping(fleet, run_playbook):
    run = run_playbook(fleet, [{"name": "facts", **FACTS}, {"name": "ping", "ansible.windows.win_ping": {}}])
    assert run.rc == 0, run.stdout
    for host in fleet.hosts:
        facts, unsecapp = run.result(host, "facts")["results"]
        assert facts["failed"] is False
        assert facts["computer_name"] == host.upper()
        assert unsecapp["op"] == "registry_read"
        assert run.result(host, "ping")["ping"] == "pong"
    assert run.result("ws2003", "facts")["results"][1]["type"] == "REG_SZ"
    counters = fleet.counters("ws2022")
    assert counters["module_executions"] == {"winsec.wmi.wmi_state": 1, "ansible.windows.win_ping": 1}
    assert counters["writes"] == 0
