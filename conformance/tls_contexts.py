"""One TLS context per configuration for every SDK client of a run.

Building an ``openai.OpenAI`` builds an HTTP transport, and the transport builds an
``ssl.SSLContext`` that loads the whole CA bundle (tens of milliseconds each; a run builds
over a hundred clients). :func:`share` makes the HTTP library's ``create_ssl_context`` return
one context per set of arguments (and of the ``SSL_CERT_*`` variables it reads), the reuse
httpx's own documentation recommends. The contexts are the ones the library would build: the
same CA bundle, the same options; nothing on the wire changes, for loopback ``http://`` URLs
(which never handshake) or for a live resource. Libraries without that function (older
``httpx``) are left as they are.
"""

from __future__ import annotations

import importlib
import os
from typing import Any

_SHARED = "_aoai_conformance_shared"


def share(library: str) -> None:
    """Memoise ``library``'s transport-level ``create_ssl_context`` (``httpx``/``httpx2``)."""
    try:
        module = importlib.import_module(f"{library}._transports.default")
    except ImportError:
        return
    original = getattr(module, "create_ssl_context", None)
    if original is None or getattr(original, _SHARED, False):
        return
    contexts: dict[tuple[Any, ...], Any] = {}

    def create_ssl_context(verify: Any = True, cert: Any = None, trust_env: bool = True,
                           **kwargs: Any) -> Any:
        if cert is not None or kwargs or not isinstance(verify, (bool, str)):
            return original(verify=verify, cert=cert, trust_env=trust_env, **kwargs)
        key = (verify, trust_env, os.environ.get("SSL_CERT_FILE"),
               os.environ.get("SSL_CERT_DIR"), os.environ.get("SSLKEYLOGFILE"))
        context = contexts.get(key)
        if context is None:
            context = contexts[key] = original(verify=verify, cert=cert, trust_env=trust_env)
        return context

    setattr(create_ssl_context, _SHARED, True)
    module.create_ssl_context = create_ssl_context  # type: ignore[attr-defined]
