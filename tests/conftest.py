"""Options every test directory shares.

``--reduced``: the matrix (``make test``) runs every test on every ansible-core; a test whose cost is the size of a
random sample runs it whole on the default ansible-core and a smaller one on the others:

* the reply fuzzer (its own ``reduced`` branch): every fourth of its 1,600 cases;
* every Hypothesis property: a quarter of its ``max_examples`` (at least 10).

A reduced test still runs and still asserts everything it asserts at full size; only how many cases it draws differs.
A plain ``pytest`` runs everything at full size.
"""

from __future__ import annotations

import typing as t

import hypothesis
import pytest

REDUCED_EXAMPLES_DIVISOR = 4
REDUCED_EXAMPLES_FLOOR = 10


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reduced",
        action="store_true",
        default=False,
        help="run sampling tests (the reply fuzzer) on a subset of their cases: make test's non-default ansible-cores",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"sample sizes: {'reduced (--reduced)' if config.getoption('reduced') else 'full'}"


@pytest.fixture(scope="session")
def reduced(pytestconfig: pytest.Config) -> bool:
    """True when sampling tests should run at their reduced size (``--reduced``)."""
    return bool(pytestconfig.getoption("reduced"))


def reduce_examples(test: t.Callable[..., t.Any]) -> None:
    """Give a Hypothesis test a quarter of its ``max_examples`` (at least REDUCED_EXAMPLES_FLOOR), once.

    Hypothesis reads a test's settings from ``_hypothesis_internal_use_settings`` each time the test runs (what
    ``@settings`` writes); a test that is not a Hypothesis test is left alone, and so is one already reduced (the
    items of a parametrized test share one function).
    """
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    if not isinstance(current, hypothesis.settings) or getattr(test, "_winsec_examples_reduced", False):
        return
    examples = max(REDUCED_EXAMPLES_FLOOR, current.max_examples // REDUCED_EXAMPLES_DIVISOR)
    test._hypothesis_internal_use_settings = hypothesis.settings(current, max_examples=examples)  # type: ignore[attr-defined]
    test._winsec_examples_reduced = True  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.getoption("reduced"):
        return
    for item in items:
        if isinstance(item, pytest.Function):
            reduce_examples(item.function)
