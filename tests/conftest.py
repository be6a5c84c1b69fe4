"""Options every test directory shares.

``--reduced``: the matrix (``make test``) runs every test on every ansible-core; a test whose cost is the size of a
random sample (the reply fuzzer: 1,600 cases) runs it whole on the default ansible-core and a fixed subset of it on
the others. A reduced test still runs and still asserts everything it asserts at full size; only how many cases it
draws differs, and it says how. A plain ``pytest`` runs everything at full size.
"""

from __future__ import annotations

import pytest


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
