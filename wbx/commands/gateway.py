"""`wbx gateway`: serve the HTTP API with uvicorn."""

from __future__ import annotations

import click

from gateway.settings import GatewaySettings
from schemas.errors import WbxError


@click.command("gateway")
@click.option("--host", default=None, help="Listen address (default WBX_GATEWAY_HOST).")
@click.option("--port", type=int, default=None, help="Port (default WBX_GATEWAY_PORT).")
def command(host: str | None, port: int | None) -> None:
    """Run the gateway: ingest API, PCC alert feed, analyst statistics."""
    import uvicorn

    from gateway.api.main import create_app
    from wbx.up import require_free

    settings = GatewaySettings()
    host, port = host or settings.host, port or settings.port
    try:
        # Before the app: a second gateway on this host says which setting to change.
        require_free(host, port, "gateway", "WBX_GATEWAY_PORT (or --port)")
        app = create_app()
    except WbxError as exc:
        raise click.ClickException(str(exc)) from None
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="warning",
        timeout_keep_alive=settings.keep_alive,
        timeout_graceful_shutdown=3,
    )
