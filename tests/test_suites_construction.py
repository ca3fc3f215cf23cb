"""construction.doc-client fails when the SDK routes the doc's client somewhere Azure refuses."""

from __future__ import annotations

from conformance.registry import Verdict

from .failures import caught
from .mutants import broken_sdk, rewrite_requests

CHECK = "construction.doc-client"


def test_passes_on_the_installed_sdk(suite):
    run = suite.run(CHECK)
    assert run.verdict(CHECK) is Verdict.PASS
    observations = run.result(CHECK).observations
    # openai/openai-python#2584 is reproduced, and reported, not judged
    assert observations["other.azure-base-url-v1.chat"]["status"] == 404
    assert observations["doc-key.chat"]["azure"] == "v1"


# -- what breaks the check (tests/failures.py) -----------------------------------------------


@broken_sdk
def sdk_adds_a_deployment_segment(suite, monkeypatch):
    def deployment_path(request):
        request.url = request.url.copy_with(
            raw_path=request.url.raw_path.replace(b"/openai/v1/", b"/openai/v1/deployments/x/"))

    rewrite_requests(monkeypatch, deployment_path)


@broken_sdk
def sdk_adds_a_dated_api_version(suite, monkeypatch):
    def dated(request):
        request.url = request.url.copy_merge_params({"api-version": "2024-10-21"})

    rewrite_requests(monkeypatch, dated)


CAUGHT = [
    (sdk_adds_a_deployment_segment, CHECK, "python", "does not reach the v1 API"),
    (sdk_adds_a_dated_api_version, CHECK, "python", ""),
]
test_caught = caught(CAUGHT)


def test_an_sdk_that_ignores_openai_base_url_is_observed_not_failed(suite, monkeypatch):
    """openai 1.0.0 does not read OPENAI_BASE_URL: probed, recorded, not judged."""
    from .mutants import wrap_client_init

    def ignore_variable(kwargs):
        kwargs.setdefault("base_url", "https://api.openai.com/v1")

    wrap_client_init(monkeypatch, ignore_variable)
    run = suite.run(CHECK)
    assert run.verdict(CHECK) is Verdict.PASS
    assert run.result(CHECK).observations["reads_openai_base_url"] is False
