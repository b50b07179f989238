"""Headless Chromium for the tests that look at a page: a screenshot, kept off the network."""

from __future__ import annotations

import shutil
import struct
import subprocess
import zlib
from pathlib import Path

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")

#: Flags that keep Chromium from reaching Google's hosts, which this closed network refuses.
QUIET = (
    "--headless",
    "--disable-gpu",
    "--no-sandbox",
    "--no-proxy-server",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--hide-scrollbars",
)


def screenshot(url: str, png: Path, profile: Path, *, size: str = "1280,2400") -> None:
    """Draw ``url`` at ``size`` and save it to ``png``."""
    assert CHROMIUM is not None
    done = subprocess.run(
        [
            CHROMIUM,
            *QUIET,
            f"--user-data-dir={profile}",
            f"--window-size={size}",
            f"--screenshot={png}",
            url,
        ],
        capture_output=True,
        text=True,
        timeout=90,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert png.exists(), done.stderr


def png_colours(png: Path) -> int:
    """How many distinct byte values the (filtered) pixel rows hold: 1-2 for a blank page."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    at, idat = 8, b""
    while at < len(data):
        (length,) = struct.unpack(">I", data[at : at + 4])
        kind = data[at + 4 : at + 8]
        if kind == b"IDAT":
            idat += data[at + 8 : at + 8 + length]
        at += 12 + length
    return len(set(zlib.decompress(idat)))
