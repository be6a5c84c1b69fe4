"""Options every test directory shares.

``--sample-share K/N``: the matrix (``make test``) runs every test on each of its N ansible-cores; a test whose cost is
the size of a random sample draws share K of it on the K-th core (from 0), so the N cores together draw the whole
sample once instead of N times:

* the reply fuzzer: the cases K, K+N, K+2N, ... of its fixed-seed sample of 1,600 (each share still covers every op);
* every Hypothesis property: 1/N of its ``max_examples`` (at least 10), drawn at random as Hypothesis always draws
  them, so each core draws examples of its own.

A test on a share still runs and still asserts everything it asserts on the whole sample; only which cases it draws
differs. Without the option (a plain ``pytest``, or ``make pytest-unit-2.19`` alone) every test draws its whole sample.
"""

from __future__ import annotations

import argparse
import typing as t
from dataclasses import dataclass

import hypothesis
import pytest

SHARE_EXAMPLES_FLOOR = 10
T = t.TypeVar("T")


@dataclass(frozen=True)
class SampleShare:
    """Share ``index`` of ``count`` of a sample: the whole sample is share 0 of 1."""

    index: int = 0
    count: int = 1

    @classmethod
    def parse(cls, text: str) -> SampleShare:
        parts = text.split("/")
        try:
            share = cls(int(parts[0]), int(parts[1])) if len(parts) == 2 else cls(-1, 0)
        except ValueError:
            share = cls(-1, 0)
        if not 0 <= share.index < share.count:
            raise argparse.ArgumentTypeError(f"expected K/N with 0 <= K < N, e.g. 1/4; got {text!r}")
        return share

    def of(self, sample: t.Sequence[T]) -> list[T]:
        """This share's items of ``sample``: every count-th from index; the ``count`` shares partition it."""
        return list(sample[self.index :: self.count])

    def examples(self, max_examples: int) -> int:
        """A Hypothesis property's examples on this share: max_examples / count, at least SHARE_EXAMPLES_FLOOR."""
        return max_examples if self.count == 1 else max(SHARE_EXAMPLES_FLOOR, max_examples // self.count)

    def __str__(self) -> str:
        return "the whole sample" if self.count == 1 else f"share {self.index}/{self.count} (--sample-share)"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--sample-share",
        type=SampleShare.parse,
        default=SampleShare(),
        metavar="K/N",
        help="draw share K of N of each random-sample test's sample (the reply fuzzer, Hypothesis properties): make "
        "test gives its N ansible-cores the N shares",
    )


def pytest_report_header(config: pytest.Config) -> str:
    return f"random-sample tests draw {config.getoption('sample_share')}"


@pytest.fixture(scope="session")
def sample_share(pytestconfig: pytest.Config) -> SampleShare:
    """The share of each random sample this run draws (``--sample-share``; the whole sample without it)."""
    share: SampleShare = pytestconfig.getoption("sample_share")
    return share


def share_examples(test: t.Callable[..., t.Any], share: SampleShare) -> None:
    """Give a Hypothesis test its share of its ``max_examples``, once.

    Hypothesis reads a test's settings from ``_hypothesis_internal_use_settings`` each time the test runs (what
    ``@settings`` writes); a test that is not a Hypothesis test is left alone, and so is one already shared (the
    items of a parametrized test share one function).
    """
    current = getattr(test, "_hypothesis_internal_use_settings", None)
    if not isinstance(current, hypothesis.settings) or getattr(test, "_winsec_examples_shared", False):
        return
    examples = share.examples(current.max_examples)
    test._hypothesis_internal_use_settings = hypothesis.settings(current, max_examples=examples)  # type: ignore[attr-defined]
    test._winsec_examples_shared = True  # type: ignore[attr-defined]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    share: SampleShare = config.getoption("sample_share")
    if share.count == 1:
        return
    for item in items:
        if isinstance(item, pytest.Function):
            share_examples(item.function, share)
