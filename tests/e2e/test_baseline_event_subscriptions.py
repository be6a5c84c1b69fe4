# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Control WMI-020 (winsec.wmi.baseline) and winsec.wmi.event_subscription_info over the real path: a permanent
subscription registered outside root\\subscription and root\\default is found, because both read every namespace
by default."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.e2e

FLEET = """
hosts:
  - {name: elsewhere, profile: "2022", unsecapp: 1, subscriptions: [scm, malicious_cimv2]}
"""


def test_a_consumer_in_another_namespace_makes_the_host_drift(fleet_from_text, run_playbook):
    fleet = fleet_from_text(FLEET)
    tasks = [
        {"name": "baseline", "winsec.wmi.baseline": {"mode": "audit", "controls": ["WMI-020"]}},
        {"name": "inventory", "winsec.wmi.event_subscription_info": {}},
        # Narrowed to the two usual namespaces, the inventory speaks for those only.
        {
            "name": "two namespaces",
            "winsec.wmi.event_subscription_info": {
                "namespaces": ["root\\subscription", "root\\default"],
                "recurse": False,
            },
        },
    ]
    run = run_playbook(fleet, tasks, check=True)
    assert run.rc == 0, run.stdout
    control = run.result("elsewhere", "baseline")["controls"][0]
    assert control["id"] == "WMI-020" and control["status"] == "drift"
    (finding,) = [f for f in control["findings"] if f["id"] == "suspicious_event_consumer"]
    assert "root\\cimv2" in finding["subscription"].lower()
    inventory = run.result("elsewhere", "inventory")
    assert inventory["compliant"] is False and inventory["counts"]["suspicious"] == 1
    narrowed = run.result("elsewhere", "two namespaces")
    assert narrowed["compliant"] is True and narrowed["namespaces"] == ["root\\subscription", "root\\default"]
    assert fleet.counters("elsewhere")["writes"] == 0
