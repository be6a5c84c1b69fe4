"""The wmi_hardening role's run status over a real ansible-playbook: a serial rollout of winsec.wmi.harden stops
where max_fail_percentage says, counting drifting (wmi_hardening_fail_on_drift), erroring and bootstrap-refused hosts
alike; a run that judges no host is never green; the report lists every host, never-run ones included.

The role runs one task per host (the baseline) and fails a host from a rescue after writing the report: a failure
kept by a block's always is not counted by max_fail_percentage, and a per-host verdict task doubled the play's cost.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from simulator.harness import Fleet, run_playbook_file

PLAYBOOKS = Path(__file__).resolve().parents[2] / "playbooks"
COMPLIANT = '{profile: "2022", unsecapp: 1, dcom: {require_integrity: 1}}'
# serial 3: [drift1, ok1, ok2] [err1, legacy, ok3] [ok4, ok5]
FLEET = f"""\
hosts:
  # An orphaned SID on root\\cimv2: harden leaves it to a person, so the host keeps drift.
  - {{name: drift1, profile: "2022", unsecapp: 1, dcom: {{require_integrity: 1}},
      namespaces: {{root\\cimv2: "O:BAG:BAD:(A;CI;CCDCRP;;;{{machine}}-1109)"}}}}
  - {{name: ok1, {COMPLIANT[1:]}
  - {{name: ok2, {COMPLIANT[1:]}
  # An account without administrative rights: WMI refuses it the namespace descriptors (controls in error).
  - {{name: err1, {COMPLIANT[1:-1]}, inventory_vars: {{ansible_user: simuser, ansible_password: Sim-User-Pass1}}}}
  # Server 2003 not declared in the inventory: ansible-core's bootstrap refuses its PowerShell 2.0.
  - {{name: legacy, profile: "2003"}}
  - {{name: ok3, {COMPLIANT[1:]}
  - {{name: ok4, {COMPLIANT[1:]}
  - {{name: ok5, {COMPLIANT[1:]}
"""

ROLLOUT_ORDER = ("drift1", "ok1", "ok2", "err1", "legacy", "ok3", "ok4", "ok5")

pytestmark = pytest.mark.e2e


@pytest.fixture
def rollout_fleet(fleet_from_text) -> Fleet:
    return fleet_from_text(FLEET, "rollout")


def harden(fleet: Fleet, report_dir: Path, max_fail_percentage: int, **extra):
    return run_playbook_file(
        fleet,
        PLAYBOOKS / "harden.yml",
        extra_vars={
            "wmi_hardening_report_dir": str(report_dir),
            "wmi_hardening_fail_on_drift": True,
            "winsec_wmi_serial": 3,
            "winsec_wmi_max_fail_percentage": max_fail_percentage,
            # the batches in this order (the simulator's inventory groups hosts by OS)
            "winsec_wmi_hosts": ":".join(ROLLOUT_ORDER),
            **extra,
        },
    )


def touched(fleet: Fleet) -> set[str]:
    """Hosts the run sent winsec.wmi.wmi_state to (the bootstrap-refused host never gets that far)."""
    return {
        host
        for host, counters in fleet.all_counters().items()
        if counters["module_executions"].get("winsec.wmi.wmi_state", 0)
    }


def report_statuses(report_dir: Path) -> dict[str, str]:
    report = json.loads((report_dir / "wmi-compliance.json").read_text(encoding="utf-8"))
    return {host["host"]: host["status"] for host in report["hosts"]}


def failed_hosts(run) -> set[str]:
    return {record["host"] for record in run.records if record["status"] == "failed"}


def test_errors_and_bootstrap_refusals_count_towards_max_fail_percentage(rollout_fleet, tmp_path) -> None:
    # 40 %: the first batch (1 of 3 failing, the drifting host) goes on, the second (2 of 3) stops the rollout.
    run = harden(rollout_fleet, tmp_path / "report", 40)
    assert run.rc == 2, run.stdout[-4000:]
    assert failed_hosts(run) == {"drift1", "err1", "legacy"}, run.stdout[-6000:]
    assert touched(rollout_fleet) == {"drift1", "ok1", "ok2", "err1", "ok3"}  # ok4 and ok5: never run
    statuses = report_statuses(tmp_path / "report")
    assert set(statuses) == {"drift1", "ok1", "ok2", "err1", "legacy", "ok3", "ok4", "ok5"}
    assert statuses["drift1"] == "drift" and statuses["err1"] == statuses["legacy"] == "error"
    assert statuses["ok4"] == statuses["ok5"] != "compliant"
    assert "NO MORE HOSTS LEFT" in run.stdout


def test_drift_with_fail_on_drift_counts_towards_max_fail_percentage(rollout_fleet, tmp_path) -> None:
    # 20 %: the drifting host alone (1 of 3) stops the rollout after the first batch.
    run = harden(rollout_fleet, tmp_path / "report", 20)
    assert run.rc == 2, run.stdout[-4000:]
    assert failed_hosts(run) == {"drift1"}
    assert touched(rollout_fleet) == {"drift1", "ok1", "ok2"}
    assert report_statuses(tmp_path / "report")["drift1"] == "drift"


def test_the_whole_rollout_runs_when_the_failures_stay_under_the_limit(rollout_fleet, tmp_path) -> None:
    run = harden(rollout_fleet, tmp_path / "report", 70)
    assert failed_hosts(run) == {"drift1", "err1", "legacy"}
    assert touched(rollout_fleet) == {"drift1", "ok1", "ok2", "err1", "ok3", "ok4", "ok5"}
    statuses = report_statuses(tmp_path / "report")
    assert statuses["ok4"] == statuses["ok5"] == "compliant"


def audit(fleet: Fleet, report_dir: Path, **extra):
    return run_playbook_file(
        fleet,
        PLAYBOOKS / "audit.yml",
        extra_vars={"wmi_hardening_report_dir": str(report_dir), "winsec_wmi_hosts": "ok1:ok2", **extra},
    )


def test_an_audit_that_judges_no_host_is_not_green(rollout_fleet, tmp_path) -> None:
    # An expired credential: every host refuses it. A scheduled audit must fail, not stay green having read nothing.
    run = audit(rollout_fleet, tmp_path / "report", ansible_password="expired", wmi_hardening_report_directory="x")
    assert run.rc == 4, run.stdout[-3000:]
    assert {record["host"] for record in run.records if record["status"] == "unreachable"} == {"ok1", "ok2"}
    assert "unreachable=1" in run.stdout
    # A misspelt role variable is named, with the one meant.
    # ansible-core 2.18 wraps warnings at the terminal width: compare the words.
    warnings = " ".join(run.stderr.split())
    assert "wmi_hardening_report_directory is not a variable of the winsec.wmi.wmi_hardening role" in warnings
    assert "did you mean wmi_hardening_report_dir?" in warnings


def test_fail_on_unjudged_false_reports_unreachable_hosts_without_failing(rollout_fleet, tmp_path) -> None:
    run = audit(rollout_fleet, tmp_path / "report", ansible_password="expired", wmi_hardening_fail_on_unjudged=False)
    assert run.rc == 0, run.stdout[-3000:]
    assert report_statuses(tmp_path / "report") == {"ok1": "unreachable", "ok2": "unreachable"}


def test_an_unknown_skip_control_is_refused_before_any_host_is_contacted(rollout_fleet, tmp_path) -> None:
    run = audit(rollout_fleet, tmp_path / "report", wmi_hardening_skip_controls=["WMI-4"])
    assert run.rc == 2
    assert "skip_controls: unknown control ID(s) WMI-4; known: WMI-001" in run.stdout
    assert touched(rollout_fleet) == set()


@pytest.mark.parametrize(
    ("variable", "tags", "expected"),
    [("ANSIBLE_RUN_TAGS", "WMI-004", {"WMI-004"}), ("ANSIBLE_SKIP_TAGS", "WMI-005", None)],
)
def test_tags_named_after_controls_select_them(rollout_fleet, tmp_path, monkeypatch, variable, tags, expected) -> None:
    # --tags WMI-004 runs that control alone; --skip-tags WMI-005 leaves that one out and still writes the report.
    monkeypatch.setenv(variable, tags)
    run = audit(rollout_fleet, tmp_path / "report", winsec_wmi_hosts="ok1")
    assert run.rc == 0, run.stdout[-3000:]
    report = json.loads((tmp_path / "report" / "wmi-compliance.json").read_text(encoding="utf-8"))
    controls = {control["id"] for control in report["hosts"][0]["controls"]}
    if expected is not None:
        assert controls == expected
    else:
        assert "WMI-005" not in controls and {"WMI-001", "WMI-004"} <= controls


def test_role_variables_are_validated_once_before_any_host_is_contacted(rollout_fleet, tmp_path) -> None:
    # The role's argument spec (validated once per play, not by a task on every host) and its pre-flight checks.
    wrong_type = audit(rollout_fleet, tmp_path / "a", wmi_hardening_mode="repair")
    assert wrong_type.rc == 2
    assert "Validation of arguments failed" in wrong_type.stdout and "wmi_hardening_mode" in wrong_type.stdout
    merge = audit(rollout_fleet, tmp_path / "b", wmi_hardening_report_dir="", wmi_hardening_report_merge=True)
    assert merge.rc == 2 and "wmi_hardening_report_merge is set without wmi_hardening_report_dir" in merge.stdout
    assert touched(rollout_fleet) == set()
    assert "Validating arguments against arg spec" not in wrong_type.stdout  # no per-host validation task


def test_each_play_that_runs_the_role_writes_its_own_report(rollout_fleet, tmp_path) -> None:
    # A playbook that runs the role twice on the same hosts: the second play writes its own report too (each play's
    # directory here is named after a host only to tell them apart).
    plays = [
        {
            "name": f"audit into {host}",
            "hosts": "ok1:ok2",
            "gather_facts": False,
            "tasks": [
                {
                    "ansible.builtin.import_role": {"name": "winsec.wmi.wmi_hardening", "rolespec_validate": False},
                    "vars": {"wmi_hardening_report_dir": str(tmp_path / host)},
                }
            ],
        }
        for host in ("ok1", "ok2")
    ]
    playbook = tmp_path / "twice.yml"
    playbook.write_text(json.dumps(plays), encoding="utf-8")
    run = run_playbook_file(rollout_fleet, playbook)
    assert run.rc == 0, run.stdout[-3000:]
    assert (
        report_statuses(tmp_path / "ok1")
        == report_statuses(tmp_path / "ok2")
        == {
            "ok1": "compliant",
            "ok2": "compliant",
        }
    )
