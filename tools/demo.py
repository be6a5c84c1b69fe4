"""The README's main job: audit the simulated demo fleet in check mode and print a per-host summary.

    python -m tools.demo            # start the demo fleet, run winsec.wmi.audit, print the summary, stop
    python -m tools.demo --harden   # ... then run winsec.wmi.harden (check mode first, then for real) and audit again

The playbooks are the collection's own (playbooks/audit.yml, playbooks/harden.yml), run by the real ansible-playbook
over WinRM against simulator/ (see simulator/README.md). A JSON copy of each summary goes to build/demo/.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from simulator.harness import Fleet, PlaybookRun, run_playbook_file

REPO_ROOT = Path(__file__).resolve().parents[1]
PLAYBOOKS = REPO_ROOT / "playbooks"
REPORT_DIR = REPO_ROOT / "build" / "demo"
UNSECAPP_TASK = 0
NAMESPACES_TASK = 1
SEVERITY_ORDER = ("high", "medium", "low")
# What playbooks/audit.yml checks today; a host is "compliant" for these controls only.
AUDITED_CONTROLS = ("unsecapp callback check (UnsecAppAccessControlDefault)", "namespace security descriptors")


def host_summary(run: PlaybookRun, host: str) -> dict[str, Any]:
    """One host's audit outcome: status is unreachable, failed, drift, not applicable or compliant."""
    statuses = {run.status(host, task) for task in (UNSECAPP_TASK, NAMESPACES_TASK) if run.has_result(host, task)}
    if not statuses or "unreachable" in statuses:
        first = run.result(host, UNSECAPP_TASK) if run.has_result(host, UNSECAPP_TASK) else {}
        return {"host": host, "status": "unreachable", "detail": str(first.get("msg", "no answer"))[:100]}
    unsecapp = run.result(host, UNSECAPP_TASK)
    namespaces = run.result(host, NAMESPACES_TASK)
    summary: dict[str, Any] = {"host": host, "os": (unsecapp.get("os") or {}).get("os_caption", "?")}
    failures = [r.get("msg", "failed") for r in (unsecapp, namespaces) if r.get("failed")]

    if unsecapp.get("failed"):
        summary["unsecapp"] = "error"
    elif not unsecapp.get("applicable", True):
        summary["unsecapp"] = "not applicable"
    elif unsecapp.get("compliant"):
        summary["unsecapp"] = f"ok ({unsecapp.get('observed_type')})"
    else:
        before = unsecapp.get("before") or {}
        found = f"{before.get('type')} {before.get('data')}" if before.get("exists") else "absent"
        summary["unsecapp"] = f"drift ({found})"

    findings = namespaces.get("findings") or []
    by_severity = Counter(f.get("severity") for f in findings)
    summary["findings"] = {severity: by_severity[severity] for severity in SEVERITY_ORDER if by_severity[severity]}
    summary["finding_ids"] = sorted({f["id"] for f in findings})

    if failures:
        summary["status"] = "failed"
        summary["detail"] = str(failures[0])[:100]
    elif findings or summary["unsecapp"].startswith("drift"):
        summary["status"] = "drift"
    elif summary["unsecapp"] == "not applicable":
        # Before Server 2003 there is no callback check to enable: never reported as compliant (DESIGN §1).
        summary["status"] = "not applicable"
        summary["detail"] = "no unsecapp check before Server 2003: mitigate by script review"
    else:
        summary["status"] = "compliant"
    return summary


def print_summary(title: str, summaries: list[dict[str, Any]]) -> None:
    print(f"\n== {title} ==")
    print(f"{'host':<12} {'status':<15} {'unsecapp':<22} {'namespace findings':<28} detail")
    for row in summaries:
        findings = ", ".join(f"{n} {sev}" for sev, n in row.get("findings", {}).items()) or "-"
        if row.get("finding_ids"):
            findings += f" [{', '.join(row['finding_ids'])}]"
        unsecapp = row.get("unsecapp", "-")
        print(f"{row['host']:<12} {row['status']:<15} {unsecapp:<22} {findings:<28} {row.get('detail', '')}")
    totals = Counter(row["status"] for row in summaries)
    print("totals: " + ", ".join(f"{status} {count}" for status, count in sorted(totals.items())))


def audit(fleet: Fleet, title: str) -> list[dict[str, Any]]:
    run = run_playbook_file(fleet, PLAYBOOKS / "audit.yml")
    summaries = [host_summary(run, host) for host in fleet.hosts]
    print_summary(title, summaries)
    REPORT_DIR.mkdir(parents=True, exist_ok=True)
    (REPORT_DIR / f"{title.split()[0].lower()}.json").write_text(json.dumps(summaries, indent=2), encoding="utf-8")
    writes = sum(counters["writes"] for counters in fleet.all_counters().values())
    print(f"writes seen by the simulated fleet during the audit: {writes}")
    if writes:
        raise SystemExit("the audit wrote to a host: check mode is broken")
    return summaries


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tools.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--harden", action="store_true", help="fix the drift after the audit, then audit again")
    args = parser.parse_args(argv)

    with tempfile.TemporaryDirectory(prefix="winsec-demo-") as workdir:
        fleet = Fleet("demo", Path(workdir))
        try:
            print(f"simulated demo fleet: {len(fleet.hosts)} hosts on 127.0.0.1:{fleet.port}")
            print(f"controls audited: {', '.join(AUDITED_CONTROLS)}")
            audit(fleet, "Audit (check mode)")
            if args.harden:
                fleet.reset_counters()
                run = run_playbook_file(fleet, PLAYBOOKS / "harden.yml")
                print(run.recap())
                fleet.reset_counters()
                audit(fleet, "After hardening (check mode)")
        finally:
            fleet.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
