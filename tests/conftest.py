"""Options of the whole suite, and the live stack (broker, worker, gateway) modules share."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
import pytest_asyncio

from tests.figures import class_table, figures_of, table
from tests.integration.gateway_server import LiveGateway, start_gateway
from tests.integration.pipeline_stack import Stack, start_stack, stop_stack


def pytest_addoption(parser: pytest.Parser) -> None:
    """How long the reliability tests try: the defaults are the short versions of
    `make test`; `make reliability` passes the long ones."""
    parser.addoption(
        "--hostile-count",
        type=int,
        default=2_000,
        help="hostile records sent straight to the ingest topic (the gateway gets 40%% as many)",
    )
    parser.addoption(
        "--figures",
        type=Path,
        default=None,
        help="also write the reliability figures printed at the end to this JSON file",
    )
    parser.addoption(
        "--kill-events", type=int, default=3_000, help="events of the SIGKILL loop's stream"
    )
    parser.addoption("--kills", type=int, default=2, help="SIGKILLs during the loop's stream")
    parser.addoption("--soak-seconds", type=float, default=20.0, help="how long the soak runs")
    parser.addoption("--soak-rate", type=int, default=150, help="events a second in the soak")
    parser.addoption(
        "--soak-requests", type=int, default=40, help="gateway requests a second in the soak"
    )
    parser.addoption(
        "--slow-events", type=int, default=4_000, help="events sent past the slowed worker"
    )
    parser.addoption(
        "--kill-seed", type=int, default=20261124, help="seed of the loop's kill moments"
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


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """Print the reliability figures the tests recorded (and write them with `--figures`)."""
    reports = [r for key in ("passed", "failed") for r in terminalreporter.stats.get(key, [])]
    rows = figures_of(r for r in reports if getattr(r, "when", "") == "call")
    if not rows:
        return
    classes: dict[str, dict[str, int]] = defaultdict(dict)
    for row in rows:
        for kind, counts in row.pop("classes", {}).items():
            for path, count in counts.items():
                classes[kind][path] = classes[kind].get(path, 0) + count
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    terminalreporter.section(f"reliability figures ({when})")
    terminalreporter.write_line(table(rows))
    for row in rows:
        if row.get("note"):
            terminalreporter.write_line(f"- {row['test']}: {row['note']}")
    if classes:
        terminalreporter.write_line("")
        terminalreporter.write_line(class_table(classes))
    path: Path | None = config.getoption("--figures")
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        document = {"measured": when, "rows": rows, "classes": classes}
        path.write_text(json.dumps(document, indent=2) + "\n")
