"""Options of the whole suite, and the live stack (broker, worker, gateway) modules share."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import pytest
import pytest_asyncio

from tests.integration.gateway_server import LiveGateway, start_gateway
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack


def pytest_addoption(parser: pytest.Parser) -> None:
    """`--hostile-count N`: how many hostile inputs the broker tests send (more for soak runs)."""
    parser.addoption(
        "--hostile-count",
        type=int,
        default=2_000,
        help="hostile records sent straight to the ingest topic (the gateway gets 40%% as many)",
    )


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    """A broker with the topic plan and a worker, for one test module."""
    stack = start_stack(tmp_path_factory.mktemp("stack"))
    stack.start_worker()
    yield stack
    stop_stack(stack)


@pytest_asyncio.fixture(scope="module", loop_scope="module")
async def gw(stack: Stack) -> AsyncIterator[LiveGateway]:
    """A gateway served on a real port over the module's stack."""
    live = await start_gateway(stack, stack.tmp)
    yield live
    await live.stop()
