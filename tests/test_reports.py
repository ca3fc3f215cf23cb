"""The reports every run writes: report.md (snapshot), junit.xml (read back with junitparser),
report.html (parsed, and rendered in headless Chromium where it is installed)."""

from __future__ import annotations

import json
from html.parser import HTMLParser
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from conformance.cli import main
from conformance.reports import FILES, html, junit, markdown, write_run
from conformance.results import normalised

from .report_sample import LONG, sample

SCRIPTS = Path(__file__).resolve().parent.parent / "scripts"


def test_markdown_report_snapshot(snapshot):
    assert markdown.render(normalised(sample())) == snapshot


def test_markdown_lists_every_problem_with_its_full_message_and_folds_long_ones():
    text = markdown.render(sample())
    assert text.index("### fail (2)") < text.index("### unsupported (1)") < text.index(
        "### Features")
    assert LONG in text  # the whole message, not its first line
    assert "<details><summary>the response breaks the contract:</summary>" in text
    # a message holding a fence gets a longer one; angle brackets in lists are escaped
    assert "````text\nthe SDK raised AttributeError" in text
    assert "Bearer &lt;function get_bearer_token_provider.&lt;locals&gt;.wrapper&gt;" in text
    assert "| chat | 2 | 1 | 1 |" in text


def test_markdown_of_a_clean_run_has_no_problem_sections():
    run = sample()
    run.checks = [c for c in run.checks if c.verdict.value == "pass"]
    text = markdown.render(run)
    assert "**passed**: 3 checks: 3 pass" in text and "### fail" not in text


def test_junit_has_one_testcase_per_check_named_by_id(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(junit.render([sample()]))
    xml = JUnitXml.fromfile(str(path))
    suites = list(xml)
    assert len(suites) == 1
    cases = {case.name: case for case in suites[0]}
    assert set(cases) == {c.id for c in sample().checks}
    assert cases["chat.response-contract"].classname == "chat"
    (failure,) = cases["chat.response-contract"].result
    assert isinstance(failure, Failure)
    assert failure.message == "the response breaks the contract:"
    assert LONG in failure.text
    assert isinstance(cases["errors.status-classes"].result[0], Error)
    assert "\x07" not in cases["errors.status-classes"].result[0].text
    assert [type(r) for r in cases["auth.entra-token-provider"].result] == [Skipped]
    assert cases["auth.entra-token-provider"].result[0].message.startswith("unsupported: ")
    assert isinstance(cases["mcp.tool-config"].result[0], Skipped)
    assert cases["auth.api-key-bearer"].is_passed
    assert (suites[0].tests, suites[0].failures, suites[0].errors, suites[0].skipped) == (
        8, 2, 1, 2)


def test_junit_of_several_runs_names_the_sdk_in_the_classname(tmp_path):
    path = tmp_path / "junit.xml"
    path.write_text(junit.render([sample("2.54.0"), sample("3.57.0")]))
    classes = {case.classname for suite in JUnitXml.fromfile(str(path)) for case in suite}
    assert "chat [openai-python 2.54.0]" in classes and "chat [openai-python 3.57.0]" in classes


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.checks: list[dict[str, str | None]] = []
        self.selects: dict[str, list[str]] = {}
        self._select: str | None = None
        self.external: list[str] = []

    def handle_starttag(self, tag, attrs):
        found = dict(attrs)
        if tag == "tbody" and "check" in (found.get("class") or ""):
            self.checks.append(found)
        if tag == "select":
            self._select = found["id"]
            self.selects[self._select] = []
        if tag == "option" and self._select:
            self.selects[self._select].append(found["value"] or "")
        for name in ("src", "href"):
            if found.get(name):
                self.external.append(found[name] or "")
        if tag == "link":
            self.external.append(str(found))

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def test_html_is_self_contained_with_a_filterable_row_per_check():
    text = html.render([sample("2.54.0"), sample("3.57.0")])
    page = _Page()
    page.feed(text)
    assert page.external == []
    assert len(page.checks) == 16
    assert {c["data-sdk"] for c in page.checks} == {"openai-python 2.54.0",
                                                    "openai-python 3.57.0"}
    assert page.selects["f-verdict"] == ["", "pass", "fail", "unsupported", "skipped", "error"]
    assert page.selects["f-feature"][:3] == ["", "auth", "chat"]
    assert page.selects["f-sdk"] == ["", "openai-python 2.54.0", "openai-python 3.57.0"]
    # each check carries its claim, doc section, observations and full message
    assert "The claim of chat.response-contract | with a pipe" in text
    assert "&quot;violations&quot;" in text and "protected_material_code: missing" in text
    assert "&lt;function get_bearer_token_provider" in text


def test_every_run_writes_all_reports(tmp_path):
    write_run(sample(), tmp_path)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["results.json",
                                                                 *FILES.values()])


