"""Reading the TOML configuration files (reference data, policy, rules, mappings) uniformly.

Every such file fails the same way: one error naming the file and each bad entry.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from schemas.errors import ConfigurationError, WbxError, describe_validation

M = TypeVar("M", bound=BaseModel)


def read_toml(path: Path, what: str, error: type[WbxError] = ConfigurationError) -> dict[str, Any]:
    """The parsed TOML of `path`; `error` names the file when it is missing or not TOML."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise error(f"{path}: {what} not found") from None
    except tomllib.TOMLDecodeError as exc:
        raise error(f"{path}: not valid TOML: {exc}") from None


def describe_problems(exc: ValidationError) -> str:
    """Each bad entry as `path.to.entry: what is wrong (got value)`."""
    return describe_validation(exc, root="<file>", show_input=True)


def load_toml_model(
    path: Path, model: type[M], what: str, error: type[WbxError] = ConfigurationError
) -> M:
    """Read and validate a TOML file as `model`; errors name the file and each bad entry."""
    raw = read_toml(path, what, error)
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        raise error(f"{path}: {describe_problems(exc)}") from None
