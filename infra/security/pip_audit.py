"""`make audit`: pip-audit over the installed dependencies, with the reviewed allow-list.

Every entry of `audit-allow.toml` must name the advisory, the package, the reason it does
not reach WBX, its reviewer and the date; pip-audit is then told to ignore exactly those
advisories and fails on any other known vulnerability. pip-audit needs a vulnerability
service (PyPI's JSON API or OSV) on the network: where neither answers, this says so and
fails rather than reporting a clean audit it did not do.
"""

from __future__ import annotations

import datetime
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

ALLOW = Path(__file__).with_name("audit-allow.toml")
FIELDS = {
    "id": str,
    "package": str,
    "reason": str,
    "reviewed_by": str,
    "reviewed_on": datetime.date,
}


class AllowListError(ValueError):
    """The allow-list is malformed: the message names the entry and the field."""


def load_allow_list(path: Path = ALLOW) -> list[dict[str, Any]]:
    """The reviewed entries of `path`, each checked for every field and its type."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise AllowListError(f"{path}: not TOML: {exc}") from exc
    entries = document.get("allow")
    if not isinstance(entries, list):
        raise AllowListError(f"{path}: `allow` must be a list of [[allow]] tables")
    seen: set[str] = set()
    for n, entry in enumerate(entries, start=1):
        where = f"{path}: entry {n}"
        for field, kind in FIELDS.items():
            value = entry.get(field)
            if not isinstance(value, kind) or (isinstance(value, str) and not value.strip()):
                raise AllowListError(f"{where}: `{field}` missing or not a {kind.__name__}")
        if extra := sorted(set(entry) - set(FIELDS)):
            raise AllowListError(f"{where}: unknown field(s) {', '.join(extra)}")
        if entry["id"] in seen:
            raise AllowListError(f"{where}: {entry['id']} is listed twice")
        seen.add(entry["id"])
    return entries


def command(entries: list[dict[str, Any]]) -> list[str]:
    """The pip-audit command line: strict, this environment, the allowed advisories ignored."""
    argv = [sys.executable, "-m", "pip_audit", "--strict", "--skip-editable", "--desc", "on"]
    argv += ["--progress-spinner", "off"]
    for entry in entries:
        argv += ["--ignore-vuln", entry["id"]]
    return argv


def main() -> int:
    """Check the allow-list, run pip-audit, say plainly when it could not reach its service."""
    try:
        entries = load_allow_list()
    except AllowListError as exc:
        sys.stderr.write(f"audit: {exc}\n")
        return 2
    sys.stderr.write(f"audit: {len(entries)} reviewed exception(s) in {ALLOW.name}\n")
    # The argv is this interpreter, pip-audit and the advisory ids of the reviewed list.
    result = subprocess.run(command(entries), capture_output=True, text=True, check=False)  # noqa: S603
    sys.stdout.write(result.stdout)
    sys.stderr.write(result.stderr)
    # PyPI's JSON API answering 404 for every package reads to pip-audit as "not found on
    # PyPI"; --strict turns that into a failure rather than a clean report of nothing.
    unreachable = ("ConnectionError", "Max retries exceeded", "could not be audited")
    if result.returncode != 0 and any(sign in result.stderr for sign in unreachable):
        sys.stderr.write(
            "audit: NOT DONE: pip-audit could not read a vulnerability service (PyPI's JSON "
            "API or api.osv.dev) from this machine; run `make audit` where it can\n"
        )
    return result.returncode


if __name__ == "__main__":
    sys.exit(main())
