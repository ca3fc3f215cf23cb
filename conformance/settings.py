"""The names and defaults of a run's settings, in a module that imports nothing.

The pytest plugin (:mod:`conformance.pytest_plugin`) is loaded into every pytest session of
an environment that has this package; it declares its options from these values without
loading the modules that use them (the wire server, vcrpy, azure-identity, the SDK).
:data:`OPTIONS` is the one table of those options: the plugin's ``addoption`` and the options
of ``aoai-conformance run`` and ``record`` are generated from it, and the CLI passes what it
was given on to pytest through it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

# Live runs with key auth read the key from this variable (conformance.target).
KEY_VARIABLE = "AZURE_OPENAI_API_KEY"
DEFAULT_BUDGET = 60  # requests; a full live run sends 25 on the stand-in (27 with --sdk all)
OUTPUT_CAP = 32  # the Responses API refuses max_output_tokens below 16
DEFAULT_TOKEN_BUDGET = 8000  # a full live run: about 3,800 tokens on the stand-in, any SDKs
# conformance.wire.proxy keeps its own default for a Forward (the wire package imports
# nothing outside itself); tests/test_plugin_load.py checks the two agree.
DEFAULT_REQUEST_TIMEOUT_S = 120.0
DEFAULT_RUN_TIMEOUT_S = 1800.0

# The user's deployment map (conformance.deployments).
ENVIRONMENT_VARIABLE = "AOAI_CONFORMANCE_DEPLOYMENTS"
PYPROJECT_TABLE = "tool.aoai-conformance.deployments"

# --credential NAME -> the azure-identity class, and what fixes it when it has no token
# (conformance.entra).
CREDENTIALS: dict[str, tuple[str, str]] = {
    "default": ("DefaultAzureCredential",
                "sign in with `az login`, set AZURE_CLIENT_ID/AZURE_TENANT_ID/"
                "AZURE_CLIENT_SECRET, or run where a managed identity is assigned"),
    "cli": ("AzureCliCredential", "sign in with `az login` (and `az account set` to the "
            "resource's subscription)"),
    "environment": ("EnvironmentCredential",
                    "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET (or "
                    "AZURE_CLIENT_CERTIFICATE_PATH)"),
    "managed-identity": ("ManagedIdentityCredential",
                         "run on an Azure host with a managed identity assigned (set "
                         "AZURE_CLIENT_ID for a user-assigned one)"),
    "workload-identity": ("WorkloadIdentityCredential",
                          "set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_FEDERATED_TOKEN_FILE "
                          "(Kubernetes workload identity or a federated CI token)"),
}

DEFAULT_REPORT_DIR = "conformance-report"


@dataclass(frozen=True)
class Option:
    """One option of a run, declared once: the pytest plugin adds every one (``name``); the
    CLI's ``commands`` add it under its short name (``cli``) and pass it on to pytest as
    ``name``; a ``live`` one only when the run has an endpoint. ``cli_help`` is the CLI's
    wording where it differs (``{features}`` and ``{sdks}`` in a help are filled in by whoever
    declares it: this module imports nothing)."""

    name: str  # the plugin's: --conformance-budget
    help: str
    default: object = None
    type: type[int] | type[float] | None = None
    action: str | None = None  # "append" | "store_true"
    choices: tuple[str, ...] | None = None
    metavar: str | None = None
    cli: str | None = None  # the CLI's name: --budget
    cli_help: str | None = None
    commands: tuple[str, ...] = ("run", "record")  # the CLI commands that declare it
    live: bool = False  # passed on only to a run with an endpoint (live or record)

    @property
    def dest(self) -> str:
        """The plugin's ``config.getoption`` name: ``conformance_budget``."""
        return self.name.lstrip("-").replace("-", "_")

    @property
    def cli_dest(self) -> str:
        """The CLI's ``argparse.Namespace`` attribute: ``budget``."""
        return (self.cli or self.name).lstrip("-").replace("-", "_")

    def arguments(self, *, cli: bool = False) -> dict[str, Any]:
        """Keyword arguments for ``addoption`` (pytest) or ``add_argument`` (argparse)."""
        found: dict[str, Any] = {
            "help": self.cli_help if cli and self.cli_help is not None else self.help}
        if self.action:
            found["action"] = self.action
        if self.action != "store_true":
            found["default"] = [] if self.action == "append" else self.default
        for key in ("type", "choices", "metavar"):
            if getattr(self, key) is not None:
                found[key] = getattr(self, key)
        return found

    def passed_on(self, value: Any) -> list[str]:
        """The plugin's arguments for the CLI's ``value`` of this option."""
        if self.action == "store_true":
            return [self.name] if value else []
        if self.action == "append":
            return [f"{self.name}={v}" for v in value or ()]
        return [] if value is None else [f"{self.name}={value}"]


_CREDENTIAL_NAMES = ", ".join(f"{n} ({c})" for n, (c, _) in CREDENTIALS.items())

