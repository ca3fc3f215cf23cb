"""Every declared contract rule belongs to a family whose test module feeds each of its rules
a violating payload (see the `test_every_*` test in each test_contract_<family>.py)."""

from __future__ import annotations

import importlib
import pkgutil

import conformance.contract as contract

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


def test_every_rule_family_has_a_rule_by_rule_test():
    for module in pkgutil.iter_modules(contract.__path__):
        importlib.import_module(f"conformance.contract.{module.name}")
    families = {rule_id.split(".")[0] for rule_id in contract.RULES}
    assert families <= set(COVERED), f"no rule-by-rule test for: {families - set(COVERED)}"
    for name in set(COVERED.values()):
        tests = importlib.import_module(f"tests.{name}")
        assert any(n.startswith("test_every") for n in dir(tests)), name
