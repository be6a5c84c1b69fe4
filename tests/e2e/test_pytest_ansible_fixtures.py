"""The baseline through pytest-ansible's own fixture (``ansible_adhoc``), against the simulated small fleet.

pytest-ansible runs the module in-process with Ansible's task queue; the simulator stays a separate process. The
hosts are addressed one by one: ws2003 and w2000 cannot run Ansible at all (bootstrap refusal, no WinRM).
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e


def round_trips(fleet, host):
    return fleet.counters(host)["module_executions"].get("winsec.wmi.wmi_state", 0)


def test_audit_then_enforce_with_ansible_adhoc(fleet, ansible_adhoc):
    hosts = ansible_adhoc(inventory=str(fleet.inventory), host_pattern="all")
    baseline = getattr(hosts["ws2016"], "winsec.wmi.baseline")

    audit = baseline(mode="audit").contacted["ws2016"]
    assert audit["status"] == "drift" and audit["changed"] is False
    statuses = {record["id"]: record["status"] for record in audit["controls"]}
    assert statuses["WMI-001"] == statuses["WMI-004"] == "drift"
    assert round_trips(fleet, "ws2016") == 1 and fleet.counters("ws2016")["writes"] == 0

    fleet.reset_counters()
    enforced = baseline(mode="enforce").contacted["ws2016"]
    statuses = {record["id"]: record["status"] for record in enforced["controls"]}
    assert enforced["changed"] is True
    assert statuses["WMI-001"] == statuses["WMI-004"] == "remediated"
    assert round_trips(fleet, "ws2016") == 2

    fleet.reset_counters()
    again = baseline(mode="enforce").contacted["ws2016"]
    assert again["changed"] is False and round_trips(fleet, "ws2016") == 1
    assert fleet.counters("ws2016")["writes"] == 0