# Every option of the plugin, in --help order (the CLI's in the same order). Only
# --conformance-record has no CLI name: there, it is the ``record`` command.
OPTIONS: tuple[Option, ...] = (
    Option("--conformance-report-dir", metavar="DIR", cli="--report-dir",
           help="where results.json and the reports go when checks ran "
           f"(default: ./{DEFAULT_REPORT_DIR}/<sdk>-<version>/)",
           cli_help="where results.json and the reports are written "
           f"(default: ./{DEFAULT_REPORT_DIR}/<sdk>-<version>/)"),
    Option("--conformance-cassettes", metavar="DIR", cli="--cassettes",
           help="cassette root to replay (default: the cassettes shipped with the package)",
           cli_help="the cassette root: run replays it (default: the packaged cassettes); "
           "record writes into it (default: the source tree's cassettes/; required for an "
           "installed package)"),
    Option("--conformance-feature", action="append", metavar="FEATURE", cli="--feature",
           help="run only the checks of this feature (repeatable)",
           cli_help="only the checks of this feature (repeatable); one of: {features}"),
    Option("--conformance-check", action="append", metavar="ID", cli="--check",
           commands=("run",),  # record names its checks as arguments (the same dest)
           help="run only this check (repeatable)",
           cli_help="only this check id (repeatable)"),
    Option("--conformance-sdk", action="append", metavar="NAME[@VERSION]", cli="--sdk",
           commands=("run",),
           help="run the checks against this SDK (repeatable): {sdks} or all; default python. "
           "Other SDKs run the cross-SDK checks through their driver, built on first use (a "
           "version other than the driver's pin is built on demand)",
           cli_help="the SDK to run the checks against (repeatable): {sdks} or all (default: "
           "python); NAME@VERSION builds that driver with another SDK version"),
    Option("--conformance-endpoint", metavar="URL", cli="--endpoint", live=True,
           help="run live against this resource (https://RESOURCE.openai.azure.com/openai/v1/) "
           "instead of replaying cassettes; the SDK still talks to the loopback server, which "
           "forwards with the real credential",
           cli_help="the resource's v1 URL, https://RESOURCE.openai.azure.com/openai/v1/"),
    Option("--conformance-record", action="store_true",
           help="with --conformance-endpoint: save each check's exchanges as its cassette"),
    Option("--conformance-auth", default="key", choices=("key", "entra"), cli="--auth", live=True,
           help=f"live credential: key (from {KEY_VARIABLE}, the default) or entra "
           "(the azure-identity credential named by --conformance-credential)",
           cli_help=f"key (from {KEY_VARIABLE}, the default) or entra (Entra ID, see "
           "--credential)"),
    Option("--conformance-credential", default="default", choices=tuple(CREDENTIALS),
           cli="--credential", live=True,
           help="with --conformance-auth=entra: the azure-identity credential, "
           + _CREDENTIAL_NAMES,
           cli_help="with --auth entra: the azure-identity credential: " + _CREDENTIAL_NAMES),
    Option("--conformance-budget", default=DEFAULT_BUDGET, type=int, metavar="N",
           cli="--budget", live=True,
           help=f"live runs send at most N requests upstream (default {DEFAULT_BUDGET})",
           cli_help=f"send at most N requests to the resource (default {DEFAULT_BUDGET})"),
    Option("--conformance-max-tokens", default=DEFAULT_TOKEN_BUDGET, type=int, metavar="N",
           cli="--max-tokens", live=True,
           help=f"live runs spend at most about N tokens (default {DEFAULT_TOKEN_BUDGET}); each "
           f"request's output is capped at {OUTPUT_CAP} tokens",
           cli_help=f"spend at most about N tokens (default {DEFAULT_TOKEN_BUDGET}); each "
           f"request's output is capped at {OUTPUT_CAP}"),
    Option("--conformance-deployment", action="append", metavar="DOC=YOURS",
           cli="--deployment", live=True,
           help="live runs: send the doc's deployment name DOC as YOURS (repeatable); also "
           f"{ENVIRONMENT_VARIABLE} and [{PYPROJECT_TABLE}] in pyproject.toml",
           cli_help="send the doc's deployment name DOC as YOURS (repeatable); see "
           "aoai-conformance deployments"),
    Option("--conformance-request-timeout", default=DEFAULT_REQUEST_TIMEOUT_S, type=float,
           metavar="SECONDS", cli="--request-timeout", live=True,
           help="live runs: the whole upstream response (connect, headers, body) must arrive "
           f"within SECONDS (default {DEFAULT_REQUEST_TIMEOUT_S:g}), else the check is an error",
           cli_help="each upstream response must arrive whole within SECONDS (default "
           f"{DEFAULT_REQUEST_TIMEOUT_S:g}), else the check is an error"),
    Option("--conformance-run-timeout", default=DEFAULT_RUN_TIMEOUT_S, type=float,
           metavar="SECONDS", cli="--run-timeout", live=True,
           help="live runs: nothing is sent upstream after SECONDS from the start (default "
           f"{DEFAULT_RUN_TIMEOUT_S:g}); later live checks are skipped. Driver builds stop by "
           "then too",
           cli_help=f"send nothing upstream after SECONDS (default {DEFAULT_RUN_TIMEOUT_S:g}); "
           "driver builds stop by then too"),
    Option("--conformance-min-live", type=int, metavar="N", cli="--min-live", live=True,
           help="live runs: exit 2 unless at least N checks reached the resource (default: "
           "every check the mapped deployments allow, and at least one)",
           cli_help="exit 2 unless at least N checks reached the resource (default: every "
           "check the mapped deployments allow, and at least one)"),
    Option("--conformance-no-preflight", action="store_true", cli="--no-preflight", live=True,
           help="live runs: skip the preflight (for a gateway that blocks its requests); a "
           "setup problem then shows in the checks",
           cli_help="skip the preflight (for a gateway that blocks its requests)"),
    Option("--sse-chunking", default="event", metavar="POLICY", cli="--sse-chunking",
           commands=("run",),
           help="how replayed event streams are cut into HTTP chunks: event (default), whole, "
           "random:SEED or fixed:BYTES",
           cli_help="event (default), whole, random:SEED or fixed:BYTES"),
)

# The options passed on only to a run with an endpoint.
LIVE_OPTIONS = tuple(option for option in OPTIONS if option.live)
