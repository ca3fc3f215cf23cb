"""openai-python: driven in the runner itself (``conformance/drivers/python.py``), its version
the installed wheel, its capabilities ``conformance.sdk.CAPABILITIES`` and its policy the
python rows of ``conformance.policy`` (the doc's Python section and the declared deviations)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import ClassVar

from ..policy import Policies, policies
from ..sdk import CAPABILITIES, DISTRIBUTION, installed, parse_version
from ..sdk import has as installed_has
from .profile import Profile


class Python(Profile):
    name = "python"
    title = "openai-python"
    package = DISTRIBUTION
    language = "Python"
    rank = 0
    pin_example = f"{DISTRIBUTION}==3.57.0"
    in_process = True
    capabilities: ClassVar[Mapping[str, str]] = {
        name: c.minimum for name, c in CAPABILITIES.items()}
    policy_source = "sdk-behavior §1, §2.1 (retries), §2.5 (errors), §2.7 (token provider)"

    def policies(self, version: str) -> Policies:
        if version == installed().version:
            return policies(self.name, installed_has)  # the probes of the installed wheel
        key = parse_version(version)
        return policies(self.name, lambda f: key >= parse_version(self.capabilities[f]))
