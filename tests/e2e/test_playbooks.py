"""winsec.wmi.audit and winsec.wmi.harden on the 24-host demo fleet, through real ansible-playbook over WinRM.

What a user relies on: the audit writes nothing and tells drift from compliance; harden in check mode writes nothing
and predicts exactly the hosts a real run changes; after harden, a second harden changes nothing and the audit shows
only the drift harden deliberately leaves to a human (non-admin WriteSecurity, orphaned SIDs).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.harness import Fleet, PlaybookRun, run_playbook_file
from tools.demo import host_summary

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"

pytestmark = pytest.mark.e2e


def total_writes(fleet: Fleet) -> int:
    return sum(counters["writes"] for counters in fleet.all_counters().values())


def changed_hosts(run: PlaybookRun) -> set[str]:
    return {record["host"] for record in run.records if record["result"].get("changed")}


def statuses(run: PlaybookRun, fleet: Fleet) -> dict[str, str]:
    return {host: host_summary(run, host)["status"] for host in fleet.hosts}


def test_audit_harden_audit(fleet_factory) -> None:
    fleet = fleet_factory("demo")

    audit = run_playbook_file(fleet, PLAYBOOKS / "audit.yml")
    before = statuses(audit, fleet)
    assert total_writes(fleet) == 0
    # Every demo drift kind is seen, and nothing before Server 2003 is called compliant.
    assert before["branch-srv"] == "unreachable"
    assert {before[h] for h in ("nt4-lab", "w2k-scada", "xp-kiosk")} == {"not applicable"}
    assert {before[h] for h in ("web01", "web02", "file01", "print01", "legacy-erp", "app02", "sql02")} == {"drift"}
    assert before["dc01"] == before["app01"] == "compliant"  # app01 holds "1" as REG_SZ: compliant, type reported
    # Two calls per reachable host: one per audit task, each a single wmi_state round trip.
    counters = fleet.all_counters()
    executions = {host: c["module_executions"].get("winsec.wmi.wmi_state", 0) for host, c in counters.items()}
    assert {n for host, n in executions.items() if host != "branch-srv"} == {2}

    predicted = run_playbook_file(fleet, PLAYBOOKS / "harden.yml", check=True, diff=True)
    assert total_writes(fleet) == 0, "harden --check wrote to a host"
    harden = run_playbook_file(fleet, PLAYBOOKS / "harden.yml")
    assert changed_hosts(predicted) == changed_hosts(harden)
    assert changed_hosts(harden) >= {"web01", "web02", "file01", "print01", "legacy-erp", "app02"}
    # Everyone keeps Enable, MethodExecute and ProviderWrite; the new SD re-propagated to the children.
    namespaces = fleet.state("app02")["namespaces"]
    assert namespaces["root\\cimv2"].startswith("O:BAG:BAD:(A;CI;CCDCRP;;;WD)(A;CIID;CCDCLCSWRPWPRCWD;;;BA)")
    assert namespaces["root\\cimv2\\security"].startswith("O:BAG:BAD:(A;CIID;CCDCRP;;;WD)")

    fleet.reset_counters()
    again = run_playbook_file(fleet, PLAYBOOKS / "harden.yml")
    assert changed_hosts(again) == set()
    assert total_writes(fleet) == 0

    after = statuses(run_playbook_file(fleet, PLAYBOOKS / "audit.yml"), fleet)
    assert after["app02"] == after["web01"] == after["print01"] == "compliant"
    # Left for a human on purpose: a product account's WriteSecurity and orphaned SIDs.
    assert after["backup01"] == after["sql02"] == "drift"
    assert after["branch-srv"] == "unreachable"
    assert {after[h] for h in ("nt4-lab", "w2k-scada", "xp-kiosk")} == {"not applicable"}
