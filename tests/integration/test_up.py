"""`wbx up --demo` as a user runs it: ready, statistics and an alert, then Ctrl-C leaves nothing."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from wbx.broker import free_port, port_in_use

pytestmark = pytest.mark.integration


def _worker_hops(pids: set[int]) -> set[str]:
    """The WBX_WORKER_HOPS of the worker processes among `pids` (Linux /proc)."""
    found = set()
    for pid in pids:
        try:
            environ = Path(f"/proc/{pid}/environ").read_bytes().split(b"\0")
        except OSError:
            continue
        for item in environ:
            if item.startswith(b"WBX_WORKER_HOPS="):
                found.add(item.split(b"=", 1)[1].decode())
    return found


def _descendants(pid: int) -> set[int]:
    """Every process below `pid` (from /proc), so the test can check none survives."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def _env(tmp: Path) -> tuple[dict[str, str], dict[str, int]]:
    ports = {"gateway": free_port(), "metrics": free_port(), "broker": free_port()}
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("WBX_")},
        "WBX_GATEWAY_PORT": str(ports["gateway"]),
        "WBX_WORKER_METRICS_PORT": str(ports["metrics"]),
        "WBX_KAFKA_EMBEDDED_PORT": str(ports["broker"]),
        "WBX_WORKER_REBALANCE_TIMEOUT": "1",
    }
    return env, ports


def test_up_demo_serves_statistics_and_alerts_then_sigint_stops_everything(tmp_path: Path):
    env, ports = _env(tmp_path)
    log = tmp_path / "up.out"
    with log.open("wb") as out:
        up = subprocess.Popen(
            [sys.executable, "-m", "wbx", "up", "--demo", "--rate", "20"],
            cwd=tmp_path,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    try:
        deadline = time.monotonic() + 90
        tokens: dict[str, str] = {}
        while time.monotonic() < deadline and "analyst" not in tokens:
            text = log.read_text(errors="replace")
            assert up.poll() is None, text
            for who, token in re.findall(
                r"# (operator of \S+|analyst)\ncurl -H 'Authorization: Bearer (\S+)'", text
            ):
                tokens[who] = token
            time.sleep(0.5)
        assert "analyst" in tokens, log.read_text()
        base = f"http://127.0.0.1:{ports['gateway']}"
        # The printed sign-in code opens the dashboard once, as a person at a desk would use it.
        codes = dict(
            re.findall(r"(analyst dashboard|console of \S+):\s+\S+\s+sign-in code (\w+)", text)
        )
        assert set(codes) == {"analyst dashboard", "console of pcc-plav", "console of pcc-trebinje"}

        def sign_in(code: str) -> tuple[httpx.Client, httpx.Response]:
            browser = httpx.Client(base_url=base)
            form = browser.get("/sign-in").text
            field = re.search(r'name="form_token" value="([^"]+)"', form)
            assert field, form
            data = {"code": code, "form_token": field.group(1)}
            return browser, browser.post("/sign-in", data=data)

        browser, signed_in = sign_in(codes["analyst dashboard"])
        try:
            assert signed_in.headers["location"] == "/dashboard", signed_in.text
            assert browser.get("/dashboard").status_code == 200
        finally:
            browser.close()
        other, again = sign_in(codes["analyst dashboard"])
        other.close()
        assert again.status_code == 401  # single use
        found_stats = found_alert = False
        while time.monotonic() < deadline and not (found_stats and found_alert):
            analyst = {"Authorization": f"Bearer {tokens['analyst']}"}
            cells = httpx.get(
                f"{base}/v1/stats?group_by=event_type&measure=events", headers=analyst
            ).json()
            found_stats = found_stats or bool(cells.get("cells"))
            for who, token in tokens.items():
                if who.startswith("operator"):
                    alerts = httpx.get(
                        f"{base}/v1/alerts", headers={"Authorization": f"Bearer {token}"}
                    )
                    found_alert = found_alert or bool(alerts.json())
            time.sleep(1)
        assert found_stats, "no statistics through the gateway within 90 s"
        assert found_alert, "no alert through the gateway within 90 s"
        family = _descendants(up.pid)
        assert len(family) >= 5  # broker, a worker per hop, gateway, simulator
        assert _worker_hops(family) == {"verify", "aggregate"}
    finally:
        family = _descendants(up.pid) | {up.pid}
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=60)
        finally:
            if up.poll() is None:
                os.killpg(up.pid, signal.SIGKILL)
    survivors = [pid for pid in family if _alive(pid)]
    assert survivors == [], f"processes left behind: {survivors}\n{log.read_text()[-2000:]}"
    for name, port in ports.items():
        assert not port_in_use("127.0.0.1", port), f"{name} port {port} still taken"
    assert "stopped" in log.read_text()


def test_up_with_a_taken_gateway_port_says_what_to_do(tmp_path: Path):
    env, ports = _env(tmp_path)
    with socket.socket() as blocker:
        blocker.bind(("127.0.0.1", ports["gateway"]))
        blocker.listen()
        result = subprocess.run(
            [sys.executable, "-m", "wbx", "up"],
            cwd=tmp_path,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert result.returncode == 1
    assert f"port {ports['gateway']} for the gateway is already in use" in result.stderr
    assert "WBX_GATEWAY_PORT" in result.stderr
