"""Every command in the README's ``sh`` blocks runs as written: each ``aoai-conformance`` line
parses with the CLI's own parser and names paths that exist, each ``python3 dev.py`` line
reaches a nox session with its arguments intact, the cheap ones are run for real, and facts
that age are dated. README drift fails here, not on a new user's machine."""

from __future__ import annotations

import ast
import importlib.util
import re
import shlex
import subprocess
from pathlib import Path
from typing import Any

import pytest

from conformance import cli, paths, sweep
from conformance.cli import _parser, main

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
# Words that stand for the reader's own values.
PLACEHOLDER = re.compile(r"\b(RESOURCE|OLD|NEW|DIR|OWNER|TAG|CHECK|URL|A|B)\b|\.\.\.")
# Commands that install or sign in: not this project's to run.
FOREIGN = ("export ", "az ", "pip ", "pipx ", "uv ")


def commands(program: str) -> list[list[str]]:
    """The README's ``sh``-block lines that run ``program``, comments and ``[optional]``
    brackets dropped (the optional arguments kept)."""
    found = []
    for block in re.findall(r"```sh\n(.*?)```", README, re.S):
        for line in block.splitlines():
            text = line.split(" # ")[0].split("  #")[0].strip()
            if not text or text.startswith(FOREIGN):
                continue
            argv = shlex.split(text.replace("[", "").replace("]", ""))
            if (argv[: len(program.split())] == program.split()
                    and argv[len(program.split()):] not in found):
                found.append(argv[len(program.split()):])
    return found


CLI = commands("aoai-conformance")
DEV = commands("python3 dev.py")


def _dev_module() -> Any:
    spec = importlib.util.spec_from_file_location("dev", ROOT / "dev.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _nox_sessions() -> set[str]:
    tree = ast.parse((ROOT / "noxfile.py").read_text())
    names = set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                target = decorator.func if isinstance(decorator, ast.Call) else decorator
                if ast.unparse(target) == "nox.session":
                    named = [k.value for k in getattr(decorator, "keywords", [])
                             if k.arg == "name" and isinstance(k.value, ast.Constant)]
                    names.add(str(named[0].value) if named else node.name)
    return names


def test_the_readme_has_the_commands_this_test_reads():
    assert len(CLI) >= 15 and len(DEV) >= 6
    assert ["run"] in DEV and ["test"] in DEV  # the Quick start


@pytest.mark.parametrize("argv", CLI, ids=" ".join)
def test_every_aoai_conformance_command_parses_and_names_paths_that_exist(argv):
    args = _parser().parse_args(argv)  # SystemExit (argparse's error) fails the test
    # What the command writes need not exist yet; what it reads must.
    outputs = {"--report-dir", "--out", "--env-dir"} | ({"--cassettes"} if argv[0] == "record"
                                                        else set())
    for before, value in zip(["", *argv[:-1]], argv, strict=True):
        if ("/" in value and not value.startswith(("http", "-")) and before not in outputs
                and not PLACEHOLDER.search(value)):
            assert (ROOT / value).exists(), f"{' '.join(argv)}: {value} does not exist"
    if args.command == "record":
        assert args.cassettes, "an installed CLI refuses to record without --cassettes"


@pytest.mark.parametrize("argv", [a for a in CLI if a[0] == "record"], ids=" ".join)
def test_the_record_examples_work_with_an_installed_cli(argv, monkeypatch, tmp_path):
    # Installed, the package's cassettes live in site-packages/conformance/cassettes.
    monkeypatch.setattr(paths, "cassette_root",
                        lambda: tmp_path / "site-packages" / "conformance" / "cassettes")
    ran: list[Any] = []
    monkeypatch.setattr(cli, "run", lambda args, extra=(): ran.append((args, extra)) or 0)
    assert main(argv) == 0
    assert ran and ran[0][1] == ["--conformance-record"]


@pytest.mark.parametrize("argv", DEV, ids=" ".join)
def test_every_dev_py_command_reaches_a_nox_session_with_its_arguments(argv, monkeypatch):
    dev = _dev_module()
    called: list[list[str]] = []
    monkeypatch.setattr(dev, "_bootstrap", lambda: None)
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: (
        called.append(command), subprocess.CompletedProcess(command, 0))[1])
    assert dev.main(list(argv)) == 0
    nox = called[0]
    session = nox[nox.index("-s") + 1]
    assert session in _nox_sessions(), f"dev.py {' '.join(argv)}: no nox session {session!r}"
    posargs = nox[nox.index("--") + 1:] if "--" in nox else []
    assert "--" not in posargs, f"dev.py {' '.join(argv)} passes `--` on as an argument"
    assert posargs == [a for a in argv[1:] if a != "--"]


def test_dev_py_passes_a_leading_double_dash_through_as_nox_wants_it(monkeypatch):
    dev = _dev_module()
    called: list[list[str]] = []
    monkeypatch.setattr(dev, "_bootstrap", lambda: None)
    monkeypatch.setattr(dev.subprocess, "run", lambda command, **kwargs: (
        called.append(command), subprocess.CompletedProcess(command, 0))[1])
    for argv in (["sweep", "--", "1.0.0", "1.45.1"], ["sweep", "1.0.0", "1.45.1"]):
        called.clear()
        dev.main(argv)
        assert called[0][-4:] == ["sweep", "--", "1.0.0", "1.45.1"], called[0]
    called.clear()
    dev.main(["-R", "test", "--", "-k", "x"])
    assert called[0][-6:] == ["-R", "-s", "tests", "--", "-k", "x"]


def test_the_noxfile_docstrings_forms_reach_their_sessions():
    # ``nox -s NAME -- ARGS`` in the noxfile's docstrings names a session that exists.
    text = (ROOT / "noxfile.py").read_text()
    named = set(re.findall(r"nox -s (\w+)", text))
    assert named and named <= _nox_sessions()


@pytest.mark.parametrize("argv", [["list"], ["deployments"],
                                  ["scan-secrets", "cassettes/", "tests/corpus/real/"],
                                  ["check-cassettes", "tests/corpus/real/"]],
                         ids=" ".join)
def test_the_cheap_commands_run_as_written_and_exit_0(argv, monkeypatch, capsys):
    assert argv in CLI or argv[0] in ("list", "deployments")
    monkeypatch.chdir(ROOT)
    assert main(argv) == 0, capsys.readouterr()


def test_facts_that_age_are_dated_or_generated():
    # "the newest" release changes without a commit here: said with the day it was true.
    for match in re.finditer(r"the newest\b[^.\n]*", README):
        sentence = README[max(0, match.start() - 200): match.end() + 80]
        assert re.search(r"\d{4}-\d{2}-\d{2}", sentence), f"undated: ...{match.group(0)}"
    counted = re.search(r"`conformance\.sweep\.RELEASES`: (\d+)", README)
    assert counted is not None and int(counted.group(1)) == len(sweep.RELEASES)
    assert "tests/cassettes" not in README  # no such folder here
