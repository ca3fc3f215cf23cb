"""Reports and diffs of a hostile results.json: every field carries HTML, Markdown links and
images, backticks, pipes and newlines, and none of it is live in report.md, diff.md,
report.html or junit.xml. A results.json of the wrong shape, too deep or too large, and a
[tool.aoai-conformance] table of the wrong types are usage errors (exit 2, one line), never a
traceback, and never diff's exit 1 (which means regressions)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from conformance import results as results_module
from conformance.cli import main
from conformance.reports import diff as diff_report
from conformance.reports import html, junit, markdown
from conformance.results import Results, compare

HOSTILE = Path(__file__).parent / "corpus" / "hostile" / "results.json"
# What would be live markup or a live link if a renderer passed it through.
LIVE = [re.compile(p) for p in (r"<script", r"<img", r"(?<!\\)!\[", r"(?<!\\)\]\(",
                                r"<a ", r"<details open", r"\n#+ pwned")]


_FENCED = re.compile(r"^(`{3,})text\n.*?\n\1$", re.DOTALL | re.MULTILINE)


def _live(text: str) -> list[str]:
    """The live markup outside fenced code blocks (a message is shown verbatim in one, where
    Markdown renders nothing); what is inside a fence cannot close it."""
    outside = _FENCED.sub("", text)
    assert "```" not in outside, "a fence was broken out of"
    return [p.pattern for p in LIVE if p.search(outside)]


def test_the_fixture_is_hostile_in_every_field():
    data = json.loads(HOSTILE.read_text())
    for value in (data["sdk"]["name"], data["sdk"]["version"], data["sdk"]["http_library"],
                  data["target"]["endpoint"], data["started_at"], data["checks"][0]["id"],
                  data["checks"][0]["message"], data["checks"][0]["feature"]):
        assert "<script>" in value, value


def test_report_md_escapes_every_field():
    run = Results.load(HOSTILE)
    text = markdown.render(run)
    assert not _live(text), _live(text)
    assert "&lt;script&gt;" in text  # shown, not dropped


def test_diff_md_and_text_escape_every_field():
    before = Results.load(HOSTILE)
    after = Results.load(HOSTILE)
    after.checks[0].observations = {"<script>alert('o')</script>](x) `|": "![i](http://t/p)"}
    after.checks[1].verdict = before.checks[0].verdict
    changes = compare(before, after)
    assert changes
    text = diff_report.markdown(before, after, changes, changes, "any")
    assert not _live(text), _live(text)
    terminal = diff_report.text(before, after, changes, changes, "any")
    assert "\x1b" not in terminal


def test_html_and_junit_stay_escaped():
    run = Results.load(HOSTILE)
    assert "<script>alert" not in html.render([run])
    assert "<script>alert" not in junit.render([run])


def test_the_report_command_writes_escaped_reports(tmp_path, capsys):
    assert main(["report", str(HOSTILE), "--out", str(tmp_path)]) == 0
    assert not _live((tmp_path / "report.md").read_text())
    assert "<script>alert" not in (tmp_path / "report.html").read_text()


WRONG = {
    "started_at a number": lambda d: d.update(started_at=5),
    "duration_s a string": lambda d: d.update(duration_s="long"),
    "duration_s a boolean": lambda d: d.update(duration_s=True),
    "sdk a list": lambda d: d.update(sdk=["x"]),
    "sdk name an object": lambda d: d["sdk"].update(name={"a": 1}),
    "tool a string": lambda d: d.update(tool="x"),
    "checks an object": lambda d: d.update(checks={}),
    "a check's message a list": lambda d: d["checks"][0].update(message=["x"]),
    "a check's cassette a number": lambda d: d["checks"][0].update(cassette=3),
    "a check's id missing": lambda d: d["checks"][0].pop("id"),
    "a verdict unknown": lambda d: d["checks"][0].update(verdict="great"),
}


def _broken(tmp_path: Path, change) -> Path:
    data = json.loads(HOSTILE.read_text())
    change(data)
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    return path


def _one_line_usage_error(capsys, argv: list[str]) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize("wrong", WRONG)
def test_wrong_types_are_one_line_usage_errors(tmp_path, capsys, wrong):
    path = _broken(tmp_path, WRONG[wrong])
    _one_line_usage_error(capsys, ["report", str(path), "--out", str(tmp_path / "out")])
    _one_line_usage_error(capsys, ["diff", str(HOSTILE), str(path)])
    _one_line_usage_error(capsys, ["diff", str(path), str(HOSTILE), "--format", "md"])


def test_a_100000_deep_array_is_refused_not_a_recursion_error(tmp_path, capsys):
    path = tmp_path / "deep.json"
    data = json.loads(HOSTILE.read_text())
    text = json.dumps(data)
    path.write_text(text.replace('"observations": {}', '"observations": {"x": '
                                 + "[" * 100_000 + "]" * 100_000 + "}", 1))
    assert '"x": [[' in path.read_text()
    err = _one_line_usage_error(capsys, ["diff", str(path), str(HOSTILE)])
    assert "nested" in err
    _one_line_usage_error(capsys, ["report", str(path), "--out", "-", "--format", "md"])


def test_moderate_nesting_that_would_overflow_later_is_refused_too(tmp_path, capsys):
    """900 deep parses, but normalise() and the renderers recurse: refused up front."""
    path = tmp_path / "results.json"
    data = json.loads(HOSTILE.read_text())
    text = json.dumps(data).replace('"observations": {}', '"observations": {"x": '
                                    + "[" * 900 + "]" * 900 + "}", 1)
    path.write_text(text)
    _one_line_usage_error(capsys, ["diff", str(path), str(path)])


def test_brackets_inside_strings_do_not_count_as_nesting():
    assert results_module._nesting(b'{"a": "[[[[[[\\"[[[", "b": [{}]}') == 3


def test_an_oversized_results_json_is_refused(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(results_module, "MAX_BYTES", 1000)
    path = tmp_path / "results.json"
    path.write_text(HOSTILE.read_text() + " " * 1000)
    err = _one_line_usage_error(capsys, ["diff", str(path), str(HOSTILE)])
    assert "larger than" in err


@pytest.mark.parametrize("toml", [
    '[tool]\naoai-conformance = "x"\n',
    "[tool.aoai-conformance]\ndeployments = 5\n",
    "tool = 3\n",
    '[tool.aoai-conformance.deployments]\ngpt-4o = ["a"]\n',
])
def test_a_pyproject_table_of_the_wrong_types_is_a_usage_error(tmp_path, capsys, monkeypatch,
                                                              toml):
    (tmp_path / "pyproject.toml").write_text(toml)
    monkeypatch.chdir(tmp_path)
    err = _one_line_usage_error(capsys, ["deployments"])
    assert "pyproject.toml" in err
