"""One option table (conformance/settings.py OPTIONS) declares the plugin's options and the
options of the CLI's run and record: the same names, defaults, types and choices on both
sides, every pytest option has its CLI flag and every CLI option its pytest option, and every
option given to the CLI reaches the plugin with its value."""

from __future__ import annotations

import argparse

import pytest

from conformance import cli
from conformance.registry import FEATURES
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


# The plugin's options without a CLI flag, and what the CLI has instead.
NOT_A_FLAG = {"--conformance-record": "the record command"}
# The CLI's own arguments, not the plugin's: pytest's arguments as given.
CLI_ONLY = {"run": {"pytest_args"}, "record": set()}


@pytest.mark.parametrize("command", ["run", "record"])
def test_every_pytest_option_has_its_cli_flag_and_every_cli_option_its_pytest_option(command):
    flags = {a.dest: a for a in _subparser(command)._actions if a.dest != "help"}
    from_table = {o.cli_dest: o for o in OPTIONS if o.cli is not None}
    assert set(NOT_A_FLAG) == {o.name for o in OPTIONS if o.cli is None}
    for option in OPTIONS:
        if option.cli is not None and command in option.commands:
            assert option.cli in flags[option.cli_dest].option_strings, option.name
    for dest in flags:  # record's CHECK_ID arguments are the table's --check
        assert dest in from_table or dest in CLI_ONLY[command], dest


@pytest.mark.parametrize("command", ["run", "record"])
def test_the_cli_declares_its_options_from_the_table(command):
    actions = {a.option_strings[0]: a for a in _subparser(command)._actions if a.option_strings}
    for option in OPTIONS:
        if option.cli is None or command not in option.commands:
            continue
        action = actions[option.cli]
        assert action.dest == option.cli_dest
        assert action.choices == (FEATURES if option.cli == "--feature" else option.choices)
        assert action.type == option.type
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


def test_every_other_option_reaches_the_plugin_with_its_value(tmp_path):
    values = {"--report-dir": str(tmp_path), "--cassettes": str(tmp_path / "c"),
              "--feature": "chat", "--check": "chat.request-shape", "--sdk": "go@3.99.0",
              "--sse-chunking": "fixed:7"}
    assert set(values) == {o.cli for o in OPTIONS if o.cli is not None and not o.live}
    argv = ["run"]
    for flag, value in values.items():
        argv += [flag, value]
    args = cli._parser().parse_args(argv)
    plugin = argparse.ArgumentParser()
    for option in OPTIONS:
        plugin.add_argument(option.name, **option.arguments())
    given = plugin.parse_args(cli._run_args(args, tmp_path / "resolved"))
    for option in OPTIONS:
        if option.cli is None or option.live:
            continue
        typed = str(tmp_path / "resolved") if option.cli == "--report-dir" else values[
            option.cli]
        value = getattr(given, option.dest)
        assert value == ([typed] if option.action == "append" else typed), option.name
    record = cli._parser().parse_args(["record", "chat.request-shape", "--endpoint", "x"])
    assert plugin.parse_args(cli._run_args(record, tmp_path)).conformance_check == [
        "chat.request-shape"]


def test_a_run_without_an_endpoint_passes_no_live_option():
    assert cli._live_args(cli._parser().parse_args(["run", "--budget", "3"])) == []
