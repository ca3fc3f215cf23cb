"""One option table (conformance/settings.py OPTIONS) declares the plugin's options and the
CLI's live options: the same names, defaults, types and choices on both sides, and every live
option given to the CLI reaches the plugin with its value."""

from __future__ import annotations

import argparse

import pytest

from conformance import cli
from conformance.settings import LIVE_OPTIONS, OPTIONS

VALUES = {  # a value other than the default for each live option, as typed
    "--endpoint": "https://x.openai.azure.com/openai/v1/", "--auth": "entra",
    "--credential": "cli", "--budget": "7", "--max-tokens": "900",
    "--deployment": "gpt-4o=mine", "--request-timeout": "7", "--run-timeout": "60",
    "--min-live": "3", "--no-preflight": None,
}


def _subparser(command: str) -> argparse.ArgumentParser:
    parser = cli._parser()
    [commands] = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return commands.choices[command]


def test_the_plugin_declares_every_option_of_the_table(pytestconfig: pytest.Config):
    # The plugin is loaded into this session too (a pytest11 entry point).
    declared = {o.dest: o for o in pytestconfig._parser.getgroup("conformance").options}
    assert list(declared) == [o.dest for o in OPTIONS]
    for option in OPTIONS:
        found = declared[option.dest]
        assert found.names() == [option.name]
        assert found.attrs().get("choices") == option.choices
        assert found.default == (option.arguments().get("default", False))


@pytest.mark.parametrize("command", ["run", "record"])
def test_the_cli_declares_the_live_options_from_the_table(command):
    actions = {a.option_strings[0]: a for a in _subparser(command)._actions if a.option_strings}
    for option in LIVE_OPTIONS:
        action = actions[option.cli]
        assert action.dest == option.cli_dest
        assert action.choices == option.choices and action.type == option.type
        expected = [] if option.action == "append" else (
            False if option.action == "store_true" else option.default)
        assert action.default == expected
    assert actions["--endpoint"].required is (command == "record")


def test_every_live_option_reaches_the_plugin_with_its_value():
    argv = ["run"]
    for flag, value in VALUES.items():
        argv += [flag] if value is None else [flag, value]
    assert set(VALUES) == {o.cli for o in LIVE_OPTIONS}
    passed = cli._live_args(cli._parser().parse_args(argv))
    plugin = argparse.ArgumentParser()
    for option in OPTIONS:
        plugin.add_argument(option.name, **option.arguments())
    given = plugin.parse_args(passed)
    for option in LIVE_OPTIONS:
        value = getattr(given, option.dest)
        typed = VALUES[str(option.cli)]
        if option.action == "store_true":
            assert value is True
        elif option.action == "append":
            assert value == [typed]
        else:
            assert value == (option.type or str)(typed), option.name


def test_a_run_without_an_endpoint_passes_no_live_option():
    assert cli._live_args(cli._parser().parse_args(["run", "--budget", "3"])) == []
