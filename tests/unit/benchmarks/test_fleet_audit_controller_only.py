"""benchmarks/fleet_audit.py --controller-only: it re-measures the controller-bound point alone and writes it into the
existing latest.json, keeping the host-bound points and everything else as they were measured.

The measurement itself (``sweep_point``: four real ansible-playbook runs over a simulated fleet) is replaced here by
a known point; tests/e2e/test_bench_smoke.py runs it for real. What is tested is the bookkeeping around it.
"""

from __future__ import annotations

import copy
import inspect
import json
import sys
from pathlib import Path
from typing import Any

import pytest

REPO_ROOT = Path(__file__).resolve().parents[3]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))

from benchmarks import fleet_audit  # noqa: E402


def test_controller_only_remeasures_that_point_and_keeps_the_host_bound_ones(tmp_path: Path, monkeypatch) -> None:
    # The committed results: their host-bound points must come through untouched.
    earlier = json.loads((REPO_ROOT / "benchmarks" / "results" / "latest.json").read_text(encoding="utf-8"))
    kept_points = copy.deepcopy(earlier["host_cost_sweep"]["points"])
    host_bound = earlier["audit_play_vs_win_ping_play_host_bound"]
    earlier["host_cost_sweep"]["generated_at"] = "2026-01-01T00:00:00Z"
    earlier["audit_play_vs_typical"] = earlier["host_cost_sweep"]["controller_bound"]["audit_play_vs_typical"] = 0.5
    (tmp_path / "latest.json").write_text(json.dumps(earlier), encoding="utf-8")

    new_point: dict[str, Any] = {
        **copy.deepcopy(earlier["host_cost_sweep"]["controller_bound"]),
        "hosts": 3,
        "forks": 3,
        "audit_play_vs_typical": 6.5,
        "baseline_task_vs_win_ping": 1.2,
        "per_host_tasks": {"audit": 1, "typical": 8, "baseline": 1, "win_ping": 1},
    }
    calls: list[dict[str, Any]] = []

    def measured_point(*args: Any, **kwargs: Any) -> dict[str, Any]:
        inspect.signature(fleet_audit.sweep_point).bind(*args, **kwargs)  # called as the real one must be
        calls.append(kwargs)
        return copy.deepcopy(new_point)

    monkeypatch.setattr(fleet_audit, "sweep_point", measured_point)
    options = ["--controller-only", "--controller-hosts", "3", "--controller-forks", "3", "--sweep-repeats", "1"]
    assert fleet_audit.main([*options, "--out", str(tmp_path)]) == 0

    assert [(c["hosts"], c["forks"], c["host_cost"], c["repeats"]) for c in calls] == [(3, 3, 0.0, 1)]
    result = json.loads((tmp_path / "latest.json").read_text(encoding="utf-8"))
    sweep = result["host_cost_sweep"]
    assert sweep["points"] == kept_points and result["audit_play_vs_win_ping_play_host_bound"] == host_bound
    controller = sweep["controller_bound"]
    assert {key: controller[key] for key in new_point} == new_point and controller["generated_at"]
    assert result["audit_play_vs_typical"] == 6.5 and result["baseline_task_vs_win_ping"] == 1.2
    assert result["per_host_tasks"] == new_point["per_host_tasks"]
    assert "re-measured alone" in sweep["note"] and "2026-01-01T00:00:00Z" in sweep["note"] and "0.5x" in sweep["note"]
    assert "6.50x" in (tmp_path / "latest.md").read_text(encoding="utf-8")


def test_controller_only_refuses_results_without_a_sweep_to_keep(tmp_path: Path) -> None:
    (tmp_path / "latest.json").write_text(json.dumps({"generated_at": "x"}), encoding="utf-8")
    with pytest.raises(SystemExit, match="has no host-cost sweep to keep"):
        fleet_audit.main(["--controller-only", "--out", str(tmp_path)])
