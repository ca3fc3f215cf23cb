"""No secret on any output: a failing live or record run against a hostile upstream that echoes
the key, the Entra token and its own host everywhere, and every byte the run emitted (stdout,
stderr, reports, cassettes) is searched for them.

pytest is asked for everything it can print: long tracebacks with locals (``-l``), every
report section (``-rA``), captured output.
"""

from __future__ import annotations

import pytest

from conformance import paths
from conformance.wire import WireServer

from .fake_resource import FakeResource, serving

KEY = "live-secret-key-0123456789abcdef"
WRONG_KEY = "wrong-secret-key-9876543210fedcba"
TOKEN = "eyJhbGciOiJub25lIn0.eyJzZWNyZXQiOiJ0b2tlbiJ9.entra-secret-token-sig"
CHECKS = ("--conformance-feature=auth", "--conformance-check=chat.response-contract",
          "--conformance-check=streaming.chat-usage-chunk")


@pytest.fixture
def upstream():
    with serving(FakeResource(KEY, paths.cassette_root(), tokens={TOKEN})) as fake:
        yield fake


class _Credential:
    """A TokenCredential that issues the one secret token (no network)."""

    def __init__(self, *args, **kwargs):
        pass

    def get_token(self, *scopes, **kwargs):
        from azure.core.credentials import AccessToken

        return AccessToken(TOKEN, 2**31)

    def get_token_info(self, *scopes, options=None):
        from azure.core.credentials import AccessTokenInfo

        return AccessTokenInfo(TOKEN, 2**31)


def _emitted(pytester: pytest.Pytester, outcome: pytest.RunResult) -> bytes:
    """Every byte the run printed or wrote."""
    data = [outcome.stdout.str().encode(), outcome.stderr.str().encode()]
    for path in sorted(pytester.path.rglob("*")):
        if path.is_file():
            data.append(path.read_bytes())
    return b"\n".join(data)


SHAPES = {
    # name: (env key, echoes, auth, record)
    "wrong-key": (WRONG_KEY, ("headers", "json"), "key", False),
    "error-echo": (KEY, ("headers", "error"), "key", False),
    "binary-body": (KEY, ("headers", "binary"), "key", False),
    "json-echo-recorded": (KEY, ("headers", "json"), "key", True),
    "entra-error-echo": (KEY, ("headers", "error"), "entra", False),
    "entra-json-echo-recorded": (KEY, ("headers", "json"), "entra", True),
}


@pytest.mark.parametrize("shape", SHAPES)
def test_no_secret_reaches_any_output(pytester, upstream, monkeypatch, shape):
    key, echoes, auth, record = SHAPES[shape]
    upstream.hostile(echoes)
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", key)
    monkeypatch.setattr("azure.identity.DefaultAzureCredential", _Credential)
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider", "-l", "--tb=long", "-rA",
        f"--conformance-report-dir={pytester.path / 'report'}",
        f"--conformance-endpoint={upstream.endpoint}", f"--conformance-auth={auth}",
        *(["--conformance-record", f"--conformance-cassettes={pytester.path / 'rec'}"]
          if record else []),
        *CHECKS,
    )
    # The upstream really was sent the secrets and echoed them ...
    sent = {(r.header("authorization") or "") for r in upstream.seen}
    assert sent == {f"Bearer {TOKEN if auth == 'entra' else key}"}
    emitted = _emitted(pytester, outcome)
    if shape == "wrong-key":  # ... into the paragraph of a setup error ...
        assert outcome.ret == pytest.ExitCode.USAGE_ERROR and b"setup error" in emitted
    elif record:  # ... into cassettes ...
        assert list((pytester.path / "rec").rglob("*.yaml"))
    else:  # ... or into a failing run's output
        assert outcome.ret == 1 and b"FAILED" in emitted
    # ... yet nothing the run printed or wrote holds them.
    for secret in (key, TOKEN, upstream.host):
        assert secret.encode() not in emitted, f"{secret!r} leaked ({shape})"


def test_objects_holding_secrets_have_safe_reprs():
    from conformance.harness import Wire
    from conformance.secrets import Scrubber
    from conformance.wire.proxy import Forward

    scrubber = Scrubber()
    scrubber.add(KEY, "api-key")
    forward = Forward("https://secret-host.example.com/openai/v1/",
                      lambda: {"Authorization": f"Bearer {KEY}"})
    with WireServer() as server:
        shown = repr(scrubber) + repr(forward) + repr(Wire.forwarding(server, forward))
    assert KEY not in shown and "secret-host" not in shown


def test_the_target_repr_names_no_resource():
    from conformance.secrets import Scrubber
    from conformance.target import Target

    target = Target.from_options(endpoint="https://contoso-prod.example.net/openai/v1/",
                                 record=False, auth="key", budget=5, scrubber=Scrubber(),
                                 environ={"AZURE_OPENAI_API_KEY": KEY})
    assert "contoso" not in repr(target) and KEY not in repr(target)
