"""The Azure v1 route judge: what Azure answers for a request line."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from conformance.routes import RESOURCE_NOT_FOUND, judge

KEY = {"authorization"}


@pytest.mark.parametrize(("method", "path"), [
    ("POST", "/openai/v1/chat/completions"),
    ("POST", "/openai/v1/responses"),
    ("POST", "/openai/v1/embeddings"),
    ("GET", "/openai/v1/models"),
])
@pytest.mark.parametrize("query", ["", "api-version=v1", "api-version=preview"])
def test_the_v1_routes_are_accepted(method, path, query):
    route = judge(method, path, query, KEY)
    assert (route.api, route.status, route.fix) == ("v1", 200, "")


@pytest.mark.parametrize("path", [
    # openai/openai-python#2584: AzureOpenAI(base_url=".../openai/v1/")
    "/openai/v1/deployments/gpt-4o/chat/completions",
    # AzureOpenAI(azure_endpoint=".../openai/v1/")
    "/openai/v1/openai/deployments/gpt-4o/chat/completions",
    "/openai/v1/openai/responses",
])
def test_a_deployment_path_under_v1_is_the_real_404(path):
    route = judge("POST", path, "api-version=preview", {"api-key"})
    assert (route.api, route.status, route.body) == ("none", 404, RESOURCE_NOT_FOUND)
    assert "not the Azure client" in route.fix


def test_a_missing_v1_prefix_is_a_404_with_the_base_url_fix():
    route = judge("POST", "/chat/completions", "", KEY)
    assert (route.status, route.body) == (404, RESOURCE_NOT_FOUND)
    assert "/openai/v1/" in route.fix


def test_a_dated_api_version_on_v1_is_refused():
    route = judge("POST", "/openai/v1/chat/completions", "api-version=2024-10-21", KEY)
    assert route.status == 400 and "dated" in route.problem and "api-version" in route.fix


def test_the_legacy_deployments_api_works_but_is_not_v1():
    route = judge("POST", "/openai/deployments/gpt-4o/chat/completions",
                  "api-version=2024-10-21", {"api-key"})
    assert (route.api, route.accepted) == ("legacy", True)
    legacy_responses = judge("POST", "/openai/responses", "api-version=2025-03-01-preview",
                             {"api-key"})
    assert legacy_responses.api == "legacy"
    assert judge("POST", "/openai/responses", "api-version=2024-10-21", {"api-key"}).status == 404


def test_no_credential_is_the_key_401():
    route = judge("POST", "/openai/v1/chat/completions", "", set())
    assert route.status == 401 and route.body is not None
    assert route.body["error"]["code"] == "401"


def test_a_doubled_slash_is_a_404():
    assert judge("POST", "/openai/v1//chat/completions", "", KEY).status == 404


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz/-_.0123456789", max_size=40),
       st.sampled_from(["GET", "POST", "DELETE"]))
def test_only_known_v1_operations_are_accepted(rest, method):
    route = judge(method, "/openai/v1/" + rest, "", KEY)
    known = {("POST", "chat/completions"), ("POST", "responses"), ("POST", "embeddings"),
             ("GET", "models")}
    assert route.accepted == ((method, rest) in known)
