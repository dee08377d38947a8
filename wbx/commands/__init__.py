"""Subcommands of `wbx`, one module per group; `register` attaches them to the root group."""

from __future__ import annotations

import importlib

import click

# Each module exposes `command` (a click group or command) or `commands` (a list).
_MODULES = (
    "keys",
    "schemas",
    "events",
    "broker",
    "topics",
    "worker",
    "publish",
    "import_csv",
    "outbox",
    "simulate",
    "tokens",
    "gateway",
    "up",
    "bench",
    "stats",
    "config",
    "deploy",
    "receipts",
    "audit",
    "retention",
)


def register(root: click.Group) -> None:
    """Attach every available subcommand module to the root group."""
    for name in _MODULES:
        try:
            module = importlib.import_module(f"wbx.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"wbx.commands.{name}":
                raise
            continue
        for command in getattr(module, "commands", None) or [module.command]:
            root.add_command(command)
