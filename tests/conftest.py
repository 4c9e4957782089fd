"""Shared fixtures: tiny business folders built in a temporary directory."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BAD_INPUT = Path(__file__).parent / "bad_input"


def write_business(folder: Path, *, data: dict[str, str], locale: str = "en_US",
                   extra_yaml: str = "", files: dict[str, Path | bytes | str] | None = None) -> Path:
    """A business folder: business.yaml declaring ``data`` ({table: relative path}) and files."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = "\n".join(f"  {table}: {{path: {path}}}" for table, path in data.items())
    (folder / "business.yaml").write_text(textwrap.dedent(f"""\
        # a test business
        business:
          name: Test Shop
          currency: USD
          timezone: America/New_York
          locale: {locale}
          as_of: 2025-06-30
        data:
        """) + lines + "\n" + extra_yaml, encoding="utf-8")
    for rel, content in (files or {}).items():
        target = folder / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, Path):
            shutil.copyfile(content, target)
        elif isinstance(content, bytes):
            target.write_bytes(content)
        else:
            target.write_text(content, encoding="utf-8")
    return folder


@pytest.fixture
def orders_business(tmp_path):
    """Build a business whose orders table is one file of the bad-input corpus."""

    def build(corpus_file: str, *, locale: str = "en_US") -> Path:
        return write_business(tmp_path / "shop", locale=locale, data={"orders": "data/orders.csv"},
                              files={"data/orders.csv": BAD_INPUT / corpus_file})

    return build


def browser_dom(html_file: Path) -> str | None:
    """The page as headless Chromium renders it (its DOM after loading), or None when this
    machine has no Chromium (the Debian package `chromium`)."""
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        return None
    profile = html_file.parent / ".chromium-profile"
    result = subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         f"--user-data-dir={profile}", "--dump-dom", html_file.resolve().as_uri()],
        capture_output=True, text=True, timeout=120)
    shutil.rmtree(profile, ignore_errors=True)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout
