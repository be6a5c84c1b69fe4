"""The README's main job: audit the simulated demo fleet with winsec.wmi.audit and show the compliance report.

    python -m tools.demo            # start the demo fleet, run winsec.wmi.audit, print the verdicts, keep the report
    python -m tools.demo --harden   # ... then winsec.wmi.harden --check, harden for real, harden again, audit again

The playbooks and the role are the collection's own, run by the real ansible-playbook over WinRM against simulator/
(see simulator/README.md). Every verdict printed here is read from the report the role wrote
(build/demo/<step>/wmi-compliance.json): this script decides nothing itself.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from simulator.harness import Fleet, PlaybookRun, run_playbook_file

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = REPO_ROOT / "playbooks"
REPORT_ROOT = REPO_ROOT / "build" / "demo"
# The opt-in controls, on for the demo: the legacy-script controls (WMI-010, WMI-011) audit where the demo hosts keep
# their WMI scripts; WMI-022 reads the root namespace's SACL, and harden adds the audit entry where it is missing.
DEMO_VARS = {
    "wmi_hardening_script_paths": ["C:\\Scripts"],
    "wmi_hardening_namespace_audit": True,
    "wmi_hardening_namespace_audit_set_sacl": True,
}


def total_writes(fleet: Fleet) -> int:
    return sum(counters["writes"] for counters in fleet.all_counters().values())


def run_step(fleet: Fleet, playbook: str, step: str, **options: Any) -> tuple[PlaybookRun, dict[str, Any], Path]:
    """Run a shipped playbook with its report written to build/demo/<step>/; return the run and the report."""
    report_dir = REPORT_ROOT / step
    shutil.rmtree(report_dir, ignore_errors=True)
    extra_vars = {"wmi_hardening_report_dir": str(report_dir), **DEMO_VARS}
    run = run_playbook_file(fleet, PLAYBOOKS / playbook, extra_vars=extra_vars, **options)
    report_file = report_dir / "wmi-compliance.json"
    if not report_file.exists():
        print(run.stdout[-3000:], run.stderr[-3000:], sep="\n")
        raise SystemExit(f"{playbook} wrote no report (rc={run.rc})")
    return run, json.loads(report_file.read_text(encoding="utf-8")), report_dir


def verdict(host: dict[str, Any]) -> str:
    """'compliant (6/6 controls)': a verdict is only as wide as the controls that judged it."""
    counts = host.get("counts") or {}
    judged = sum(n for status, n in counts.items() if status != "not_applicable")
    passing = counts.get("compliant", 0) + counts.get("remediated", 0)
    if host["status"] in ("compliant", "remediated", "drift", "excepted"):
        return f"{host['status']} ({passing}/{judged} controls)"
    return host["status"]


def detail(host: dict[str, Any]) -> str:
    controls = [c for c in host.get("controls") or [] if c["status"] in ("drift", "error", "excepted")]
    if controls:
        return "; ".join(f"{c['id']} {c['status']}: {len(c.get('findings') or [])} finding(s)" for c in controls)
    return str(host.get("reason") or host.get("cause") or "")


def print_report(title: str, report: dict[str, Any], report_dir: Path) -> None:
    print(f"\n== {title} ==")
    print(f"{'host':<12} {'os':<44} {'verdict':<26} detail")
    for host in report["hosts"]:
        caption = str((host.get("os") or {}).get("os_caption") or (host.get("os") or {}).get("family") or "-")
        print(f"{host['host']:<12} {caption[:43]:<44} {verdict(host):<26} {detail(host)[:110]}")
    counts = report["summary"]["host_status_counts"]
    print("hosts: " + ", ".join(f"{status} {n}" for status, n in counts.items() if n))
    print(f"report files in {report_dir.relative_to(REPO_ROOT)}/:")
    for path in sorted(report_dir.glob("wmi-compliance.*")):
        print(f"  {path.name:<28} {path.stat().st_size:>9,} bytes")


def audit(fleet: Fleet, title: str, step: str) -> dict[str, Any]:
    fleet.reset_counters()
    _, report, report_dir = run_step(fleet, "audit.yml", step)
    print_report(title, report, report_dir)
    writes = total_writes(fleet)
    print(f"writes seen by the simulated fleet during the audit: {writes}")
    if writes:
        raise SystemExit("the audit wrote to a host: check mode is broken")
    return report


def changes_by_host(report: dict[str, Any]) -> dict[str, list[str]]:
    return {
        host["host"]: [change for control in host.get("controls") or [] for change in control.get("changes") or []]
        for host in report["hosts"]
        if host.get("changed")
    }


def harden(fleet: Fleet) -> None:
    fleet.reset_counters()
    _, predicted, _ = run_step(fleet, "harden.yml", "harden-check", check=True)
    print("\n== winsec.wmi.harden --check: what a real run will change ==")
    for host, changes in changes_by_host(predicted).items():
        print(f"{host:<12} " + "\n             ".join(changes))
    print(f"writes during harden --check: {total_writes(fleet)}")
    if total_writes(fleet):
        raise SystemExit("harden --check wrote to a host: check mode is broken")

    _, applied, _ = run_step(fleet, "harden.yml", "harden")
    changed = sorted(changes_by_host(applied))
    print(f"\n== winsec.wmi.harden: changed {len(changed)} hosts ({total_writes(fleet)} writes) ==")
    print(", ".join(changed))
    if changed != sorted(changes_by_host(predicted)):
        raise SystemExit("harden changed other hosts than harden --check predicted")

    fleet.reset_counters()
    again = run_step(fleet, "harden.yml", "harden-rerun")[1]
    print(f"harden again (idempotent): {len(changes_by_host(again))} hosts changed, {total_writes(fleet)} writes")

    after = audit(fleet, "Audit after hardening", "audit-after")
    print("\nStill needs a person's decision:")
    for host in after["hosts"]:
        for control in host.get("controls") or []:
            if control["status"] == "drift":
                for finding in control.get("findings") or []:
                    print(f"  {host['host']:<12} {control['id']}: {finding['message'][:140]}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--harden", action="store_true", help="then harden (check, apply, re-run) and audit again")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="winsec-demo-") as workdir:
        fleet = Fleet("demo", Path(workdir))
        try:
            print(f"simulated demo fleet: {len(fleet.hosts)} hosts on 127.0.0.1:{fleet.port}")
            audit(fleet, "winsec.wmi.audit (check mode)", "audit")
            if args.harden:
                harden(fleet)
        finally:
            fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
