"""Every declared contract rule is fired by the table of cases of its family's test module:
each test_contract_<family>.py has ``fired_by_table(reference)``, which runs its cases through
the validator and returns the rules that actually fired (a case whose rule does not fire counts
for nothing)."""

from __future__ import annotations

import importlib
import pkgutil
from pathlib import Path

import conformance.contract as contract

REFERENCE = Path(__file__).parent / "corpus" / "reference"

# Rule id prefix -> the test module that covers it rule by rule.
COVERED = {
    "chat": "test_contract_chat",
    "usage": "test_contract_chat",
    "content-filter": "test_contract_chat",
    "chat-stream": "test_contract_chat_stream",
    "embeddings": "test_contract_embeddings",
    "error": "test_contract_errors",
    "image-input": "test_contract_image_input",
    "mcp": "test_contract_mcp",
    "responses": "test_contract_responses",
    "responses-stream": "test_contract_responses_stream",
}


def test_every_rule_is_fired_by_its_family_table():
    for module in pkgutil.iter_modules(contract.__path__):
        importlib.import_module(f"conformance.contract.{module.name}")
    families = {rule_id.split(".")[0] for rule_id in contract.RULES}
    assert families <= set(COVERED), f"no rule-by-rule test for: {families - set(COVERED)}"
    fired = {name: importlib.import_module(f"tests.{name}").fired_by_table(REFERENCE)
             for name in set(COVERED.values())}
    unfired = sorted(rule_id for rule_id in contract.RULES
                     if rule_id not in fired[COVERED[rule_id.split(".")[0]]])
    assert not unfired, f"declared rules no case fires: {unfired}"
