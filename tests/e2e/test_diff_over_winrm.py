"""--diff through the real ansible-playbook over WinRM: winsec.wmi.harden and winsec.wmi.namespace_sd print the before
and after of every write on the console, in check mode (the simulator sees no write) and for real (the same diff).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from simulator.harness import Fleet, PlaybookRun, run_playbook, run_playbook_file

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
UNSECAPP = "HKLM\\SOFTWARE\\Microsoft\\WBEM\\CIMOM\\UnsecAppAccessControlDefault"
# ws2016 in the small fleet: unsecapp absent (WMI-001), Everyone writing to root\cimv2 (WMI-004), no SACL (WMI-022).
HARDEN_VARS = {"wmi_hardening_namespace_audit": True, "wmi_hardening_namespace_audit_set_sacl": True}

pytestmark = pytest.mark.e2e


def total_writes(fleet: Fleet) -> int:
    return sum(counters["writes"] for counters in fleet.all_counters().values())


def harden(fleet: Fleet, **options) -> PlaybookRun:
    run = run_playbook_file(fleet, PLAYBOOKS / "harden.yml", extra_vars=HARDEN_VARS, limit="ws2016", **options)
    assert run.rc == 0, run.stdout[-4000:]
    return run


def baseline_result(run: PlaybookRun) -> dict:
    (record,) = [r for r in run.records if r["host"] == "ws2016" and r["action"] == "winsec.wmi.baseline"]
    return record["result"]


def baseline_diff(run: PlaybookRun) -> list[dict]:
    return baseline_result(run).get("diff") or []


def test_harden_check_diff_prints_every_write_and_the_real_run_writes_what_it_showed(fleet) -> None:
    predicted = harden(fleet, check=True, diff=True)
    assert total_writes(fleet) == 0, "harden --check --diff wrote to a host"
    assert sum(sum(c["refused_writes"].values()) for c in fleet.all_counters().values()) == 0  # none even sent
    assert [entry["before_header"] for entry in baseline_diff(predicted)] == [
        f"WMI-001 {UNSECAPP} (registry value)",
        "WMI-004 root\\CIMV2 (namespace security descriptor)",
        "WMI-022 root (namespace SACL)",
    ]
    console = predicted.stdout
    assert f"--- before: WMI-001 {UNSECAPP} (registry value)\n" in console
    assert f"-{UNSECAPP} (absent: counts as 0)\n+{UNSECAPP} = REG_DWORD 1\n" in console
    assert (
        "-  allow Everyone (S-1-1-0): Enable, MethodExecute, FullWrite, PartialWrite, ProviderWrite, RemoteAccess;"
        in (console)
    )
    assert "+  allow Everyone (S-1-1-0): Enable, MethodExecute, ProviderWrite;" in console
    assert "+sacl: S:(AU;CISA;WD;;;WD)\n" in console

    applied = harden(fleet, diff=True)
    assert total_writes(fleet) == 3
    assert baseline_diff(applied) == baseline_diff(predicted)  # the real run wrote what check mode showed
    assert f"+{UNSECAPP} = REG_DWORD 1\n" in applied.stdout

    fleet.reset_counters()
    again = harden(fleet, diff=True)
    assert total_writes(fleet) == 0 and "diff" not in baseline_result(again)
    assert "--- before:" not in again.stdout  # nothing changes: nothing printed


def test_module_diff_only_with_diff_mode(fleet) -> None:
    task = {
        "name": "Narrow root\\cimv2",
        "winsec.wmi.namespace_sd": {
            "namespace": "root\\cimv2",
            "sddl": "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;WD)",
        },
    }
    quiet = run_playbook(fleet, [task], hosts="ws2016", check=True)
    assert "diff" not in quiet.result("ws2016", 0) and "--- before:" not in quiet.stdout
    shown = run_playbook(fleet, [task], hosts="ws2016", check=True, diff=True)
    assert total_writes(fleet) == 0
    # The namespace as the host spells it (WMI names are case-insensitive).
    assert "--- before: root\\cimv2 (namespace security descriptor)\n" in shown.stdout.lower()
    assert "+sddl: O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCRP;;;WD)" in shown.stdout
    applied = run_playbook(fleet, [task], hosts="ws2016", diff=True)
    assert total_writes(fleet) == 1
    assert applied.result("ws2016", 0)["diff"] == shown.result("ws2016", 0)["diff"]
