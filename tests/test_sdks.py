"""The SDK registry (conformance/sdks/): one profile per SDK, registered by name; everything that
lists SDKs derives from it; a stand-in SDK registered here (one class plus a driver folder) runs
the cross-SDK checks; and the realistic retry checks catch builds without backoff or that give
up on Azure-sized hints, on JavaScript, Go and Java (a misbehaving stand-in driver speaking for
each, and a real openai-node build patched in its node_modules)."""

from __future__ import annotations

import json
import shutil
import sys
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, ClassVar

import pytest

from conformance import sdks
from conformance.drivers import DriverProcess
from conformance.drivers import build as builder
from conformance.drivers import pool as driver_pool
from conformance.policy import Backoff, Outcome, RetryAfter, RetryPolicy
from conformance.registry import Verdict
from conformance.sdks.profile import DriverSpec, Profile, Tool
from conformance.suites import retries

from .conftest import Suite
from .driver_mutants import pool_start
from .failures import BROKEN_BUILD, NO_TOOLCHAIN, Case, caught

FAKE = Path(__file__).resolve().parent / "fake_driver.py"
RETRY_CHECKS = ("retries.backoff", "retries.retry-after", "retries.default-attempts")
SCALED_HINT_S = 2  # the stand-ins really sleep: Azure's hint, still past the wait deadline


def test_each_sdk_is_one_registered_profile_and_a_taken_name_is_refused():
    assert sdks.names() == ("python", "javascript", "go", "java")
    assert set(sdks.PROFILES) == {"python", "javascript", "go", "java", "dotnet"}
    assert sdks.driver_names() == ("javascript", "go", "java")  # dotnet: no driver here
    with pytest.raises(TypeError, match="'go' is already registered"):
        type("AnotherGo", (Profile,), {"name": "go"})
    with pytest.raises(TypeError, match="lowercase letters"):
        type("Bad", (Profile,), {"name": "Go-2"})
    assert "AnotherGo" not in {type(p).__name__ for p in sdks.PROFILES.values()}


def test_each_profile_declares_the_releases_its_policy_ranges_name():
    for profile in sdks.PROFILES.values():
        for deviation in profile.deviations:
            assert deviation.sdk == profile.name, deviation.id
            for feature in (deviation.capability, deviation.until):
                assert feature is None or feature in profile.capabilities, deviation.id
        if profile.name not in ("python", "dotnet"):  # judged by their profile alone
            assert profile.policy_source and profile.deviations, profile.name


def test_what_lists_sdks_derives_from_the_registry(capsys):
    from conformance import cli
    from conformance.environments import DRIVER_SDKS, PIN_FORMS, Pin
    from conformance.sdk_selection import SdkSelection

    assert SdkSelection.parse(["all"]).sdks == sdks.names()
    assert {n: sdks.get(n).title for n in sdks.driver_names()} == DRIVER_SDKS
    with pytest.raises(SystemExit):
        cli.main(["run", "--help"])
    help_text = " ".join(capsys.readouterr().out.split())
    assert f"{', '.join(sdks.names())} or all" in help_text
    for name in sdks.driver_names():
        profile = sdks.get(name)
        assert profile.pin_example in PIN_FORMS
        pin = Pin.parse(profile.pin_example)
        assert str(pin) == profile.pin_example and pin.driver
        assert builder.pinned_version(name) == profile.normalise_version(
            profile.pin_example.split("@")[1])  # the example is the driver's own pin


# -- a stand-in SDK: one profile class and a driver folder --------------------------------------


