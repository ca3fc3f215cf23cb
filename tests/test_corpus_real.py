"""The corpus of real exchanges (tests/corpus/real/): every contract rule accepts all of it, its
manifest accounts for every file, and no secret is left in it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from conformance.cassette_check import check_paths
from conformance.cli import main
from conformance.contract import RULES
from conformance.secrets import Scrubber
from conformance.wire import Cassette

CORPUS = Path(__file__).parent / "corpus" / "real"
MANIFEST = yaml.safe_load(
    (CORPUS.parent / "real-manifest.yaml").read_text(encoding="utf-8"))
ENTRIES = {e["file"]: e for e in MANIFEST["files"]}
FILES = sorted(str(p.relative_to(CORPUS)) for p in CORPUS.glob("*/*/*.yaml"))
PERMISSIVE = {"MIT", "Apache-2.0", "BSD-3-Clause", "Apache-2.0 OR BSD-3-Clause"}


def test_every_contract_rule_accepts_every_real_exchange():
    findings = [f for result in check_paths([CORPUS]) for f in result.findings]
    violations = [str(f) for f in findings if not f.warning]
    assert violations == []
    assert {f.rule for f in findings} <= {r.id for r in RULES.values() if r.severity == "warning"}


def test_check_cassettes_exits_0_on_warnings_only(capsys):
    assert main(["check-cassettes", str(CORPUS)]) == 0
    out, err = capsys.readouterr()
    assert "(warning)" in out
    assert " 0 violation(s)" in err


def test_the_corpus_is_large_and_varied_enough():
    assert len(FILES) >= 60
    assert len({e["source"]["repository"] for e in ENTRIES.values()}) >= 6
    assert {e["platform"] for e in ENTRIES.values()} == {"azure", "openai"}


def test_the_manifest_accounts_for_every_file():
    assert sorted(ENTRIES) == FILES
    for name, entry in ENTRIES.items():
        source = entry["source"]
        assert source["repository"].count("/") == 1, name
        assert len(source["commit"]) == 40, name
        assert source["path"] and isinstance(source["interaction"], int), name
        assert entry["licence"] in PERMISSIVE, name
        assert entry["platform"] == name.split("/")[0], name
        assert isinstance(entry["altered"], list) and entry["features"], name


@pytest.mark.parametrize("name", FILES)
def test_one_scrubbed_interaction_per_file(name):
    path = CORPUS / name
    cassette = Cassette.load(path)
    assert len(cassette.interactions) == 1
    request = cassette.interactions[0].request
    assert request.host in ("resource.openai.azure.com", "api.openai.com")  # lower-cased
    assert set(request.headers) <= {"content-type", "accept"}
    text = path.read_text(encoding="utf-8")
    assert Scrubber().text(text) == text  # nothing secret-shaped left
    for needle in ("set-cookie", "openai-organization", "openai-project", "api-key:"):
        assert needle not in text.lower()


def test_the_readme_table_is_current():
    import importlib.util

    script = Path(__file__).parent.parent / "scripts" / "import_corpus.py"
    spec = importlib.util.spec_from_file_location("import_corpus", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    assert module.table(MANIFEST) in (CORPUS / "README.md").read_text(encoding="utf-8")


def test_no_exchange_is_counted_twice():
    bodies = [Cassette.load(CORPUS / name).interactions[0].body for name in FILES]
    assert len(set(bodies)) == len(bodies)
