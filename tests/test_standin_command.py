"""``aoai-conformance standin``: --list, loopback only, the environment form (-- COMMAND and
--print-env), usage errors."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys

import pytest

from conformance.cli import main
from conformance.standin import SCENARIOS

KEY = "cli-standin-key-0123456789"
# A child that calls the stand-in through the environment it was given, then exits 7.
CHILD = (
    "import json, os, sys, urllib.request\n"
    "request = urllib.request.Request(os.environ['AZURE_OPENAI_BASE_URL'] + 'models',\n"
    "    headers={'api-key': os.environ['AZURE_OPENAI_API_KEY']})\n"
    "assert os.environ['OPENAI_BASE_URL'] == os.environ['AZURE_OPENAI_BASE_URL']\n"
    "print(json.load(urllib.request.urlopen(request))['object'])\n"
    "sys.exit(7)\n"
)


def test_list_names_every_scenario_and_its_source(capsys):
    assert main(["standin", "--list"]) == 0
    out = capsys.readouterr().out
    for scenario in SCENARIOS.values():
        assert f"{scenario.name}" in out and f"from: {scenario.source}" in out
    assert "throttled (first 1 attempt(s), then success)" in out


@pytest.mark.parametrize("host", ["0.0.0.0", "192.168.1.10", "example.com"])
def test_a_host_that_is_not_loopback_is_refused(capsys, host):
    assert main(["standin", "--host", host]) == 2
    assert "loopback only" in capsys.readouterr().err


def test_a_short_key_or_bad_chunking_is_a_usage_error(capsys):
    assert main(["standin", "--key", "short"]) == 2
    assert main(["standin", "--sse-chunking", "sideways"]) == 2
    err = capsys.readouterr().err
    assert "at least 8 characters" in err and "unknown SSE chunking" in err


def test_a_port_in_use_is_a_usage_error(capsys):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        assert main(["standin", "--port", str(port)]) == 2
    assert f"cannot listen on 127.0.0.1:{port}" in capsys.readouterr().err


def test_a_command_runs_with_the_environment_and_its_status_is_the_exit(capfd):
    assert main(["standin", "--key", KEY, "--", sys.executable, "-c", CHILD]) == 7
    assert capfd.readouterr().out.strip() == "list"


def test_a_command_that_cannot_start_exits_127(capsys):
    assert main(["standin", "--", "/nonexistent/aoai-command"]) == 127
    assert "cannot run '/nonexistent/aoai-command'" in capsys.readouterr().err


def test_print_env_prints_the_variables_then_serves_until_terminated():
    with subprocess.Popen(
        [sys.executable, "-m", "conformance", "standin", "--print-env", "--key", KEY],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True) as process:
        serve_and_stop(process)


def serve_and_stop(process):
    try:
        lines = [process.stdout.readline().strip() for _ in range(4)]
        env = dict(line.split("=", 1) for line in lines)
        assert set(env) == {"AZURE_OPENAI_BASE_URL", "AZURE_OPENAI_API_KEY", "OPENAI_BASE_URL",
                            "OPENAI_API_KEY"}
        assert env["AZURE_OPENAI_API_KEY"] == KEY
        assert env["AZURE_OPENAI_BASE_URL"].startswith("http://127.0.0.1:")
        child = subprocess.run([sys.executable, "-c", CHILD], env=env, capture_output=True,
                               text=True, timeout=30)
        assert child.returncode == 7 and json.dumps(child.stdout.strip()) == '"list"'
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=30) == 0
