"""Build the constructed cassettes in ``cassettes/`` from the reference examples.

Nobody recorded these interactions against /openai/v1: each pairs a request the seed doc's
samples make with response bodies from ``tests/corpus/reference/`` (whose README says which
were recorded and which constructed). Every cassette built here is labelled
``provenance: constructed`` and lists its sources. Builders live in ``scripts/cassettes/``,
one module per feature.

    python scripts/construct_cassettes.py            # rewrite cassettes/
    python scripts/construct_cassettes.py --check    # exit 1 if cassettes/ is out of date
"""

from __future__ import annotations

import argparse
import difflib
import importlib
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "scripts")]


def builders() -> list:  # type: ignore[type-arg]
    found = []
    for module in sorted((ROOT / "scripts" / "cassettes").glob("*.py")):
        if module.stem not in ("__init__", "common"):
            found.extend(importlib.import_module(f"cassettes.{module.stem}").BUILDERS)
    return found


def main() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="only compare; exit 1 if a cassette would change")
    args = parser.parse_args()
    stale = 0
    with tempfile.TemporaryDirectory() as scratch:
        for build in builders():
            cassette = build()
            target = cassette.path
            cassette.path = Path(scratch) / target.name
            cassette.save()
            new = cassette.path.read_text()
            old = target.read_text() if target.exists() else ""
            if new == old:
                continue
            stale += 1
            rel = target.relative_to(ROOT)
            if args.check:
                sys.stdout.writelines(difflib.unified_diff(
                    old.splitlines(True), new.splitlines(True), str(rel), "rebuilt", n=1))
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                target.write_text(new)
                print(f"wrote {rel}")
    if args.check and stale:
        print(f"{stale} cassette(s) out of date: run python scripts/construct_cassettes.py")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
