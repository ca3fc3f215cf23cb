"""``aoai-conformance bisect CHECK_ID --good PIN --bad PIN``: the first released SDK version
where one check's outcome (verdict, or observations after the normaliser) changes.

The released versions between the two pins come from the package index (``pip index
versions``). The search runs on them in ascending order for the first version whose outcome
differs from the lower end's, so either direction works: ``--good 1.110.0 --bad 1.100.0``
names the release that brought the good behaviour, ``--good 1.100.0 --bad 1.110.0`` the one
that broke it. A version that cannot be installed is skipped (its neighbour is tried). With
one change between the ends, about log2(n) runs find it.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .environments import DRIVER_SDKS, Pin, SetupError, Uninstallable
from .gate import RunVersion, add_common, runner
from .outputs import unwritable_dir
from .reports import ROOT
from .reports import diff as rendering
from .reports.text import first_line
from .results import Change, CheckResult, Results, compare, normalise
from .sdk import parse_version

EXIT_FOUND, EXIT_NONE, EXIT_SETUP = 0, 1, 2

Behaviour = tuple[str, Any]  # (verdict, normalised observations) at one release


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    bisect = commands.add_parser(
        "bisect",
        help="find the release where one check's verdict or observations change",
        description=__doc__.split("\n\n")[1].replace("\n", " ") if __doc__ else None,
    )
    bisect.add_argument("check", metavar="CHECK_ID")
    bisect.add_argument("--good", required=True, metavar="PIN")
    bisect.add_argument("--bad", required=True, metavar="PIN")
    add_common(bisect)


def released_versions(distribution: str) -> list[str]:
    """The versions the package index offers (pre-releases and yanked ones left out), from
    ``pip index versions``; a driver SDK's from its own index
    (:mod:`conformance.drivers.releases`)."""
    if distribution in DRIVER_SDKS:
        from .drivers.releases import ListingFailed
        from .drivers.releases import released_versions as driver_versions

        try:
            return driver_versions(distribution)
        except ListingFailed as exc:
            raise SetupError(f"cannot list the released versions of {distribution}: {exc}") \
                from exc
    commands = []
    if _has_pip():
        commands.append([sys.executable, "-m", "pip"])
    commands += [[found] for name in ("pip", "pip3") if (found := shutil.which(name))]
    for pip in commands:
        done = subprocess.run([*pip, "index", "versions", distribution,
                               "--disable-pip-version-check"],
                              capture_output=True, text=True, timeout=120)
        match = re.search(r"^Available versions:\s*(.+)$", done.stdout, re.M)
        if done.returncode == 0 and match:
            return [v.strip() for v in match.group(1).split(",") if v.strip()]
    raise SetupError(f"cannot list the released versions of {distribution}: no working "
                     "`pip index versions` (install pip)")


def _has_pip() -> bool:
    import importlib.util

    return importlib.util.find_spec("pip") is not None


def between(versions: Sequence[str], low: str, high: str) -> list[str]:
    """Final releases from ``low`` to ``high`` inclusive, ascending."""
    lo, hi = parse_version(low), parse_version(high)
    finals = [v for v in versions if re.fullmatch(r"\d+(\.\d+)*", v)]
    return sorted((v for v in set(finals) if lo <= parse_version(v) <= hi), key=parse_version)


@dataclass
class Search:
    """The state of a bisection over ``versions`` (ascending); ``outcome(version)`` runs the
    check (raising :class:`Uninstallable` for a version that cannot be installed)."""

    versions: list[str]
    outcome: Callable[[str], Behaviour]
    seen: dict[str, Behaviour | None] = field(default_factory=dict)  # None: uninstallable

    def at(self, version: str) -> Behaviour | None:
        if version not in self.seen:
            try:
                self.seen[version] = self.outcome(version)
            except Uninstallable as exc:
                print(f"aoai-conformance: skipping {version}: {first_line(str(exc))}",
                      file=sys.stderr)
                self.seen[version] = None
        return self.seen[version]

    def first_change(self) -> tuple[str, str] | None:
        """``(last version like the lower end, first version unlike it)``, or None when both
        ends behave the same. Versions that cannot be installed are stepped over."""
        lo, hi = 0, len(self.versions) - 1
        reference = self.at(self.versions[lo])
        end = self.at(self.versions[hi])
        if reference is None or end is None:
            raise SetupError("an end of the range cannot be installed: "
                             f"{self.versions[lo] if reference is None else self.versions[hi]}")
        if end == reference:
            return None
        # Invariant: versions[lo] behaves like the reference, versions[hi] does not.
        while hi - lo > 1:
            mid = self._probe(lo, hi)
            if mid is None:
                break  # everything strictly between cannot be installed
            if self.seen[self.versions[mid]] == reference:
                lo = mid
            else:
                hi = mid
        return self.versions[lo], self.versions[hi]

    def _probe(self, lo: int, hi: int) -> int | None:
        """The index nearest the middle of (lo, hi) whose version installs."""
        middle = (lo + hi) // 2
        for offset in range(hi - lo):
            for index in (middle + offset, middle - offset):
                if lo < index < hi and self.at(self.versions[index]) is not None:
                    return index
        return None

    @property
    def runs(self) -> int:
        return len(self.seen)


def run(args: argparse.Namespace, run_version: RunVersion | None = None,
        versions: Sequence[str] | None = None) -> int:
    try:
        good, bad = Pin.parse(args.good), Pin.parse(args.bad)
    except ValueError as exc:
        print(f"aoai-conformance: {exc}", file=sys.stderr)
        return EXIT_SETUP
    if good.distribution != bad.distribution:
        print("aoai-conformance: --good and --bad must pin the same SDK",
              file=sys.stderr)
        return EXIT_SETUP
    low, high = sorted((good, bad), key=lambda p: p.key)
    out = Path(args.report_dir or Path(ROOT) / f"bisect-{args.check}")
    problem = unwritable_dir(out)
    if problem:  # before any SDK is installed or run
        print(f"aoai-conformance: {problem}", file=sys.stderr)
        return EXIT_SETUP
    run_version = run_version or runner(args)
    results: dict[str, CheckResult] = {}
    runs: dict[str, Results] = {}

    def outcome(version: str) -> Behaviour:
        pin = Pin(low.distribution, version)
        done = run_version(pin, out / pin.name,
                           [f"--conformance-check={args.check}", *args.pytest_args])
        found = next((c for c in done.checks if c.id == args.check), None)
        if found is None:
            raise SetupError(f"{args.check} did not run under {pin} (is the id right? see "
                             "aoai-conformance list)")
        results[version], runs[version] = found, done
        print(f"  {pin}: {found.verdict.value}", file=sys.stderr, flush=True)
        return found.verdict.value, normalise(found.observations)

    try:
        listed = list(versions) if versions is not None else released_versions(
            low.distribution)
        span = between(listed, low.version, high.version)
        for end in (low, high):
            if end.version not in span:
                print(f"aoai-conformance: {end} is not a release on the index; the range "
                      "ends at the nearest release inside it", file=sys.stderr)
        if len(span) < 2:
            raise SetupError(f"fewer than two releases of {low.distribution} from "
                             f"{low.version} to {high.version} on the index: {span}")
        print(f"aoai-conformance: bisecting {args.check} over {len(span)} released versions "
              f"of {low.distribution} from {span[0]} to {span[-1]}", file=sys.stderr)
        search = Search(span, outcome)
        found = search.first_change()
    except SetupError as exc:
        print(f"aoai-conformance: {exc}", file=sys.stderr)
        return EXIT_SETUP
    if found is None:
        print(f"{args.check}: no change between {low} and {high} ({search.runs} runs)")
        return EXIT_NONE
    before, after = found
    skipped = [v for v, o in search.seen.items() if o is None]
    change = _change(args.check, runs[before], runs[after])
    print(f"{args.check} changes in {low.distribution} {after} (the release after {before}); "
          f"{search.runs} runs over {len(span)} versions"
          + (f"; not installable, skipped: {', '.join(skipped)}" if skipped else ""))
    if change is not None:
        shown = rendering.text(runs[before], runs[after], [change], [], "-").splitlines()
        print("\n".join(shown[1:-1]))  # without the decision and summary: nothing is gated
    return EXIT_FOUND


def _change(check: str, before: Results, after: Results) -> Change | None:
    # a driver SDK's check is paired per (check, SDK): its change is named ``check[sdk]``
    return next((c for c in compare(before, after) if c.id.split("[")[0] == check), None)