def test_report_command_regenerates_and_prints(tmp_path, capsys):
    results = write_run(sample(), tmp_path / "run")
    for name in FILES.values():
        (tmp_path / "run" / name).unlink()
    assert main(["report", str(results)]) == 0
    assert all((tmp_path / "run" / name).is_file() for name in FILES.values())
    capsys.readouterr()
    assert main(["report", str(results.parent), "--format", "md", "--out", "-"]) == 0
    assert capsys.readouterr().out.startswith("## Azure OpenAI v1 conformance: openai-python")
    assert main(["report", str(results), "--format", "junit", "--out", str(tmp_path / "j")]) == 0
    assert (tmp_path / "j" / "junit.xml").is_file()
    assert main(["report", str(results), "--out", "-"]) == 2


def test_report_command_refuses_an_unreadable_file(tmp_path, capsys):
    (tmp_path / "results.json").write_text("{not json")
    assert main(["report", str(tmp_path / "results.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def _screenshot_module():
    import importlib.util

    spec = importlib.util.spec_from_file_location("screenshot_report",
                                                  SCRIPTS / "screenshot_report.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.slow
def test_html_filters_and_expands_in_headless_chromium(tmp_path):
    shots = _screenshot_module()
    if shots.find_chromium() is None:
        pytest.skip("chromium is not installed (apt-get install -y chromium)")
    page = tmp_path / "report.html"
    page.write_text(html.render([sample("2.54.0"), sample("3.57.0")]))
    dom = shots.dump_dom(page, fragment="verdict=fail&sdk=openai-python%203.57.0&open=all")
    parsed = _Page()
    parsed.feed(dom)
    shown = [c for c in parsed.checks if "hidden" not in c]
    assert [(c["data-sdk"], c["data-verdict"]) for c in shown] == [
        ("openai-python 3.57.0", "fail")] * 2
    assert "2 of 16 checks" in dom
    png = tmp_path / "report.png"
    shots.screenshot(page, png, fragment="open=all", size="1200,900")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_chromium_is_kept_on_loopback():
    """Without these, Chromium asks the system resolver for Google hosts at startup (strace):
    every name is 'not found' inside it, and what would still go out meets a closed loopback
    proxy."""
    flags = _screenshot_module().command("chromium", "/tmp/profile")
    assert "--host-resolver-rules=MAP * ~NOTFOUND" in flags
    assert "--proxy-server=http://127.0.0.1:9" in flags
    assert "--disable-background-networking" in flags


def test_the_results_in_a_report_are_scrubbed_again():
    run = sample()
    run.checks[0].message = "sent Authorization: Bearer sk-abcdefghijklmnop1234"
    run.checks[0].observations = {"host": "myresource.openai.azure.com"}
    for text in (markdown.render(run), html.render([run]), junit.render([run])):
        assert "sk-abcdefghijklmnop1234" not in text and "myresource" not in text
    assert json.dumps(run.checks[0].observations)  # the input is left alone
