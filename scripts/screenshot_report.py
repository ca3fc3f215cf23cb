"""Render a report.html in headless Chromium and save a PNG, to look at what a reader sees.

    python scripts/screenshot_report.py conformance-report/openai-3.57.0/report.html out.png \
        [--hash 'verdict=fail&open=all'] [--size 1400,1800]

The page's fragment sets its filters (feature=, verdict=, sdk=) and ``open=all`` expands every
check. Needs Debian's ``chromium`` (or CHROMIUM=/path/to/chrome). Nothing leaves the machine:
the report has no network assets and Chromium runs with background networking off.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

NAMES = ("chromium", "chromium-browser", "google-chrome", "chrome")


def find_chromium() -> str | None:
    given = os.environ.get("CHROMIUM")
    if given:
        return given
    return next((found for name in NAMES if (found := shutil.which(name))), None)


def command(chromium: str, profile: str) -> list[str]:
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu",
            "--disable-background-networking", "--disable-component-update", "--no-first-run",
            "--disable-sync", "--disable-extensions", "--hide-scrollbars",
            f"--user-data-dir={profile}"]


def screenshot(page: Path, png: Path, *, fragment: str = "", size: str = "1400,1800",
               timeout: float = 60.0) -> None:
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium found (apt-get install -y chromium, or set "
                                "CHROMIUM)")
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="aoai-chromium-") as profile:
        subprocess.run([*command(chromium, profile), f"--window-size={size}",
                        f"--screenshot={png.resolve()}", url],
                       check=True, capture_output=True, timeout=timeout)


def dump_dom(page: Path, *, fragment: str = "", timeout: float = 60.0) -> str:
    """The DOM after the page's script ran (``--dump-dom``)."""
    chromium = find_chromium()
    if chromium is None:
        raise FileNotFoundError("no chromium found")
    url = page.resolve().as_uri() + (f"#{fragment}" if fragment else "")
    with tempfile.TemporaryDirectory(prefix="aoai-chromium-") as profile:
        done = subprocess.run([*command(chromium, profile), "--dump-dom", url], check=True,
                              capture_output=True, text=True, timeout=timeout)
    return done.stdout


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("page", type=Path)
    parser.add_argument("png", type=Path)
    parser.add_argument("--hash", default="", help="the page fragment: filters and open=all")
    parser.add_argument("--size", default="1400,1800", help="window size WIDTH,HEIGHT")
    args = parser.parse_args(argv)
    screenshot(args.page, args.png, fragment=args.hash, size=args.size)
    print(args.png)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