class _StandIn(Profile):
    """Registered by the fixture below (a class statement registers it; this base does not)."""

    title = "stand-in-sdk"
    package = "stand-in"
    language = "Stand-in"
    pin_example = "standin@1.0.0"
    driver_variables = ("FAKE_DRIVER",)  # the misbehaviour the tests choose
    own = RetryPolicy(
        sdk="standin", default_max_retries=2, retry_statuses=frozenset({408, 409, 429}),
        retry_from=500, retry_connection_errors=True, retry_timeouts=False,
        x_should_retry=True,
        retry_after=RetryAfter(maximum=120.0, low_inclusive=True, above="no-retry"),
        backoff=Backoff(0.5, cap=8.0, jitter=0.25), classes={},
        class_from=(400, "StandInError"), other_status=Outcome("StandInError"),
        connection_error=Outcome("StandInError"), timeout_error=Outcome("StandInError"),
        retry_count_header="x-stainless-retry-count")
    policy_source = "tests/fake_driver.py"
    capabilities: ClassVar[Mapping[str, str]] = {}

    def pinned_version(self, folder: Path) -> str:
        return (folder / "VERSION").read_text().strip()

    def build(self, work: Path, target: Path, repin: str | None, tool: Tool,
              env: Mapping[str, str]) -> list[str]:
        tool([sys.executable, "-c", "import ast, sys; ast.parse(open(sys.argv[1]).read())",
              "fake_driver.py"], work, env)  # a build step: the driver compiles
        return [sys.executable, str(target / "fake_driver.py")]


