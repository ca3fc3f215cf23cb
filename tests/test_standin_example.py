"""examples/stream_app: its tests pass against the stand-in through the ``aoai_standin``
fixture, and fail once the app uses the naive stream consumer (the async-filter chunks break
it). The example is run as a user would: its own directory, its own pytest configuration."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parent.parent / "examples" / "stream_app"
FIXED = "consume: Callable[[Iterable[Any]], str] = collect_text)"
NAIVE = "consume: Callable[[Iterable[Any]], str] = collect_text_naive)"


@pytest.fixture
def example(pytester):
    for item in ("app.py", "pyproject.toml", "tests"):
        source = EXAMPLE / item
        if source.is_dir():
            shutil.copytree(source, pytester.path / item)
        else:
            shutil.copy(source, pytester.path / item)
    return pytester


def run(pytester):
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-p", "recording",
                                        "-W", "ignore::pytest.PytestAssertRewriteWarning")


def test_the_example_passes_with_the_fixed_consumer(example):
    outcome = run(example)
    outcome.assert_outcomes(passed=3)


def test_the_naive_consumer_crashes_on_the_async_filter_chunk(example):
    app = example.path / "app.py"
    text = app.read_text()
    assert FIXED in text
    app.write_text(text.replace(FIXED, NAIVE))
    outcome = run(example)
    outcome.assert_outcomes(passed=2, failed=1)
    # An annotation chunk's choice has no delta.
    outcome.stdout.fnmatch_lines([
        "FAILED tests/test_app.py::test_the_async_filter_stream - AttributeError*",
        "*1 failed, 2 passed*"])
    outcome.stdout.fnmatch_lines(["E*AttributeError: 'NoneType' object has no attribute "
                                  "'content'"])


def test_the_plugin_imports_the_standin_only_when_the_fixture_is_used():
    code = ("import sys, conformance.pytest_plugin\n"
            "assert 'conformance.standin' not in sys.modules, 'imported at plugin load'\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr[-500:]


NODE_EXAMPLE = EXAMPLE.parent / "node"


@pytest.mark.drivers
def test_the_node_example_passes_against_the_standin(tmp_path):
    """README's Node example, as written (`aoai-conformance standin -- npm test`), with the
    openai package the JavaScript driver's build installed (no registry needed)."""
    from conformance.drivers.build import cache_root

    builds = sorted(cache_root().glob("javascript-6.49.0-*/node_modules/openai"))
    if shutil.which("npm") is None or not builds:
        pytest.skip("needs npm and a built javascript driver (aoai-conformance run --sdk "
                    "javascript builds it)")
    shutil.copytree(NODE_EXAMPLE, tmp_path / "node")
    (tmp_path / "node" / "node_modules").mkdir()
    (tmp_path / "node" / "node_modules" / "openai").symlink_to(builds[0])
    done = subprocess.run([sys.executable, "-m", "conformance", "standin", "--", "npm", "test"],
                          cwd=tmp_path / "node", capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout[-2000:] + done.stderr[-1000:]
    assert "# pass 3" in done.stdout and "# fail 0" in done.stdout
