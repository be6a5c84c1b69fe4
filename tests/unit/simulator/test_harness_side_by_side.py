"""simulator.harness.SideBySide: several tests' scenarios, one ansible-playbook run per round.

The runs are faked here (the e2e tests that use SideBySide take the real path); what is tested is the bookkeeping:
which plays go into which round, whose failure is whose, and that a plan can neither borrow another's host nor end
without finishing.
"""

from __future__ import annotations

from typing import Any, cast

import pytest

from simulator import harness
from simulator.harness import Fleet, PlaybookRun, SideBySide, Step

NO_FLEET = cast(Fleet, object())  # the runs are faked: SideBySide only hands the fleet to run_plays_step


@pytest.fixture
def rounds(monkeypatch: pytest.MonkeyPatch) -> list[list[dict[str, Any]]]:
    """The plays of each round, as SideBySide handed them to run_plays_step (which is faked: rc 0, no counters)."""
    seen: list[list[dict[str, Any]]] = []

    def fake_run_plays_step(fleet: object, plays: list[dict[str, Any]], **options: Any) -> Step:
        seen.append(plays)
        return Step(PlaybookRun(0, f"round {len(seen)}", "", harness.REPO_ROOT), {})

    monkeypatch.setattr(harness, "run_plays_step", fake_run_plays_step)
    return seen


def steps(host: str, count: int, log: list[str]) -> harness.Plan:
    for number in range(count):
        step = yield {"hosts": host, "tasks": [{"name": f"{host} {number}"}]}
        log.append(f"{host} saw {step.run.stdout}")


def test_each_round_is_one_run_of_every_unfinished_plans_next_play(rounds: list[list[dict[str, Any]]]) -> None:
    log: list[str] = []
    plans = SideBySide(NO_FLEET, {"long": steps("a", 3, log), "short": steps("b", 1, log)})
    assert [[(play["name"], play["hosts"]) for play in plays] for plays in rounds] == [
        [("long", "a"), ("short", "b")],
        [("long", "a")],
        [("long", "a")],
    ]
    assert log == ["a saw round 1", "b saw round 1", "a saw round 2", "a saw round 3"]
    plans.outcome("long")
    plans.outcome("short")


def test_a_plans_failure_is_its_tests_and_the_others_go_on(rounds: list[list[dict[str, Any]]]) -> None:
    def failing(host: str) -> harness.Plan:
        step = yield {"hosts": host, "tasks": []}
        assert step.run.rc == 4, "the run should have failed"

    log: list[str] = []
    plans = SideBySide(NO_FLEET, {"failing": failing("a"), "fine": steps("b", 2, log)})
    with pytest.raises(AssertionError, match="the run should have failed"):
        plans.outcome("failing")
    plans.outcome("fine")
    assert log == ["b saw round 1", "b saw round 2"]


def test_a_plan_may_yield_several_plays_in_one_round(rounds: list[list[dict[str, Any]]]) -> None:
    def two_plays() -> harness.Plan:
        yield [{"hosts": "a", "tasks": []}, {"hosts": "b:c", "tasks": [], "check_mode": True}]

    SideBySide(NO_FLEET, {"both": two_plays()}).outcome("both")
    assert rounds == [
        [{"name": "both", "hosts": "a", "tasks": []}, {"name": "both", "hosts": "b:c", "tasks": [], "check_mode": True}]
    ]


def test_a_host_belongs_to_the_first_plan_that_names_it(rounds: list[list[dict[str, Any]]]) -> None:
    log: list[str] = []
    plans = SideBySide(NO_FLEET, {"first": steps("a", 2, log), "second": steps("b:a", 1, log)})
    with pytest.raises(AssertionError, match="plan 'second' names 'a', plan 'first''s host"):
        plans.outcome("second")
    plans.outcome("first")
    assert [[play["name"] for play in plays] for plays in rounds] == [["first"], ["first"]]


def test_a_plan_that_never_finished_or_never_was_fails(rounds: list[list[dict[str, Any]]]) -> None:
    def stalled() -> harness.Plan:
        yield []  # no play: nothing would ever run its next step
        yield {"hosts": "a", "tasks": []}

    plans = SideBySide(NO_FLEET, {"stalled": stalled()})
    with pytest.raises(AssertionError, match="plan 'stalled' yielded no play and never finished"):
        plans.outcome("stalled")
    assert rounds == []
    with pytest.raises(AssertionError, match="no plan 'unknown'"):
        plans.outcome("unknown")
