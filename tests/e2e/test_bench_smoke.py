"""The fleet benchmark's quick mode end to end: it runs, it writes the documented keys, its round trips are right.

Times are never asserted (the benchmark measures, it does not judge); round trips, requests and bytes are
counted by the simulator, so they are exact whatever the machine's speed.
"""

from __future__ import annotations

import json
import subprocess
import sys
import typing as t
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO_ROOT))

from benchmarks.fleet_audit import SUMMARY_KEYS  # noqa: E402

pytestmark = pytest.mark.e2e


def run_benchmark(out: Path, *options: str) -> dict[str, t.Any]:
    """benchmarks/fleet_audit.py with these options, writing into ``out``; the latest.json it wrote."""
    completed = subprocess.run(
        [sys.executable, str(REPO_ROOT / "benchmarks" / "fleet_audit.py"), *options, "--out", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert completed.returncode == 0, completed.stdout[-3000:] + completed.stderr[-3000:]
    return json.loads((out / "latest.json").read_text(encoding="utf-8"))


def test_quick_benchmark_counts_round_trips_and_writes_documented_keys(tmp_path: Path) -> None:
    result = run_benchmark(tmp_path, "--quick")
    assert set(SUMMARY_KEYS) <= set(result)
    assert result["audit_round_trips_per_host"] == 1
    assert 1 <= result["harden_round_trips_per_host"] <= 2
    assert result["rerun_round_trips_per_host"] == 1
    # gather_facts, win_reg_stat and one task per namespace: 8 module calls where the audit makes one.
    assert result["typical_round_trips_per_host"] == 8
    # Evidence (every SDDL and ACE in words) is computed on the controller: not one byte more on the wire.
    assert result["audit_bytes_with_evidence_per_host"] == result["audit_bytes_per_host"]
    assert result["audit_bytes_per_host"]["from_host"] > 0
    assert result["typical_bytes_per_host"]["to_host"] > 5 * result["audit_bytes_per_host"]["to_host"]
    assert [(c["hosts"], c["forks"]) for c in result["configurations"]] == [(2, 2)]
    assert "| round trips (max) | 1 | " in (tmp_path / "latest.md").read_text(encoding="utf-8")


def test_controller_only_remeasures_that_point_and_keeps_the_host_bound_ones(tmp_path: Path) -> None:
    # The committed results: their host-bound points must come through untouched.
    earlier = json.loads((REPO_ROOT / "benchmarks" / "results" / "latest.json").read_text(encoding="utf-8"))
    kept_points = earlier["host_cost_sweep"]["points"]
    host_bound = earlier["audit_play_vs_win_ping_play_host_bound"]
    earlier["host_cost_sweep"]["generated_at"] = "2026-01-01T00:00:00Z"
    earlier["audit_play_vs_typical"] = earlier["host_cost_sweep"]["controller_bound"]["audit_play_vs_typical"] = 0.5
    (tmp_path / "latest.json").write_text(json.dumps(earlier), encoding="utf-8")
    options = ("--controller-only", "--controller-hosts", "3", "--controller-forks", "3", "--sweep-repeats", "1")
    result = run_benchmark(tmp_path, *options)
    sweep = result["host_cost_sweep"]
    assert sweep["points"] == kept_points and result["audit_play_vs_win_ping_play_host_bound"] == host_bound
    controller = sweep["controller_bound"]
    assert controller["hosts"] == 3 and controller["round_trips_per_host"]["audit"] == 1
    assert result["audit_play_vs_typical"] == controller["audit_play_vs_typical"] != 0.5
    assert set(controller["controller_cpu_seconds_per_host_median"]) == {"audit", "typical", "baseline", "win_ping"}
    assert "re-measured alone" in sweep["note"] and "2026-01-01T00:00:00Z" in sweep["note"]
