"""A live gateway (uvicorn on 127.0.0.1) over a test stack, with a controllable clock."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import uvicorn

from gateway.api.main import create_app
from gateway.auth import Role
from gateway.service import GatewayService
from gateway.settings import GatewaySettings
from schemas.settings import KafkaSettings
from tests.integration.pipeline_stack import Stack
from wbx.broker import free_port


@dataclass
class Clock:
    """Real time plus an offset the test can move forward."""

    offset: timedelta = field(default_factory=timedelta)

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.offset


@dataclass
class LiveGateway:
    """A gateway served on a real port."""

    base: str
    service: GatewayService
    clock: Clock
    server: uvicorn.Server
    task: asyncio.Task[None]

    def token(self, role: Role, **binding: str) -> str:
        """A valid token for a role and binding."""
        return self.service.authority.issue(role, **binding)

    def auth(self, role: Role, **binding: str) -> dict[str, str]:
        """The Authorization header for a role and binding."""
        return {"Authorization": f"Bearer {self.token(role, **binding)}"}

    async def stop(self) -> None:
        """Shut the server down (runs the app's lifespan shutdown)."""
        self.server.should_exit = True
        await self.task


async def start_gateway(stack: Stack, tmp: Path, **settings: object) -> LiveGateway:
    """Serve the gateway for `stack` on a free port and wait until it answers."""
    clock = Clock()
    service = GatewayService(
        GatewaySettings(
            token_key_file=tmp / "token-key.pem",
            audit_key_file=tmp / "audit-key.pem",
            outbox_dir=tmp / "gateway-outbox",
            escalation_check_interval=0.2,
            **settings,  # type: ignore[arg-type]
        ),
        KafkaSettings(bootstrap=stack.bootstrap, idempotence=False),
        stack.contract(),
        clock=clock,
    )
    port = free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service), host="127.0.0.1", port=port, log_level="warning")
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    await asyncio.wait_for(service.feeds.loaded.wait(), 30)
    return LiveGateway(f"http://127.0.0.1:{port}", service, clock, server, task)
