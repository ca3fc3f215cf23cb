"""What a live run really checked: how many checks reached the resource and passed, and
whether that is enough to call the run green.

A live smoke in which nothing went upstream (no deployment mapped, a budget too small for
any check, every check skipped) must not look like a good one: a live run that reached the
resource with fewer checks than ``--min-live N`` (default: every check the mapped
deployments allow) ends with one paragraph naming why, and exit status 2 (a setup error,
like a preflight that stops the run: the run did not check what it was asked to).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

# Skip reasons, by what fixes them (first match wins).
_CAUSES: tuple[tuple[str, str, str], ...] = (
    ("token budget", "the token budget", "raise --max-tokens"),
    ("request budget", "the request budget", "raise --budget"),
    ("does not exist on the resource", "a deployment missing on the resource",
     "map the doc's names to yours: --deployment DOC=YOURS (see aoai-conformance deployments)"),
    ("deadline", "the run's deadline", "raise --run-timeout"),
    ("not sent:", "a credential that stopped giving tokens", "check the credential"),
)


@dataclass
class LiveTally:
    """Checks (one per SDK) that could go upstream, and what became of them."""

    planned: int = 0  # live checks whose deployments exist (after preflight)
    min_live: int | None = None  # --min-live, None: every planned check
    missing: list[str] = field(default_factory=list)  # doc deployment names not found
    reached: int = 0
    passed: int = 0
    skipped: dict[str, int] = field(default_factory=dict)  # cause -> checks
    fixes: dict[str, str] = field(default_factory=dict)  # cause -> what fixes it

    @property
    def required(self) -> int:
        """At least one check must reach the resource, unless --min-live 0 says otherwise."""
        return self.min_live if self.min_live is not None else max(self.planned, 1)

    def count(self, rows: Iterable[tuple[str, str, Mapping[str, Any] | None]]) -> LiveTally:
        """``rows``: (verdict, message, live_usage or None) of each live-eligible check."""
        for verdict, message, usage in rows:
            if usage and (usage.get("requests", 0) or usage.get("reused", 0)):
                self.reached += 1
                self.passed += verdict == "pass"
            elif verdict == "skipped":
                for needle, cause, fix in _CAUSES:
                    if needle in message:
                        self.skipped[cause] = self.skipped.get(cause, 0) + 1
                        self.fixes[cause] = fix
                        break
                else:
                    if "replay only" not in message:
                        self.skipped["another reason"] = self.skipped.get("another reason",
                                                                          0) + 1
                        self.fixes["another reason"] = "see each check's reason in the table"
        return self

    def summary(self) -> str:
        return (f"live: {self.reached} check(s) reached the resource and {self.passed} of them "
                f"passed ({self.planned} planned; --min-live {self.required})")

    def shortfall(self) -> str | None:
        """One paragraph: why the run reached fewer checks than required (None: it did not)."""
        if self.reached >= self.required:
            return None
        why: list[str] = []
        if self.planned == 0:
            if self.missing:
                why.append("no deployment the checks ask for exists on the resource under the "
                           f"name sent ({', '.join(sorted(self.missing))}): nothing is mapped "
                           "to your deployments; map the doc's names to yours with --deployment "
                           "DOC=YOURS (see aoai-conformance deployments)")
            else:
                why.append("no selected check goes upstream (replay-only or scripted checks "
                           "alone were selected)")
        for cause, n in sorted(self.skipped.items(), key=lambda kv: -kv[1]):
            why.append(f"{n} skipped for {cause} ({self.fixes[cause]})")
        if not why:
            why.append("the planned checks did not send their requests")
        return (f"live run too thin: {self.reached} check(s) reached the resource, "
                f"{self.required} required (--min-live; by default every check the mapped "
                f"deployments allow, {self.planned} here). Why: " + "; ".join(why) + ". "
                "The run checked less than it was asked to, so it exits 2, like a setup error.")

    def as_dict(self) -> dict[str, Any]:
        return {"planned": self.planned, "reached": self.reached, "passed": self.passed,
                "required": self.required, "skipped": dict(self.skipped),
                "shortfall": self.shortfall()}
