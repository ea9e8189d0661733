"""``--update-golden`` rewrites the ``expected`` part of every golden fixture from what the
engine does now; review the result as a diff before committing."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--update-golden", action="store_true", default=False,
                     help="regenerate tests/golden/**/*.json expectations")


@pytest.fixture
def update_golden(request: pytest.FixtureRequest) -> bool:
    return bool(request.config.getoption("--update-golden", default=False))
