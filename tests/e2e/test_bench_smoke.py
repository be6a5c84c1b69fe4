"""The fleet benchmark's quick mode end to end: it runs, it writes the documented keys, its round trips are right.
(--controller-only's bookkeeping around the same measurement: tests/unit/benchmarks.)

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
