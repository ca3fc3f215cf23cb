"""OpenAI for .NET (NuGet ``OpenAI``, on System.ClientModel): a profile with a policy and no
driver yet (no .NET toolchain where this suite is built), so runs do not offer it; its policy
is the doc's .NET section and the deviations in ``conformance.policy``."""

from __future__ import annotations

from ..policy import DEVIATIONS
from .profile import Profile


class DotNet(Profile):
    name = "dotnet"
    title = "openai-dotnet"
    package = "OpenAI"
    language = ".NET"
    rank = 4
    pin_example = "dotnet@2.13.0"
    deviations = tuple(d for d in DEVIATIONS if d.sdk == "dotnet")
    policy_source = "sdk-behavior §6 (ClientRetryPolicy; one ClientResultException)"
