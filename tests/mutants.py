"""Ways to make the SDK misbehave, for tests that show a check failing.

These reach into openai internals on purpose: a mutant is a test-only stand-in for a broken
SDK release. ``_build_request`` exists with this signature in openai 1.x, 2.x and 3.x.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

import pytest

from .failures import BROKEN_BUILD

Case = TypeVar("Case", bound=Callable[..., object])


def rewrite_requests(monkeypatch: pytest.MonkeyPatch, change: Callable[[Any], None]) -> None:
    """Let ``change`` edit every request the sync client builds, before it is sent."""
    from openai._base_client import SyncAPIClient

    original = SyncAPIClient._build_request

    def build(self: Any, options: Any, *args: Any, **kwargs: Any) -> Any:
        request = original(self, options, *args, **kwargs)
        change(request)
        return request

    monkeypatch.setattr(SyncAPIClient, "_build_request", build)


def rewrite_json(monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, Any]], None]
                 ) -> None:
    """An SDK that edits the JSON body of every request before it is built (so the request
    sent carries the edited body); ``change`` gets a deep copy of the caller's arguments."""
    import copy

    from openai._base_client import SyncAPIClient

    original = SyncAPIClient._build_request

    def build(self: Any, options: Any, *args: Any, **kwargs: Any) -> Any:
        if isinstance(options.json_data, dict):
            options = options.model_copy(update={"json_data": copy.deepcopy(options.json_data)})
            change(options.json_data)
        return original(self, options, *args, **kwargs)

    monkeypatch.setattr(SyncAPIClient, "_build_request", build)


def wrap_client_init(monkeypatch: pytest.MonkeyPatch, change: Callable[[dict[str, Any]], None]
                     ) -> None:
    """Let ``change`` edit the keyword arguments of every ``openai.OpenAI(...)``."""
    import openai

    original = openai.OpenAI.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        change(kwargs)
        original(self, *args, **kwargs)

    monkeypatch.setattr(openai.OpenAI, "__init__", init)


def pretend_release(monkeypatch: pytest.MonkeyPatch, version: str) -> None:
    """Report the installed SDK as release ``version``: checks then gate features and judge
    against the policy that release declares (conformance.sdk.CAPABILITIES, conformance.policy),
    while the installed code does the work. Combined with a mutant that makes the code behave
    as that release did, it stands in for running the old release itself."""
    from conformance import sdk as python_sdk

    real = python_sdk.installed()
    monkeypatch.setattr(python_sdk, "installed", lambda: python_sdk.SdkInfo(
        real.name, version, real.http_library, real.http_library_version))


def hide_keyword(monkeypatch: pytest.MonkeyPatch, module: str, name: str, keyword: str
                 ) -> None:
    """An SDK whose ``module.name.create`` does not take ``keyword``, as a release before it
    (its signature lacks it; a call passing it raises TypeError)."""
    import importlib
    import inspect

    cls = getattr(importlib.import_module(module), name)
    create = cls.create
    signature = inspect.signature(create)

    def without(*args: Any, **kwargs: Any) -> Any:
        if keyword in kwargs:
            raise TypeError(f"create() got an unexpected keyword argument '{keyword}'")
        return create(*args, **kwargs)

    without.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name != keyword])
    monkeypatch.setattr(cls, "create", without)


def broken_sdk(case: Case) -> Case:
    """Mark a failure-table case (tests/failures.py) that patches the client side in process
    (openai-python, azure-identity): it breaks the SDK, not the server."""
    setattr(case, BROKEN_BUILD, True)
    return case
