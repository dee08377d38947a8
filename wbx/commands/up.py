"""`wbx up [--demo]`: the whole platform in one command (what `make run` runs)."""

from __future__ import annotations

import asyncio
import json
import shlex
import signal
import time
import urllib.request
from pathlib import Path
from types import FrameType

import click

from consumers.settings import WorkerSettings
from gateway.auth import Role, TokenAuthority
from gateway.settings import GatewaySettings
from schemas.errors import WbxError
from schemas.keys import load_or_create_private_key
from schemas.settings import ContractSettings, KafkaSettings
from schemas.signed import public_key_text
from schemas.topics import KEYS
from wbx.broker import BrokerUnreachableError, EmbeddedBroker, free_port, wait_for_broker
from wbx.commands._registry import load_or_create_signing_key, public_text
from wbx.up import Platform, StartupError, Status, apply_plan, read_status, require_free, wait_http


def _raise_interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt


def demo_keys(keys_dir: Path) -> Path:
    """Create (or reuse) the simulator's agency keys; returns the registry that lists them."""
    from producers.simulate import SimKeys

    return Path(SimKeys.load_or_create(keys_dir).registry_path)


def print_tokens(gateway: GatewaySettings, pccs: list[str]) -> None:
    """The pages with one-time sign-in codes, and ready-to-paste tokens for the API."""
    authority = TokenAuthority.from_file(gateway.token_key_file, gateway.issuer, gateway.audience)
    base = f"http://{gateway.host}:{gateway.port}"
    admin = authority.issue(Role.ADMIN)
    click.echo(f"\nWBX is up. Gateway: {base}  (API docs: {base}/docs)\n")
    click.echo("Open in a browser (each sign-in code works once, within 10 minutes):")
    operators = {pcc: authority.issue(Role.PCC_OPERATOR, pcc=pcc) for pcc in pccs}
    analyst = authority.issue(Role.ANALYST, analyst="demo-analyst")
    for pcc, token in operators.items():
        code = _sign_in_code(base, admin, token)
        click.echo(f"  console of {pcc}: {base}/console   sign-in code {code}")
    code = _sign_in_code(base, admin, analyst)
    click.echo(f"  analyst dashboard:  {base}/dashboard   sign-in code {code}\n")
    for pcc, token in operators.items():
        click.echo(
            f"# operator of {pcc}\ncurl -H 'Authorization: Bearer {token}' {base}/v1/alerts\n"
        )
    click.echo(
        f"# analyst\ncurl -H 'Authorization: Bearer {analyst}' "
        f"'{base}/v1/stats?group_by=nationality'\n"
    )
    token = authority.issue(Role.PUBLISHER, agency="RS-BP")
    click.echo(f"# publisher RS-BP (POST signed envelopes to {base}/v1/events)\n{token}\n")


