# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``--sample-share K/N`` (tests/conftest.py): each Hypothesis property draws 1/N of its examples, nothing less than 10;
the N shares of a sample partition it; a malformed share is refused.

The first two tests run in file order before the third (make test runs no test in parallel within one pytest): they
record each example they are given, the third counts them. SampleShare is reached through the ``sample_share`` fixture:
tests/conftest.py is no module of the collection's tests/unit.
"""

from __future__ import annotations

import argparse

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

SEEN: dict[str, list[int]] = {"forty": [], "twelve": []}


@settings(max_examples=40, database=None)
@given(st.integers())
def test_a_property_of_40_examples(number):
    SEEN["forty"].append(number)


@settings(max_examples=12, database=None)
@given(st.integers())
def test_a_property_of_12_examples(number):
    SEEN["twelve"].append(number)


def test_a_share_draws_its_part_of_the_examples_and_at_least_10(sample_share):
    assert len(SEEN["forty"]) == (40 if sample_share.count == 1 else max(10, 40 // sample_share.count))
    assert len(SEEN["twelve"]) == (12 if sample_share.count == 1 else 10)


@pytest.mark.parametrize("count", [1, 2, 3, 4, 7])
def test_the_shares_of_a_sample_draw_each_case_once(sample_share, count):
    share = type(sample_share)
    sample = list(range(1600))
    drawn = [case for index in range(count) for case in share(index, count).of(sample)]
    assert sorted(drawn) == sample


@pytest.mark.parametrize("text", ["4/4", "-1/4", "1", "a/b", "1/0", "", "1/4/2"])
def test_a_malformed_share_is_refused(sample_share, text):
    with pytest.raises(argparse.ArgumentTypeError, match="expected K/N"):
        type(sample_share).parse(text)


def test_a_share_is_read_as_written(sample_share):
    share = type(sample_share)
    assert share.parse("1/4") == share(1, 4)
    assert share.parse("0/1") == share()
