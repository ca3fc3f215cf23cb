"""``aoai-conformance doctor``: why does my client get 404?

Builds the client the user describes (arguments, plus the variables the SDK reads from the
environment, as the SDK reads them), sends one request per operation into a transport that
answers as Azure's v1 API would (:mod:`conformance.routes`), and prints for each: the request
(method, path, query, the credential header's name), whether the v1 API accepts it, and the
one-line fix. Nothing leaves the process; no credential value and no resource name is printed.

Exit codes: 0 every operation reaches the v1 API (or the legacy deployments API, with a note),
1 Azure would refuse at least one (the fix is printed), 2 unusable input.
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TextIO
from urllib.parse import urlsplit

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
SDKS = ("python",)  # the drivers join when their protocol carries a construction


def add_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = commands.add_parser(
        "doctor",
        help="show where the client you build sends its requests, and whether Azure's v1 API "
        "accepts them (the usual 404)",
        description="Build the client you describe (arguments, plus the environment variables "
        "the SDK reads), send one request per operation into a loopback stand-in that answers "
        "as Azure's v1 API would, and print each request (method, path, query, the credential "
        "header's name; never its value), Azure's answer and the one-line fix. Nothing leaves "
        "this machine. Exit 0: accepted; 1: Azure would refuse it; 2: unusable input.",
    )
    parser.add_argument("--sdk", default="python", metavar="SDK",
                        help="the SDK whose client is built (python)")
    parser.add_argument("--client", choices=("openai", "azure"), default="openai",
                        help="openai: OpenAI(base_url=...) (the doc's way, default); azure: "
                        "AzureOpenAI(azure_endpoint=... or base_url=..., api_version=...)")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--base-url", metavar="URL",
                       help="the base_url argument (default: none; the SDK then reads "
                       "OPENAI_BASE_URL, as it would)")
    where.add_argument("--azure-endpoint", metavar="URL",
                       help="AzureOpenAI's azure_endpoint argument (default: none; the SDK "
                       "then reads AZURE_OPENAI_ENDPOINT)")
    parser.add_argument("--api-version", metavar="V",
                        help="AzureOpenAI's api_version (default: none; the SDK then reads "
                        "OPENAI_API_VERSION)")
    parser.add_argument("--auth", choices=("key", "token"), default="key",
                        help="key (default; the SDK reads its key variable when no key is "
                        "passed) or token (an Entra token provider)")
    parser.add_argument("--operation", action="append", choices=("chat", "responses",
                                                                  "embeddings"),
                        help="the operation to send (repeatable; default: all three)")


def run(options: argparse.Namespace, out: TextIO | None = None) -> int:
    out = out or sys.stdout
    problem = _unusable(options)
    if problem:
        print(f"aoai-conformance doctor: {problem}", file=sys.stderr)
        return EXIT_USAGE
    from .suites._construction import PYTHON_CLIENT, Construction, run

    construction = Construction(client=options.client, base_url=options.base_url,
                                azure_endpoint=options.azure_endpoint,
                                api_version=options.api_version, auth=options.auth)
    import conformance.sdk

    print(f"{conformance.sdk.installed()}: {construction.describe()}", file=out)
    read = [name for name in conformance.sdk.ENVIRONMENT if os.environ.get(name)]
    if read:
        print(f"  the SDK also reads from the environment: {', '.join(read)}", file=out)
    refused = False
    for operation in options.operation or ("chat", "responses", "embeddings"):
        outcome = run(construction, operation)
        if outcome.absent:
            print(f"  {operation:<10} this SDK release has no {operation} API", file=out)
            continue
        if outcome.sent is None:
            refused = True
            print(f"  {operation:<10} no request sent: the SDK raised {outcome.error}", file=out)
            continue
        sent, route = outcome.sent, outcome.sent.route
        credentials = ", ".join(sent.credential_headers) or "no credential header"
        query = f"?{sent.query}" if sent.query else ""
        print(f"  {operation:<10} {sent.method} {sent.path}{query}  [{credentials}; host: "
              f"{sent.host_kind}]", file=out)
        print(f"  {'':<10} {route.describe()}", file=out)
        if route.fix:
            label = "note" if route.accepted else "fix"
            print(f"  {'':<10} {label}: {route.fix.format(client=PYTHON_CLIENT)}", file=out)
        refused = refused or not route.accepted
    return EXIT_REFUSED if refused else EXIT_OK


def _unusable(options: argparse.Namespace) -> str | None:
    if options.sdk not in SDKS:
        return (f"--sdk {options.sdk}: doctor builds {', '.join(SDKS)} clients so far; the "
                "construction checks for javascript, go and java are not written yet")
    for flag, url in (("--base-url", options.base_url),
                      ("--azure-endpoint", options.azure_endpoint)):
        if url is None:
            continue
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            return f"{flag} must be an http(s) URL with a host"
        if parts.username or parts.password:
            return f"{flag} must not carry a user name or password"
    if options.client == "openai" and options.azure_endpoint is not None:
        return "--azure-endpoint is AzureOpenAI's argument: add --client azure"
    if options.client == "openai" and options.api_version is not None:
        return ("--api-version is AzureOpenAI's argument; OpenAI(...) takes "
                "default_query={'api-version': ...}")
    return None
