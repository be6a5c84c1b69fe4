# Copyright: (c) 2026, winsec.wmi contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``--reduced`` (tests/conftest.py) gives each Hypothesis property a quarter of its examples, and nothing less than 10.

The two tests run in file order (make test runs no test in parallel within one pytest): the first records each
example it is given, the second counts them.
"""

from __future__ import annotations

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


def test_reduced_draws_a_quarter_of_the_examples_and_at_least_10(reduced):
    assert len(SEEN["forty"]) == (10 if reduced else 40)
    assert len(SEEN["twelve"]) == (10 if reduced else 12)
