"""An operation a driver SDK's release does not have (a release older than the driver's pin,
``--sdk javascript@4.80.0`` without ``client.responses``) is ``unsupported`` with the reason,
not a fail of the SDK: the pool asks the SDK's profile, which probes the driver's build, after
an error that is no HTTP outcome."""

from __future__ import annotations

import json
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from conformance import sdks
from conformance.drivers.environment import run_environment
from conformance.drivers.outcome import DriverOutcome, ErrorView
from conformance.drivers.pool import ProcessDriver
from conformance.drivers.process import Hello
from conformance.registry import Unsupported

# A stand-in for an old openai-node: a client with chat and embeddings, no responses, and the
# stream helper only under beta (as 4.x has it).
OLD_OPENAI = """
export default class OpenAI {
  constructor() {
    this.chat = { completions: { create() {} } };
    this.beta = { chat: { completions: { stream() {} } } };
    this.embeddings = { create() {} };
  }
}
"""


def _old_build(root: Path) -> Path:
    package = root / "node_modules" / "openai"
    package.mkdir(parents=True)
    (package / "package.json").write_text(json.dumps(
        {"name": "openai", "version": "4.0.0-standin", "type": "module", "main": "index.js"}))
    (package / "index.js").write_text(OLD_OPENAI)
    return root


needs_node = pytest.mark.skipif(shutil.which("node") is None, reason="no node on PATH")


@needs_node
def test_the_javascript_probe_names_the_api_an_old_release_lacks(tmp_path):
    build = _old_build(tmp_path)
    javascript = sdks.get("javascript")
    env = run_environment()
    assert javascript.missing_api("responses.create", build, env) == (
        "this release has no client.responses.create (the API the doc's code calls for "
        "responses.create)")
    assert "client.chat.completions.stream " in (
        javascript.missing_api("chat.completions.stream_helper", build, env) or "")
    for present in ("chat.completions.create", "chat.completions.stream", "embeddings.create"):
        assert javascript.missing_api(present, build, env) is None, present


@needs_node
def test_a_probe_that_cannot_tell_says_nothing(tmp_path):
    javascript = sdks.get("javascript")
    # No openai to import at all: the probe fails, and the outcome stands.
    assert javascript.missing_api("responses.create", tmp_path, run_environment()) is None
    assert javascript.missing_api("images.generate", tmp_path, run_environment()) is None


@dataclass
class _Process:
    """A driver process answering one outcome for every scenario."""

    outcome: DriverOutcome
    sdk: str = "javascript"
    cwd: Path | None = None
    env: Mapping[str, str] | None = None
    hello: Hello | None = field(default_factory=lambda: Hello(2, "javascript", "4.0.0", "node"))

    def run(self, scenario: Mapping[str, Any]) -> DriverOutcome:
        return self.outcome


def _raised(kind: str, message: str = "Cannot read properties of undefined") -> DriverOutcome:
    return DriverOutcome(error=ErrorView(kind, "TypeError", message))  # type: ignore[arg-type]


SCENARIO = {"base_url": "http://127.0.0.1:9/openai/v1/",
            "operation": {"name": "responses.create", "params": {}}}


@pytest.fixture
def probes(monkeypatch):
    asked: list[str] = []

    def missing_api(operation: str, build: Path | None, env: Mapping[str, str]) -> str | None:
        asked.append(operation)
        return "this release has no client.responses.create"

    monkeypatch.setattr(sdks.get("javascript"), "missing_api", missing_api)
    return asked


def test_an_error_from_an_api_the_release_lacks_is_unsupported(probes):
    driver = ProcessDriver(_Process(_raised("other")))  # type: ignore[arg-type]
    with pytest.raises(Unsupported, match=r"javascript 4\.0\.0: this release has no client\."
                       r"responses\.create"):
        driver.run(SCENARIO)
    with pytest.raises(Unsupported):
        driver.run(SCENARIO)
    assert probes == ["responses.create"]  # probed once per operation


@pytest.mark.parametrize("outcome", [
    DriverOutcome(),  # no error
    _raised("status"), _raised("connection"), _raised("timeout"),
    _raised("other", "driver deadline"),
])
def test_an_http_outcome_or_a_success_is_never_probed(probes, outcome):
    assert ProcessDriver(_Process(outcome)).run(SCENARIO) is outcome  # type: ignore[arg-type]
    assert probes == []


def test_an_error_whose_api_is_there_stays_the_sdk_s(monkeypatch):
    monkeypatch.setattr(sdks.get("javascript"), "missing_api", lambda *args: None)
    outcome = _raised("other")
    assert ProcessDriver(_Process(outcome)).run(SCENARIO) is outcome  # type: ignore[arg-type]
