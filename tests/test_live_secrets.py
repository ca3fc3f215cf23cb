"""No secret on any output: a failing live or record run against a hostile upstream that echoes
the key, the Entra token and its own host everywhere, and every byte the run emitted (stdout,
stderr, reports, cassettes) is searched for them.

pytest is asked for everything it can print: long tracebacks with locals (``-l``), every
report section (``-rA``), captured output.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qs, quote, urlsplit

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
    # The key echoed in a response header's *name* (x-k-KEY: 1), live and recorded.
    "header-name-echo": (KEY, ("header-name", "error"), "key", False),
    "header-name-recorded": (KEY, ("header-name", "json"), "key", True),
    "entra-header-name-recorded": (KEY, ("header-name", "json"), "entra", True),
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


FUNCTION_KEY = "fn-key/0123+456789=secret"  # an Azure Functions key, as URL-encoded below
ENDPOINT_FORMS = {
    # name: (endpoint from the upstream's port, record, secrets that must not show)
    "mixed-case-host": (lambda port: f"http://LocalHost:{port}/openai/v1/", False,
                        lambda port: [f"localhost:{port}"]),
    "query-code": (lambda port: f"http://127.0.0.1:{port}/openai/v1/?code="
                   + quote(FUNCTION_KEY, safe=""), False,
                   lambda port: [f"127.0.0.1:{port}", FUNCTION_KEY,
                                 quote(FUNCTION_KEY, safe="")]),
    "query-code-recorded": (lambda port: f"http://LOCALHOST:{port}/openai/v1?code="
                            + quote(FUNCTION_KEY, safe=""), True,
                            lambda port: [f"localhost:{port}", FUNCTION_KEY,
                                          quote(FUNCTION_KEY, safe="")]),
}


@pytest.mark.parametrize("form", ENDPOINT_FORMS)
def test_no_form_of_the_endpoint_reaches_any_output(pytester, upstream, monkeypatch, form):
    """The endpoint as a user may write it: its host in any case (registered lower-cased, the
    raw form must go too), a gateway key in its query (forwarded with every request, never
    shown), recorded or not, with the upstream echoing credential and host everywhere."""
    make, record, secrets = ENDPOINT_FORMS[form]
    port = upstream.host.rpartition(":")[2]
    upstream.hostile(("headers", "json", "header-name"))
    upstream.code = FUNCTION_KEY if form.startswith("query") else None
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider", "-l", "--tb=long", "-rA",
        f"--conformance-report-dir={pytester.path / 'report'}",
        f"--conformance-endpoint={make(port)}",
        *(["--conformance-record", f"--conformance-cassettes={pytester.path / 'rec'}"]
          if record else []),
        *CHECKS,
    )
    assert upstream.work, outcome.stdout.str()[-3000:]
    if form.startswith("query"):  # the gateway's key went with every request, preflight's too
        assert all(parse_qs(r.query).get("code") == [FUNCTION_KEY] for r in upstream.seen)
    if record:
        assert list((pytester.path / "rec").rglob("*.yaml"))
    emitted = _emitted(pytester, outcome).lower()
    assert b"results.json" in emitted or (pytester.path / "report" / "results.json").exists()
    for secret in (KEY, *secrets(port)):
        assert secret.lower().encode() not in emitted, f"{secret!r} leaked ({form})"


def test_userinfo_in_the_endpoint_is_refused_unsent_and_unshown(pytester, upstream,
                                                                monkeypatch):
    port = upstream.host.rpartition(":")[2]
    monkeypatch.setenv("AZURE_OPENAI_API_KEY", KEY)
    outcome = pytester.runpytest_inprocess(
        "--pyargs", "conformance.suites", "-p", "no:cacheprovider",
        f"--conformance-report-dir={pytester.path / 'report'}",
        f"--conformance-endpoint=http://alice-user:pa55-w0rd-secret@127.0.0.1:{port}/openai/v1/",
        *CHECKS,
    )
    assert outcome.ret == pytest.ExitCode.USAGE_ERROR
    assert "user name or password" in outcome.stderr.str()
    assert not upstream.seen
    emitted = _emitted(pytester, outcome)
    for secret in (b"alice-user", b"pa55-w0rd-secret", f"127.0.0.1:{port}".encode()):
        assert secret not in emitted


@pytest.mark.parametrize(("endpoint", "printed"), [
    # Registered lower-cased, written in mixed case.
    ("https://Contoso-Prod.Example.NET/openai/v1/", "ssl: hostname 'contoso-prod.example.net'"),
    # An explicit default port: the TLS error names the bare host.
    ("https://gw.contoso.net:443/openai/v1/", "certificate is not valid for 'gw.contoso.net'"),
    ("https://GW.contoso.NET:443/openai/v1/", "connect to gw.contoso.net:443 failed"),
    # Hosts shorter than the 8 characters a value must have.
    ("https://gw.io/openai/v1/", "gaierror: gw.io: Name does not resolve"),
    ("https://ai/openai/v1/", "cannot reach AI (https://ai/)"),
])
def test_every_written_form_of_the_host_is_scrubbed(endpoint, printed):
    from conformance.secrets import Scrubber
    from conformance.target import Target

    scrubber = Scrubber()
    target = Target.from_options(endpoint=endpoint, record=False, auth="key", budget=5,
                                 scrubber=scrubber, environ={"AZURE_OPENAI_API_KEY": KEY})
    host = urlsplit(endpoint).hostname
    alone = re.compile(rf"(?<![a-z0-9.-]){re.escape(host)}(?![a-z0-9-])")
    for text in (printed, target.describe(scrubber)["endpoint"], endpoint):
        assert not alone.search(scrubber.text(text).lower()), scrubber.text(text)
    # ... without mangling ordinary text that merely contains the short name
    assert scrubber.text("said: gw.iota, main/ai-tools, x.gw.io.example") == (
        "said: gw.iota, main/ai-tools, x.gw.io.example")


@pytest.mark.parametrize(("endpoint", "error"), [
    ("https://gw.contoso.net/openai/v1/?code=short", "shorter than 8"),
    ("https://u:p@gw.contoso.net/openai/v1/", "user name or password"),
    ("ftp://gw.contoso.net/openai/v1/", "http(s) URL"),
    ("https://gw.contoso.net:44x3/openai/v1/", "port is not a number"),
    ("http://gw.contoso.net/openai/v1/", "plain http"),
])
def test_unusable_endpoints_are_refused_without_quoting_them(endpoint, error):
    from conformance.secrets import Scrubber
    from conformance.target import Target, TargetError

    with pytest.raises(TargetError, match=re.escape(error)) as caught:
        Target.from_options(endpoint=endpoint, record=False, auth="key", budget=5,
                            scrubber=Scrubber(), environ={"AZURE_OPENAI_API_KEY": KEY})
    assert "contoso" not in str(caught.value) and "=short" not in str(caught.value)
    assert "p@" not in str(caught.value)


def test_api_version_in_the_endpoint_is_public_and_forwarded():
    from conformance.wire.proxy import endpoint_query, parse_endpoint

    endpoint = "https://gw.contoso.net/openai/v1/?api-version=preview"
    assert parse_endpoint(endpoint)[1] == "gw.contoso.net"
    assert endpoint_query(endpoint) == "api-version=preview"


def test_a_key_in_a_header_name_never_reaches_the_sdk_nor_the_cassette():
    """The forwarder's own answer to the SDK and the interaction it stores."""
    from conformance.secrets import Scrubber
    from conformance.wire import RecordedRequest, Reply
    from conformance.wire.proxy import Forward

    scrubber = Scrubber()
    scrubber.add(KEY, "api-key")
    fake = FakeResource(KEY, paths.cassette_root()).hostile(("header-name",))
    with serving(fake):
        forward = Forward(fake.endpoint, lambda: {"Authorization": f"Bearer {KEY}"},
                          scrub=scrubber.text, scrub_body=scrubber.binary)
        reply = forward.respond(RecordedRequest(0, "GET", "/openai/v1/models", (), b"", 0.0))
    assert isinstance(reply, Reply)
    names = [k for k, _ in reply.headers]
    assert "x-k-api-key" in names and not any(KEY in k for k in names)
    stored = forward.interactions[0].response["headers"]
    assert "x-k-api-key" in stored and not any(KEY in k for k in stored)