def _sign_in_code(base: str, admin: str, token: str) -> str:
    """A one-time sign-in code for `token`, minted by the running gateway."""
    request = urllib.request.Request(  # noqa: S310 - our own gateway on loopback
        f"{base}/v1/sign-in-codes",
        data=json.dumps({"token": token}).encode(),
        headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
        return str(json.load(response)["code"])


@click.command("up")
@click.option("--demo", is_flag=True, help="Also run the simulator and print demo tokens.")
@click.option("--rate", default=2.0, show_default=True, help="Demo events per second.")
@click.option(
    "--var", "var_dir", default="var/up", show_default=True, type=click.Path(path_type=Path)
)
def command(demo: bool, rate: float, var_dir: Path) -> None:
    """Start broker (unless a cluster is named), topics, worker, gateway; Ctrl-C stops all."""
    kafka, gateway, worker = KafkaSettings(), GatewaySettings(), WorkerSettings()
    platform = Platform(var_dir)
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        require_free(gateway.host, gateway.port, "gateway", "WBX_GATEWAY_PORT")
        # One process per hop (two cores at work); hop 2 serves its metrics on a free port
        # the system picks (the status line reads both).
        require_free("127.0.0.1", worker.metrics_port, "worker metrics", "WBX_WORKER_METRICS_PORT")
        metrics_ports = [worker.metrics_port, free_port("127.0.0.1")]
        if kafka.embedded:
            require_free(
                kafka.embedded_host,
                kafka.embedded_port,
                "embedded broker",
                "WBX_KAFKA_EMBEDDED_PORT",
            )
            platform.broker = EmbeddedBroker(kafka.embedded_host, kafka.embedded_port)
            platform.broker.start()
            click.echo(f"embedded broker on {platform.broker.bootstrap} (memory only)")
        else:
            asyncio.run(wait_for_broker(kafka.bootstrap_servers, 15))
            click.echo(f"using the Kafka cluster at {kafka.bootstrap_servers}")
        apply_plan(kafka)
        env: dict[str, str] = {}
        contract = ContractSettings()
        if not contract.registry_public_key:
            # A machine of its own: the local registry key (~/.wbx, outside the repository)
            # signs key changes, so `wbx keys new|retire|revoke` work against this platform.
            signer = load_or_create_signing_key(contract.registry_private_key)
            env["WBX_REGISTRY_PUBLIC_KEY"] = public_text(signer)
            click.echo(f"key registry: {KEYS}, changes signed by {contract.registry_private_key}")
        if not contract.receipt_public_key:
            # The workers sign receipts with one key; every reader checks them against it.
            worker = WorkerSettings()
            key_file = worker.receipt_key_file
            if "receipt_key_file" not in worker.model_fields_set:  # not configured: ours
                key_file = var_dir / "receipt-key.pem"
                env["WBX_WORKER_RECEIPT_KEY_FILE"] = str(key_file)
            receipts = load_or_create_private_key(key_file)
            env["WBX_RECEIPT_PUBLIC_KEY"] = public_key_text(receipts.public_key())
            click.echo(f"receipts signed by {key_file} ({env['WBX_RECEIPT_PUBLIC_KEY']})")
        if not contract.audit_public_keys:
            # The gateway signs its audit chain with a key of its own (not the workers').
            gateway_settings = GatewaySettings()
            audit_file = gateway_settings.audit_key_file
            if "audit_key_file" not in gateway_settings.model_fields_set:
                audit_file = var_dir / "gateway-audit-key.pem"
                env["WBX_GATEWAY_AUDIT_KEY_FILE"] = str(audit_file)
            audit_key = public_key_text(load_or_create_private_key(audit_file).public_key())
            env["WBX_AUDIT_PUBLIC_KEYS"] = json.dumps([audit_key])
        trust = " ".join(
            f"{name}={shlex.quote(env[name])}"
            for name in (
                "WBX_RECEIPT_PUBLIC_KEY",
                "WBX_REGISTRY_PUBLIC_KEY",
                "WBX_AUDIT_PUBLIC_KEYS",
            )
            if name in env
        )
        if trust:
            click.echo(f"check the audit trail from another shell: {trust} wbx audit verify")
        if demo:
            env["WBX_KEY_REGISTRY"] = str(demo_keys(var_dir / "sim-keys"))
        platform.spawn("worker-verify", ["worker"], {**env, "WBX_WORKER_HOPS": "verify"})
        platform.spawn(
            "worker-aggregate",
            ["worker"],
            {**env, "WBX_WORKER_HOPS": "aggregate",
             "WBX_WORKER_METRICS_PORT": str(metrics_ports[1])},
        )  # fmt: skip
        platform.spawn("gateway", ["gateway"], env)
        wait_http(
            f"http://{gateway.host}:{gateway.port}/readyz",
            120,
            platform.check_children,
            platform.var / "logs",
        )
        if demo:
            sim_args = [
                "simulate",
                "--rate",
                str(rate),
                "--duration",
                "30d",
                "--keys-dir",
                str(var_dir / "sim-keys"),
            ]
            platform.spawn("simulator", sim_args, env)
            from schemas.reference import load_reference

            print_tokens(gateway, sorted(load_reference(ContractSettings().reference_file).pccs))
        click.echo(f"logs in {var_dir / 'logs'}; Ctrl-C stops everything")
        _watch(platform, [f"http://127.0.0.1:{port}/metrics" for port in metrics_ports])
    except (StartupError, BrokerUnreachableError, WbxError) as exc:
        click.echo(f"\nwbx up: {exc}", err=True)
        raise SystemExit(1) from None
    except KeyboardInterrupt:
        click.echo("\nstopping...")
    finally:
        platform.stop()
        click.echo("stopped: every process ended and its port was released")


def _watch(platform: Platform, metrics_urls: list[str]) -> None:
    """Print one live status line (the workers' figures added up) until interrupted."""
    previous, then = None, time.monotonic()
    while True:
        time.sleep(2)
        platform.check_children()
        parts = [read_status(url) for url in metrics_urls]
        now = time.monotonic()
        if any(part is None for part in parts):
            continue
        status = Status(
            *(sum(getattr(p, f) for p in parts if p is not None)
              for f in ("events_in", "quarantined", "alerts", "lag"))
        )  # fmt: skip
        rate = 0.0 if previous is None else (status.events_in - previous) / (now - then)
        previous, then = status.events_in, now
        click.echo(
            f"\rin {status.events_in:>8.0f} ({rate:5.1f}/s)  quarantined {status.quarantined:>6.0f}"
            f"  alerts {status.alerts:>6.0f}  lag {status.lag:>5.0f}   ",
            nl=False,
        )
