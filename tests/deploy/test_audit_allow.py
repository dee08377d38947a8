"""The reviewed allow-list of `make audit`: well formed, and a careless entry is refused."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "infra" / "security" / "pip_audit.py"


@pytest.fixture(scope="module")
def audit() -> ModuleType:
    spec = importlib.util.spec_from_file_location("wbx_pip_audit", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


REASON = 'reason = "form parsing of multipart bodies; WBX\'s routes take JSON only"'
ENTRY = """
[[allow]]
id = "PYSEC-2024-38"
package = "fastapi"
reason = "form parsing of multipart bodies; WBX's routes take JSON only"
reviewed_by = "wbx-core"
reviewed_on = 2026-11-24
"""


def test_the_committed_allow_list_is_well_formed(audit: ModuleType) -> None:
    entries = audit.load_allow_list()
    assert all(entry["reason"].strip() for entry in entries)


def test_a_reviewed_entry_becomes_an_ignored_advisory(audit: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "allow.toml"
    path.write_text(ENTRY)
    argv = audit.command(audit.load_allow_list(path))
    assert argv[argv.index("--ignore-vuln") + 1] == "PYSEC-2024-38"
    assert "--strict" in argv


@pytest.mark.parametrize(
    ("change", "named"),
    [
        (
            ('reason = "form parsing of multipart bodies; WBX\'s routes take JSON only"', ""),
            "reason",
        ),
        (
            (
                'reason = "form parsing of multipart bodies; WBX\'s routes take JSON only"',
                'reason = " "',
            ),
            "reason",
        ),
        (("reviewed_on = 2026-11-24", 'reviewed_on = "soon"'), "reviewed_on"),
        (('reviewed_by = "wbx-core"', 'reviewed_by = "wbx-core"\nexpires = 1'), "expires"),
    ],
)
def test_an_entry_without_its_review_is_refused_naming_the_field(
    audit: ModuleType, tmp_path: Path, change: tuple[str, str], named: str
) -> None:
    path = tmp_path / "allow.toml"
    path.write_text(ENTRY.replace(*change))
    with pytest.raises(audit.AllowListError, match=rf"entry 1: .*{named}"):
        audit.load_allow_list(path)


def test_an_advisory_listed_twice_is_refused(audit: ModuleType, tmp_path: Path) -> None:
    path = tmp_path / "allow.toml"
    path.write_text(ENTRY + ENTRY)
    with pytest.raises(audit.AllowListError, match="entry 2: PYSEC-2024-38 is listed twice"):
        audit.load_allow_list(path)
