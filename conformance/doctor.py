"""``aoai-conformance doctor``: why does my client get 404?

Builds the client the user describes (arguments, plus the variables the SDK reads from the
environment, as the SDK reads them), sends one request per operation into a transport that
answers as Azure's v1 API would (:mod:`conformance.routes`), and prints for each: the request
(method, path, query, the credential header's name), whether the v1 API accepts it, and the
one-line fix. Nothing leaves the process; no credential value and no resource name is printed.

For javascript, go and java the client is built by that SDK's driver (the construction part
of docs/driver-protocol.md), its requests carried by the loopback Azure host (a CONNECT proxy
that tunnels only the Azure host suffixes, with a throwaway test CA) to a loopback wire server
answering as Azure's v1 API would (:class:`conformance.suites._routing.AzureRoutes`).

Exit codes: 0 every operation reaches the v1 API (or the legacy deployments API, with a note),
1 Azure would refuse at least one (the fix is printed), 2 unusable input (or the SDK's driver
cannot be built here).
"""

from __future__ import annotations

import argparse
import os
import sys
from typing import TYPE_CHECKING, Any, TextIO
from urllib.parse import urlsplit

from .routes import AZURE_HOST_SUFFIXES, is_azure_host

if TYPE_CHECKING:
    from .suites._construction import Sent

EXIT_OK, EXIT_REFUSED, EXIT_USAGE = 0, 1, 2
# The doc's client in each SDK, for the one-line fixes (conformance.routes words them).
DOC_CLIENTS = {
    "javascript": 'new OpenAI({baseURL: "https://RESOURCE.openai.azure.com/openai/v1/", '
    "apiKey})",
    "go": 'openai.NewClient(option.WithBaseURL("https://RESOURCE.openai.azure.com/openai/v1/"), '
    "option.WithAPIKey(key))",
    "java": 'OpenAIOkHttpClient.builder().baseUrl("https://RESOURCE.openai.azure.com/openai/v1")'
    ".apiKey(key).build()",
}
# The variables each SDK's client reads as the construction is built (their sources:
# openai-node client.ts and azure.ts readEnv; openai-go DefaultClientOptions, which
# azure.WithEndpoint disables; openai-java ClientOptions.fromEnv).
SDK_VARIABLES = {
    "javascript": ("OPENAI_BASE_URL", "OPENAI_API_KEY", "AZURE_OPENAI_ENDPOINT",
                   "AZURE_OPENAI_API_KEY", "OPENAI_API_VERSION"),
    "go": ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
    "java": ("OPENAI_BASE_URL", "OPENAI_API_KEY"),
}
_KEY_VARIABLES = {"OPENAI_API_KEY", "AZURE_OPENAI_API_KEY"}
_PACKAGES = {"javascript": "openai-node", "go": "openai-go", "java": "openai-java"}


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
                        help="the SDK whose client is built: python (default), javascript, "
                        "go or java (through its driver; the first use builds it), or "
                        "javascript|go|java@VERSION for another release of it")
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
    if options.sdk.partition("@")[0] != "python":
        return _run_driver(options, out)
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
        refused = _print_request(outcome.sent, operation, PYTHON_CLIENT, out) or refused
    return EXIT_REFUSED if refused else EXIT_OK


