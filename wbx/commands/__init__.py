"""Subcommands of `wbx`, one module per group; `register` attaches them to the root group."""

from __future__ import annotations

import importlib

import click

# Each module exposes `command`, a click command or group; imported lazily by name so a
# subcommand's heavy imports (faust, uvicorn) do not slow down the others.
_MODULES = ("keys", "schemas", "events", "broker", "topics")


def register(root: click.Group) -> None:
    """Attach every available subcommand module to the root group."""
    for name in _MODULES:
        try:
            module = importlib.import_module(f"wbx.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"wbx.commands.{name}":
                raise
            continue
        root.add_command(module.command)
