"""Options of the whole suite."""

from __future__ import annotations

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--hostile-count N`: how many hostile inputs the broker tests send (more for soak runs)."""
    parser.addoption(
        "--hostile-count",
        type=int,
        default=2_000,
        help="hostile records sent straight to the ingest topic (the gateway gets 40%% as many)",
    )