def _run_driver(options: argparse.Namespace, out: TextIO) -> int:
    """javascript, go, java: the construction performed by the SDK's driver."""
    from .drivers import BuildFailed, DriverUnavailable
    from .drivers.pool import DriverPool
    from .drivers.process import ScenarioRejected
    from .harness import Wire
    from .suites._routing import AzureRoutes, DriverConstruction, cell
    from .suites._scenario import KEY
    from .wire.server import WireServer

    sdk, _, version = options.sdk.partition("@")
    environment = {name: (KEY if name in _KEY_VARIABLES else os.environ[name])
                   for name in SDK_VARIABLES[sdk] if os.environ.get(name)}
    urls = [u for u in (options.base_url, options.azure_endpoint,
                        environment.get("OPENAI_BASE_URL"),
                        environment.get("AZURE_OPENAI_ENDPOINT")) if u]
    hosts = {urlsplit(u).hostname or "" for u in urls}
    elsewhere = sorted(h for h in hosts if h and not is_azure_host(h))
    if elsewhere:
        print(f"aoai-conformance doctor: --sdk {sdk} reaches Azure's host names only (a "
              f"loopback proxy serves {', '.join('*' + x for x in AZURE_HOST_SUFFIXES)}); "
              f"{len(elsewhere)} URL host(s) given are none of them", file=sys.stderr)
        return EXIT_USAGE
    azure = options.client == "azure"
    key_variable = ("AZURE_OPENAI_API_KEY" if azure else "OPENAI_API_KEY") if sdk == "javascript" \
        else "OPENAI_API_KEY"
    auth = "token" if options.auth == "token" else (
        "none" if key_variable in environment and not (sdk == "go" and azure) else "key")
    built = DriverConstruction(client=options.client, base_url=options.base_url,
                               endpoint=options.azure_endpoint, api_version=options.api_version,
                               environment=environment, auth=auth)
    refused = False
    pool = DriverPool(progress=lambda text: print(text, file=sys.stderr),
                      versions={sdk: version} if version else {})
    try:
        with WireServer() as server:
            wire = Wire(server)
            wire.use(AzureRoutes())
            try:
                driver = pool.get(sdk)
            except (DriverUnavailable, BuildFailed) as exc:
                print(f"aoai-conformance doctor: the {sdk} driver cannot run here: {exc}",
                      file=sys.stderr)
                return EXIT_USAGE
            print(f"{_PACKAGES[sdk]} {driver.version}: {built.describe(sdk)}", file=out)
            if environment:
                print(f"  the SDK also reads from the environment: "
                      f"{', '.join(sorted(environment))}", file=out)
            for operation in options.operation or ("chat", "responses", "embeddings"):
                try:
                    one = cell(driver, wire, built, operation)
                except ScenarioRejected as exc:
                    print(f"aoai-conformance doctor: {exc.message}", file=sys.stderr)
                    return EXIT_USAGE
                refused = _print_cell(_scrubbed(one, hosts), operation, DOC_CLIENTS[sdk],
                                      out) or refused
    finally:
        pool.close()
    return EXIT_REFUSED if refused else EXIT_OK


def _scrubbed(one: Any, hosts: set[str]) -> Any:
    """The cell with the resource's host names taken out of the SDK's error message."""
    from dataclasses import replace

    from .suites._construction import host_kind

    text = one.error
    if not text:
        return one
    for host in sorted(hosts, key=len, reverse=True):
        if host:
            text = text.replace(host, f"RESOURCE.{host_kind(host)}")
    return replace(one, error=text)


def _print_cell(one: object, operation: str, client: str, out: TextIO) -> bool:
    """Print one operation's request, Azure's answer and the fix; True when refused."""
    from .suites._routing import Cell

    assert isinstance(one, Cell)
    if one.unsupported is not None:
        print(f"  {operation:<10} this SDK cannot express it: {one.unsupported}", file=out)
        return False
    if one.sent is None:
        print(f"  {operation:<10} no request sent: the SDK raised {one.error}", file=out)
        return True
    return _print_request(one.sent, operation, client, out)


def _print_request(sent: Sent, operation: str, client: str, out: TextIO) -> bool:
    """Print the request that reached the wire, Azure's answer and the fix; True when Azure
    would refuse it."""
    route = sent.route
    credentials = ", ".join(sent.credential_headers) or "no credential header"
    query = f"?{sent.query}" if sent.query else ""
    print(f"  {operation:<10} {sent.method} {sent.path}{query}  [{credentials}; host: "
          f"{sent.host_kind}]", file=out)
    print(f"  {'':<10} {route.describe()}", file=out)
    if route.fix:
        label = "note" if route.accepted else "fix"
        print(f"  {'':<10} {label}: {route.fix.format(client=client)}", file=out)
    return not route.accepted


def _unusable(options: argparse.Namespace) -> str | None:
    from . import sdks

    name, at, version = options.sdk.partition("@")
    if name not in sdks.names():  # the SDK registry's: in process or with a driver
        return f"--sdk {options.sdk}: doctor builds {', '.join(sdks.names())} clients"
    if at and (name == "python" or not version):
        return (f"--sdk {options.sdk}: a release is given as javascript|go|java@VERSION (the "
                "driver is built with it); python is the installed openai")
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
