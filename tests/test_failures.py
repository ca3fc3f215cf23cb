"""The failure-table runner (tests/failures.py): a row passes only when its check fails for its
SDK with its phrase, a lacking entry only when its check is unsupported there; rows and entries
of one case and SDK share a run, with the checks it judges too."""

from __future__ import annotations

import pytest

from .failures import LACKING, NO_TOOLCHAIN, ROWS, caught, lacking_of, rows_of, run_case


def usage_does_not_add_up(suite, monkeypatch):
    suite.edit_json("chat/completion.yaml", 0, lambda body: body["usage"].update(total_tokens=99))


def nothing_broken(suite, monkeypatch):
    pass


CAUGHT = [
    (usage_does_not_add_up, "chat.response-contract", "python", "usage.total"),
]
test_caught = caught(CAUGHT)


def test_a_table_test_carries_its_rows():
    import sys

    assert getattr(test_caught, ROWS) == tuple(CAUGHT)
    assert getattr(test_caught, LACKING) == ()
    assert rows_of(sys.modules[__name__]) == CAUGHT
    assert lacking_of(sys.modules[__name__]) == []


def test_rows_of_one_case_and_sdk_share_a_parametrization():
    test = caught([(usage_does_not_add_up, "chat.response-contract", "python", ""),
                   (usage_does_not_add_up, "chat.request-shape", "python", ""),
                   (usage_does_not_add_up, "chat.response-contract", "go", "")])
    [mark] = test.pytestmark
    ids = [p.id for p in mark.args[1]]
    assert ids == ["usage_does_not_add_up[python]", "usage_does_not_add_up[go]"]
    assert [m.name for m in mark.args[1][1].marks] == ["drivers"]


def test_a_case_without_a_toolchain_is_not_marked_drivers():
    def stand_in(suite, monkeypatch):
        pass

    setattr(stand_in, NO_TOOLCHAIN, True)
    [mark] = caught([(stand_in, "chat.response-contract", "go", "")]).pytestmark
    assert [p.marks for p in mark.args[1]] == [()]


def test_a_malformed_row_is_refused():
    with pytest.raises(TypeError, match="case, check id, sdk, phrase"):
        caught([("chat.response-contract", "python", "")])  # type: ignore[list-item]


def test_a_row_whose_check_passes_fails_the_test(suite, monkeypatch):
    with pytest.raises(AssertionError, match="is pass, not fail"):
        run_case(suite, monkeypatch, nothing_broken, "python",
                 [("chat.response-contract", "")])


def test_a_row_whose_phrase_is_missing_fails_the_test(suite, monkeypatch):
    with pytest.raises(AssertionError, match="is fail, but without 'no such phrase'"):
        run_case(suite, monkeypatch, usage_does_not_add_up, "python",
                 [("chat.response-contract", "no such phrase")])


def test_lacking_entries_join_their_case_and_sdk_run_and_are_read():
    lacking = [(usage_does_not_add_up, "streaming.async-doc-loop-text", "go", "no async client")]
    test = caught([(usage_does_not_add_up, "chat.response-contract", "go", "")],
                  lacking=lacking, judged_too=["chat.request-shape"])
    assert getattr(test, LACKING) == tuple(lacking)
    [mark] = test.pytestmark
    [param] = mark.args[1]
    assert param.id == "usage_does_not_add_up[go]"
    assert param.values[2:] == ([("chat.response-contract", "")],
                                [("streaming.async-doc-loop-text", "no async client")])


def test_a_lacking_entry_whose_check_is_supported_fails_the_test(suite, monkeypatch):
    with pytest.raises(AssertionError, match="is pass, not unsupported"):
        run_case(suite, monkeypatch, nothing_broken, "python", [],
                 [("chat.response-contract", "")])


def test_a_check_judged_too_shares_the_run_and_need_not_fail(suite, monkeypatch):
    run_case(suite, monkeypatch, usage_does_not_add_up, "python",
             [("chat.response-contract", "usage.total")], judged_too=["chat.request-shape"])