@pytest.fixture
def stand_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Profile]:
    folder = tmp_path / "drivers" / "standin"
    folder.mkdir(parents=True)
    shutil.copy(FAKE, folder / "fake_driver.py")
    (folder / "VERSION").write_text("1.0.0\n")
    monkeypatch.setenv("AOAI_CONFORMANCE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setattr(retries, "AZURE_HINT_S", SCALED_HINT_S)

    class StandIn(_StandIn):
        name = "standin"
        driver = DriverSpec("standin", str(folder), ("fake_driver.py", "VERSION"), (),
                            "nothing to install", "stand-in")

    try:
        yield sdks.get("standin")
    finally:
        del sdks.PROFILES["standin"]
    assert StandIn.name not in sdks.PROFILES


def test_a_stand_in_sdk_registered_by_one_class_runs_the_cross_sdk_checks(
        suite: Suite, stand_in: Profile):
    assert "standin" in sdks.names() and sdks.get("standin") is stand_in
    run = suite.run(*RETRY_CHECKS, args=("--conformance-sdk=standin",))
    verdicts = {c.id: c.verdict for c in run.results.checks if c.sdk == "standin"}
    assert verdicts == dict.fromkeys(RETRY_CHECKS, Verdict.PASS), run.outcome.stdout.str()
    assert {c.sdk_version for c in run.results.checks} == {"1.0.0"}
    import jsonschema

    from conformance.results import SCHEMA_FILE

    written = json.loads((suite.pytester.path / "report" / "results.json").read_text())
    jsonschema.validate(written, json.loads(SCHEMA_FILE.read_text()))  # a registered SDK fits
    assert stand_in.driver is not None
    cache = Path(stand_in.driver.folder).parent.parent / "cache" / "drivers"
    assert [p.name.rsplit("-", 1)[0] for p in cache.iterdir() if p.is_dir()] == ["standin-1.0.0"]


# Hand-written, not a row: it fails a check of the stand-in SDK the fixture registers (a test of
# the registry), not of an SDK the run knows.
def test_a_stand_in_that_breaks_its_own_policy_fails_there(
        suite: Suite, stand_in: Profile, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("FAKE_DRIVER", json.dumps({"no_backoff": True}))
    run = suite.run("retries.backoff", args=("--conformance-sdk=standin",))
    assert run.verdict("retries.backoff", "standin") is Verdict.FAIL
    assert "delay before retry 1" in run.message("retries.backoff", "standin")


# -- broken builds of the driver SDKs: a misbehaving stand-in speaks for each --------------------

RELEASES = {"javascript": ("6.49.0", {"cap_s": 1e9, "classes": {
                "429": "RateLimitError", "5xx": "InternalServerError",
                "connection": "APIConnectionError"}}),
            "go": ("3.100.0", {"cap_s": 120.0, "above": "no-retry", "classes": {
                "default": "*openai.Error", "connection": "*url.Error"}}),
            "java": ("4.105.0", {"cap_s": 8.0, "above": "clamp", "token_provider": "request",
                                  "asks": 2, "classes": {
                                      "429": "RateLimitException",
                                      "5xx": "InternalServerException",
                                      "connection": "OpenAIIoException"}})}


class _Misbehaving:
    """A 'built driver' that starts the stand-in driver claiming to be ``sdk``."""

    def __init__(self, sdk: str, **behaviour: Any) -> None:
        version, policy = RELEASES[sdk]
        self.sdk = sdk
        self.env = {"FAKE_DRIVER": json.dumps({"sdk": sdk, "version": version, **policy,
                                               **behaviour})}

    def process(self, **kwargs: Any) -> DriverProcess:
        import os

        return DriverProcess(self.sdk, [sys.executable, str(FAKE)],
                             env={**os.environ, **self.env})


def _with_driver(monkeypatch: pytest.MonkeyPatch,
                 make: Callable[[str], Any]) -> None:
    # The stand-in driver speaks plain HTTP to the wire server: no Azure host for it.
    monkeypatch.setattr(driver_pool.DriverPool, "_host", lambda self: None)
    monkeypatch.setattr(driver_pool, "start",
                        lambda sdk, **kwargs: pool_start(make(sdk))(sdk, **kwargs))
    monkeypatch.setattr(retries, "AZURE_HINT_S", SCALED_HINT_S)


@pytest.mark.parametrize("sdk", ["javascript", "go", "java"])
def test_a_build_that_follows_its_release_passes(suite: Suite, monkeypatch, sdk: str):
    _with_driver(monkeypatch, lambda name: _Misbehaving(name))
    run = suite.run("retries.backoff", "retries.retry-after", args=(f"--conformance-sdk={sdk}",))
    for check_id in ("retries.backoff", "retries.retry-after"):
        assert run.verdict(check_id, sdk) is Verdict.PASS, run.message(check_id, sdk)


def _stand_in_built(name: str, **broken: Any) -> Case:
    """A case: a stand-in driver, broken as ``broken``, speaks for the row's SDK in process."""

    def case(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
        _with_driver(monkeypatch, lambda sdk: _Misbehaving(sdk, **broken))

    case.__name__ = name
    setattr(case, BROKEN_BUILD, True)
    setattr(case, NO_TOOLCHAIN, True)  # no node, go or java: these rows are not `drivers`
    return case


no_backoff = _stand_in_built("no_backoff", no_backoff=True)
flat_backoff = _stand_in_built("flat_backoff", flat_backoff=True)
gives_up_on_azure_hints = _stand_in_built("gives_up_on_azure_hints",
                                          give_up_at_s=SCALED_HINT_S)
STAND_IN_BUILDS = [
    row
    for sdk in ("javascript", "go", "java")
    for row in [(no_backoff, "retries.backoff", sdk, "delay before retry 1"),
                (flat_backoff, "retries.backoff", sdk, "delay before retry 2"),
                (gives_up_on_azure_hints, "retries.retry-after", sdk,
                 "expected driver deadline")]
]
test_a_build_without_backoff_or_that_gives_up_on_azure_hints_fails = caught(STAND_IN_BUILDS)


@pytest.mark.parametrize(("version", "verdict"), [("7.5.0", Verdict.PASS),
                                                  ("6.49.0", Verdict.FAIL)])
def test_each_release_is_judged_by_its_own_policy(suite: Suite, monkeypatch, version: str,
                                                  verdict: Verdict):
    """One behaviour (a 61 s hint replaced by the backoff, as openai-node does from 7.5.0),
    two claimed releases: what a gate between javascript@6.49.0 and javascript@7.5.0 sees."""
    def make(name: str) -> _Misbehaving:
        driver = _Misbehaving(name, cap_s=60.0, above="backoff")
        driver.env["FAKE_DRIVER"] = json.dumps({**json.loads(driver.env["FAKE_DRIVER"]),
                                                "version": version})
        return driver

    _with_driver(monkeypatch, make)
    run = suite.run("retries.retry-after-limits", args=("--conformance-sdk=javascript",))
    result = run.result("retries.retry-after-limits", "javascript")
    assert (result.verdict, result.sdk_version) == (verdict, version), result.message


@pytest.mark.parametrize("sdk", ["javascript", "go", "java"])
def test_a_token_provider_called_per_attempt_or_per_request_as_its_release_does_passes(
        suite: Suite, monkeypatch, sdk: str):
    _with_driver(monkeypatch, lambda name: _Misbehaving(name))
    run = suite.run("auth.entra-token-per-attempt", args=(f"--conformance-sdk={sdk}",))
    assert run.verdict("auth.entra-token-per-attempt", sdk) is Verdict.PASS, \
        run.message("auth.entra-token-per-attempt", sdk)


# A token provider asked once per request where the release asks before each attempt, and
# before every attempt where the release asks (twice) once per API call.
token_per_request = _stand_in_built("token_per_request", token_provider="request")
token_per_attempt = _stand_in_built("token_per_attempt", token_provider="attempt")
TOKEN_PROVIDER_BUILDS = [
    (token_per_request, "auth.entra-token-per-attempt", "javascript",
     "2 time(s) for two requests of 3 attempts"),
    (token_per_request, "auth.entra-token-per-attempt", "go",
     "2 time(s) for two requests of 3 attempts"),
    (token_per_attempt, "auth.entra-token-per-attempt", "java",
     "6 time(s) for two requests of 3 attempts"),
]
test_a_token_provider_called_other_than_its_release_does_fails = caught(TOKEN_PROVIDER_BUILDS)


# -- a real openai-node build, broken in its node_modules ----------------------------------------

_GIVE_UP = "if (timeoutMillis >= 5000) throw new Error('retry-after too long'); "
# Edits of openai-node 6.49.0's node_modules/openai/client.{js,mjs}: (old, new) per file.
_NODE_MUTANTS = {
    # calculateDefaultRetryTimeoutMillis: no backoff at all
    "no-backoff": {name: ("return sleepSeconds * jitter * 1000;", "return 0;")
                   for name in ("client.js", "client.mjs")},
    # retryRequest: a hint of 5 s or more ends the retries
    "gives-up": {"client.js": ("await (0, sleep_1.sleep)(timeoutMillis);",
                               _GIVE_UP + "await (0, sleep_1.sleep)(timeoutMillis);"),
                 "client.mjs": ("await sleep(timeoutMillis);",
                                _GIVE_UP + "await sleep(timeoutMillis);")},
}


def _patched_node_build(tmp_path: Path, mutant: str) -> Any:
    """The cached openai-node driver build, copied and broken in its node_modules."""
    built = builder.build("javascript")
    copy = tmp_path / "javascript-mutant"
    shutil.copytree(built.directory, copy, symlinks=True)
    for name, (old, new) in _NODE_MUTANTS[mutant].items():
        path = copy / "node_modules" / "openai" / name
        text = path.read_text()
        assert text.count(old) == 1, (name, old)
        path.write_text(text.replace(old, new))
    return type(built)(built.sdk, built.sdk_version, copy,
                       ("node", str(copy / "driver.mjs")), built.env, cached=True, seconds=0.0)


def _node_built_as(mutant: str) -> Any:
    """A case: the javascript checks run on the openai-node build broken as ``mutant``."""

    def case(suite: Suite, monkeypatch: pytest.MonkeyPatch) -> None:
        try:
            patched = _patched_node_build(suite.pytester.path, mutant)
        except builder.DriverUnavailable as exc:
            pytest.skip(f"javascript driver unavailable: {exc.reason}")
        monkeypatch.setattr(driver_pool, "start", pool_start(patched))

    case.__name__ = f"node_{mutant.replace('-', '_')}"
    setattr(case, BROKEN_BUILD, True)
    return case


CAUGHT = [
    (_node_built_as("no-backoff"), "retries.backoff", "javascript", ""),
    (_node_built_as("gives-up"), "retries.retry-after", "javascript", ""),
]
test_caught = caught(CAUGHT)
