"""Render a report.html in headless Chromium and save a PNG, to look at what a reader sees.

    python scripts/screenshot_report.py conformance-report/openai-3.57.0/report.html out.png \
        [--hash 'verdict=fail&open=all'] [--size 1400,1800]

The page's fragment sets its filters (feature=, verdict=, sdk=) and ``open=all`` expands every
check. Needs Debian's ``chromium`` (or CHROMIUM=/path/to/chrome). Nothing leaves the machine:
the report has no network assets, and Chromium runs with its background services off, every
host name mapped to "not found" and a closed loopback port as its proxy (:data:`NO_NETWORK`).
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


# Chromium's own traffic, off: the report is a local file with no network assets, yet
# Chromium 156 with only --disable-background-networking still asks the system's DNS server
# for accounts.google.com and update.googleapis.com at startup (seen with strace). Here every
# host name resolves to "not found" inside Chromium, and any connection that still wanted
# out goes to a proxy on a closed loopback port, so nothing asks a resolver or leaves the
# machine. What strace still shows is the UDP connect() of the resolver's IPv6 reachability
# probe (to 2001:4860:4860::8888), which sends no packet.
NO_NETWORK = (
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-domain-reliability", "--disable-client-side-phishing-detection",
    "--disable-default-apps", "--disable-breakpad", "--no-pings", "--dns-prefetch-disable",
    "--metrics-recording-only", "--no-default-browser-check",
    "--disable-features=MediaRouter,DialMediaRouteProvider,OptimizationHints,Translate,"
    "NetworkTimeServiceQuerying,AutofillServerCommunication,"
    "CertificateTransparencyComponentUpdater,InterestFeedContentSuggestions",
    "--host-resolver-rules=MAP * ~NOTFOUND",
    "--proxy-server=http://127.0.0.1:9", "--proxy-bypass-list=<-loopback>",
)


def command(chromium: str, profile: str) -> list[str]:
    return [chromium, "--headless", "--no-sandbox", "--disable-gpu", *NO_NETWORK,
            "--no-first-run", "--disable-extensions", "--hide-scrollbars",
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
