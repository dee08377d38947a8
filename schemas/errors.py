"""The one exception hierarchy of WBX: every error raised on purpose derives from WbxError."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from pydantic import ValidationError


class WbxError(Exception):
    """Root of every error WBX raises on purpose."""


class ReferenceDataError(WbxError):
    """The reference data file is missing, unreadable or inconsistent."""


class KeyRegistryError(WbxError):
    """The key registry file is unreadable, inconsistent or lacks the named key."""


class PrivateKeyError(WbxError):
    """A private signing key file is missing, unreadable or not an Ed25519 key."""


class EnvelopeInvalidError(WbxError):
    """An envelope or payload does not satisfy the wire contract."""


class SchemaIncompatibleError(WbxError):
    """A new schema version would break consumers of the old one."""


class ConfigurationError(WbxError):
    """A setting or configuration file has a value WBX cannot work with."""


class BrokerRefusedError(ConfigurationError):
    """The broker is reachable but refuses something WBX asks of it (a setting must change)."""


def validation_items(
    errors: Iterable[Mapping[str, Any]],
    prefix: tuple[str | int, ...] = (),
    *,
    show_input: bool = False,
) -> list[tuple[str, str]]:
    """Each of pydantic's (or FastAPI's) `errors()` as (dotted path, what is wrong)."""
    items = []
    for error in errors:
        where = ".".join(str(part) for part in (*prefix, *error["loc"]))
        message = str(error["msg"]).removeprefix("Value error, ")
        if error.get("type") == "enum" and len(message) > 200:
            # A vocabulary of hundreds (nationalities) would drown the one value that is wrong.
            count = message.count("'") // 2
            got = str(error.get("input"))[:40]
            message = f"{got!r} is not one of the {count} allowed values (docs/contract.md)"
        if show_input:
            message += f" (got {error['input']!r})"
        items.append((where, message))
    return items


def describe_validation(
    exc: ValidationError,
    prefix: tuple[str | int, ...] = (),
    *,
    root: str = "<root>",
    show_input: bool = False,
) -> str:
    """One line naming each invalid field by its path (`root` for the whole) and what is wrong."""
    return join_items(validation_items(exc.errors(), prefix, show_input=show_input), root)


def join_items(items: Iterable[tuple[str, str]], root: str = "<root>") -> str:
    """`path: problem; path: problem`. A message that already names its own path (a nested
    model's problems, re-raised by a validator) is kept as it is."""
    parts = []
    for where, message in items:
        nested = message.split(":", 1)[0]
        if nested and " " not in nested and "." in nested:
            parts.append(message)
        else:
            parts.append(f"{where or root}: {message}")
    return "; ".join(parts)
