"""Rendering cost of the fleet compliance report: 10,000 synthetic hosts x 10 controls, every format.

Builds baseline results like winsec.wmi.baseline's (about 10% of the hosts drift, 2% error, 1% unreachable, 1% not
applicable, 1% excepted), then times normalising them into the report and rendering each format, with peak memory
from tracemalloc (Python allocations only) and the size of each output.

    .venv/2.19/bin/python benchmarks/report_render.py --hosts 10000 --controls 10 --json build/bench/report_render.json

With ``--browser`` it also times opening the HTML file in Debian's Chromium (Playwright; ``make browser``) until the
page's script has run.

Numbers depend on the machine; they are printed, never asserted (DESIGN §5).
"""

from __future__ import annotations

import argparse
import functools
import json
import random
import sys
import time
import tracemalloc
import typing as t
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT / "collections"))

from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_html import render_html  # noqa: E402
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_model import (  # noqa: E402
    build_report,
    normalise_host,
)
from ansible_collections.winsec.wmi.plugins.plugin_utils._report._report_render import (  # noqa: E402
    render_csv,
    render_json,
    render_junit,
    render_markdown,
)

RENDERERS: dict[str, t.Callable[[t.Any], str]] = {
    "json": render_json,
    "junit": render_junit,
    "html": render_html,
    "csv": render_csv,
    "markdown": render_markdown,
}
RUN_AT = "2026-11-30T10:00:00.000000Z"


def synthetic_control(index: int, status: str, rng: random.Random) -> dict[str, t.Any]:
    findings = []
    if status in ("drift", "excepted"):
        findings = [
            {
                "id": "broad_write",
                "severity": "high",
                "message": "Authenticated Users holds RemoteAccess and WriteSecurity",
                "namespace": f"root\\app{rng.randrange(50)}",
                "principal": "NT AUTHORITY\\Authenticated Users",
                "sid": "S-1-5-11",
                "rights": ["RemoteAccess", "WriteSecurity"],
                "excepted": status == "excepted",
            }
        ]
    return {
        "id": f"WMI-{index + 1:03}",
        "title": f"Control {index + 1}",
        "severity": ("critical", "high", "medium", "low", "info")[index % 5],
        "status": status,
        "expected": {"sddl": "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCLCSWRPWPRCWD;;;SY)"},
        "actual": {"sddl": "O:BAG:BAD:(A;CI;CCDCLCSWRPWPRCWD;;;BA)(A;CI;CCDCWPWD;;;AU)"},
        "findings": findings,
        "remediation": {"automatic": True, "text": "winsec.wmi.harden removes the grant."},
        "references": [{"title": "Securing a remote WMI connection", "url": "https://learn.microsoft.com/"}],
        "changes": [],
        **({"reason": "access denied (0x80041003)"} if status == "error" else {}),
    }


def synthetic_fleet(hosts: int, controls: int, seed: int = 1) -> dict[str, t.Any]:
    rng = random.Random(seed)
    records: dict[str, t.Any] = {}
    for number in range(hosts):
        name = f"srv{number:05}.corp.example.com"
        roll = rng.random()
        if roll < 0.01:
            records[name] = {"unreachable": True, "changed": False, "msg": "connection refused"}
            continue
        verdict = (
            "error" if roll < 0.03 else "drift" if roll < 0.13 else "not_applicable" if roll < 0.14
            else "excepted" if roll < 0.15 else "compliant"
        )  # fmt: skip
        statuses = ["compliant"] * controls
        statuses[rng.randrange(controls)] = verdict
        records[name] = {
            "changed": False,
            "status": verdict,
            "os": {
                "os_caption": "Microsoft Windows Server 2022 Datacenter",
                "os_version": "10.0.20348",
                "os_build": 20348,
            },
            "controls": [synthetic_control(index, status, rng) for index, status in enumerate(statuses)],
        }
    return records


def measure(function: t.Callable[[], t.Any]) -> tuple[t.Any, float, int]:
    """The value, the seconds it took untraced, and the peak of Python allocations in a second, traced run
    (tracemalloc slows allocation-heavy code several times, so it must not be in the timed run)."""
    started = time.perf_counter()
    value = function()
    seconds = time.perf_counter() - started
    tracemalloc.start()
    function()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return value, seconds, peak


def browser_open_seconds(html: str, directory: Path) -> float:
    """Seconds from navigation until the report's script has run, in headless Chromium."""
    from playwright.sync_api import sync_playwright

    path = directory / "wmi-compliance.html"
    path.write_text(html, encoding="utf-8")
    flags = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
             "--disable-sync", "--no-first-run"]  # fmt: skip
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path="/usr/bin/chromium", args=flags)
        try:
            page = browser.new_page()
            started = time.perf_counter()
            page.goto(path.as_uri(), timeout=600_000)
            page.wait_for_selector("html[data-report-ready=true]", state="attached", timeout=600_000)
            return time.perf_counter() - started
        finally:
            browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hosts", type=int, default=10_000)
    parser.add_argument("--controls", type=int, default=10)
    parser.add_argument("--json", type=Path, default=REPO_ROOT / "build" / "bench" / "report_render.json")
    parser.add_argument("--browser", action="store_true", help="also time opening the HTML in headless Chromium")
    args = parser.parse_args()

    records = synthetic_fleet(args.hosts, args.controls)

    def build() -> dict[str, t.Any]:
        hosts = [normalise_host(host, record, run_at=RUN_AT) for host, record in records.items()]
        return build_report(hosts, title="Benchmark", generated_at=RUN_AT)

    report, seconds, peak = measure(build)
    rows: list[dict[str, t.Any]] = [
        {"step": "normalise+summary", "seconds": seconds, "peak_mib": peak / 2**20, "output_mib": 0.0}
    ]
    html = ""
    for name, render in RENDERERS.items():
        text, seconds, peak = measure(functools.partial(render, report))
        rows.append(
            {"step": name, "seconds": seconds, "peak_mib": peak / 2**20, "output_mib": len(text.encode()) / 2**20}
        )
        html = text if name == "html" else html
    total = sum(row["seconds"] for row in rows)
    if args.browser:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        seconds = browser_open_seconds(html, args.json.parent)
        rows.append({"step": "chromium open html", "seconds": seconds, "peak_mib": 0.0, "output_mib": 0.0})

    print(f"{args.hosts} hosts x {args.controls} controls (Python {sys.version.split()[0]})")
    print(f"{'step':<19} {'seconds':>8} {'peak MiB':>9} {'output MiB':>11}")
    for row in rows:
        print(f"{row['step']:<19} {row['seconds']:>8.2f} {row['peak_mib']:>9.1f} {row['output_mib']:>11.1f}")
    print(f"{'total (rendering)':<19} {total:>8.2f}")
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(
        json.dumps({"hosts": args.hosts, "controls": args.controls, "rows": rows, "total_seconds": total}, indent=1)
        + "\n",
        encoding="utf-8",
    )
    print(f"written: {args.json}")


if __name__ == "__main__":
    main()
