"""No secret is committed: detect-secrets over every tracked file.

Development values and test fixtures that look like secrets were reviewed and carry
`pragma: allowlist secret` on their line (or `pragma: allowlist nextline secret` above it),
so the review stays next to the value when lines move; anything else the scanner flags
fails the suite."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
HOOK = Path(sys.executable).with_name("detect-secrets-hook")


def _hook(*files: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(HOOK), *files], cwd=REPO, capture_output=True, text=True, timeout=300, check=False
    )


def test_no_tracked_file_holds_a_secret() -> None:
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=REPO, capture_output=True, text=True, check=True
    ).stdout.split()
    result = _hook(*tracked)
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_scan_catches_a_committed_key(tmp_path: Path) -> None:
    leaked = tmp_path / "settings.py"
    # A private key block and a cloud access key id, as a careless commit would hold them.
    leaked.write_text(
        'AWS_ACCESS_KEY_ID = "AKIA' + "IOSFODNN7" + 'EXAMPLE"\n'
        "-----BEGIN " + "PRIVATE KEY-----\nMC4CAQAwBQYDK2VwBCIEIE\n-----END PRIVATE KEY-----\n"
    )
    result = _hook(str(leaked))
    assert result.returncode != 0
    assert "AWS Access Key" in result.stdout and "Private Key" in result.stdout
