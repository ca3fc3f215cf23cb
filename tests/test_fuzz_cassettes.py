"""A structure-aware fuzzer over cassettes: packaged cassettes with a type swapped at any node,
control characters in any string, keys dropped, strings grown, shared nodes (YAML aliases, up
to alias bombs), and text cut or spliced.

For every mutant, ``check-cassettes`` exits 0, 1 or 2 without a traceback, within bounded CPU
time, memory and output; and replay agrees with it: a cassette it reports as unreadable or
defective is refused by :meth:`Cassette.load` (so the check is an ``error``), and whatever
replay accepts can go on the wire as it is.

Profiles (tests/conftest.py): ``ci`` (derandomized, every test run) and ``deep``
(``HYPOTHESIS_PROFILE=deep``, ``nox -s fuzz``). Cases ``deep`` finds are pinned with @example.
"""

from __future__ import annotations

import contextlib
import io
import time
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from conformance.cli import main
from conformance.wire import Cassette, CassetteError, Replay, safe_yaml, validation
from conformance.wire.server import unsendable

pytestmark = pytest.mark.fuzz

ROOT = Path(__file__).resolve().parent.parent / "cassettes"
SEEDS = ["chat/completion.yaml", "errors/azure-envelope.yaml", "streaming/chat-buffered.yaml",
         "embeddings/encodings.yaml"]
BASE = {name: safe_yaml.load_file(ROOT / name) for name in SEEDS}
# Findings that mean "replay must refuse this cassette".
DEFECT_RULES = {validation.STRUCTURE, validation.HEADER, validation.STATUS, validation.SIZE}

DUMPER = getattr(yaml, "CSafeDumper", yaml.SafeDumper)
MAX_CPU_S = 10.0  # a bound, not a speed goal: hostile input must not run away
MAX_PEAK_BYTES = 300 * 1024 * 1024
MAX_OUTPUT = 200_000

SWAPS = st.sampled_from([
    None, True, 0, -1, 99, 600, 2**70, 1.5, "", "x", "a\r\nInjected: 1", "\x00", "\u2603",
    [], {}, [1], {"a": 1}, [None], {"string": 1}, b"\x1f\x8b\x08junk", b"",
])
CONTROL = st.sampled_from(["\r", "\n", "\r\n", "\x00", "\x1b", "\x7f", "\x0b", "\u2028",
                           "\ud800"])


def _paths(node: Any, here: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    found = [here]
    if isinstance(node, dict):
        for key, value in node.items():
            found += _paths(value, (*here, key))
    elif isinstance(node, list):
        for n, value in enumerate(node):
            found += _paths(value, (*here, n))
    return found


def _get(node: Any, path: tuple[Any, ...]) -> Any:
    for step in path:
        node = node[step]
    return node


def _set(node: Any, path: tuple[Any, ...], value: Any) -> Any:
    if not path:
        return value
    _get(node, path[:-1])[path[-1]] = value
    return node


def _lol(depth: int, leaf: Any) -> Any:
    """A node shared nine times at each of ``depth`` levels: YAML anchors and aliases."""
    node = [leaf] * 9
    for _ in range(depth - 1):
        node = [node] * 9
    return node


def mutate(draw: st.DrawFn, doc: Any, kind: str) -> Any:
    """``doc`` (a fresh copy, changed in place) with one mutation of ``kind``."""
    path = draw(st.sampled_from(_paths(doc)))
    current = _get(doc, path)
    if kind == "swap":
        return _set(doc, path, draw(SWAPS))
    if kind == "control" and isinstance(current, str):
        at = draw(st.integers(0, len(current)))
        return _set(doc, path, current[:at] + draw(CONTROL) + current[at:])
    if kind == "drop" and path:
        parent = _get(doc, path[:-1])
        del parent[path[-1]]
        return doc
    if kind == "grow":
        size = draw(st.sampled_from([1_000, 70_000, 1_000_000]))
        return _set(doc, path, "x" * size if draw(st.booleans()) else ["x"] * (size // 1000))
    if kind == "alias":
        return _set(doc, path, _lol(draw(st.integers(1, 9)), current))
    return doc


@st.composite
def cassettes(draw: st.DrawFn) -> bytes:
    doc = BASE[draw(st.sampled_from(SEEDS))]
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["swap", "control", "drop", "grow"]))
        doc = mutate(draw, copy_of(doc), kind)
    if draw(st.booleans()):  # last: shared nodes are not walked again
        doc = mutate(draw, copy_of(doc), "alias")
    try:
        dumped = yaml.dump(doc, Dumper=DUMPER, allow_unicode=True, width=120)
        text = dumped.encode("utf-8", "surrogatepass")
    except (yaml.YAMLError, UnicodeEncodeError):
        text = yaml.dump(doc, Dumper=yaml.SafeDumper).encode()  # escapes lone surrogates
    cut = draw(st.sampled_from(["none", "none", "none", "truncate", "splice"]))
    if cut == "truncate":
        text = text[: draw(st.integers(0, len(text)))]
    elif cut == "splice":
        at = draw(st.integers(0, len(text)))
        text = text[:at] + draw(st.sampled_from([b"\xff", b": : :", b"&a *a", b"\t", b"!!python/"
                                                 b"object/apply:os.system ['true']"])) + text[at:]
    return text


def copy_of(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: copy_of(v) for k, v in value.items()}
    if isinstance(value, list):
        return [copy_of(v) for v in value]
    return value


def _check(path: Path) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["check-cassettes", str(path)])
    return code, out.getvalue(), err.getvalue()


@settings(max_examples=min(settings.default.max_examples, 100)  # ci: keep it quick
          if settings.default.max_examples <= 200 else settings.default.max_examples,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(text=cassettes())
@example(text=(ROOT / "chat" / "completion.yaml").read_bytes().replace(b"code: 200",
                                                                       b"code: [200]"))
@example(text=b"interactions:\n- request: {method: POST, uri: x, headers: {a: []}}\n"
              b"  response: {status: {code: 200}}\n")
@example(text=(ROOT / "chat" / "completion.yaml").read_bytes().replace(  # found by deep
    b"  response:\n    body:\n      string:", b"  response:\n    body: null\n    x:"))
@example(text=b"interactions:\n- request: {method: GET, uri: x, body: null, headers: null}\n"
              b"  response: {status: {code: 204}, headers: null, body: null}\n")
def test_any_cassette_gets_an_exit_code_a_message_and_agreeing_replay(tmp_path_factory, text):
    path = tmp_path_factory.mktemp("fuzz") / "mutant.yaml"
    path.write_bytes(text)
    tracemalloc.start()
    started = time.process_time()
    try:
        code, out, err = _check(path)
        try:
            cassette: Cassette | None = Cassette.load(path)
        except CassetteError:
            cassette = None
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert time.process_time() - started < MAX_CPU_S
    assert peak < MAX_PEAK_BYTES
    assert code in (0, 1, 2)
    assert "Traceback" not in err and len(out) + len(err) < MAX_OUTPUT
    assert "a bug in this tool" not in err, err  # the last-resort catch must never be needed
    assert err.rstrip().splitlines()[-1].startswith("aoai-conformance: "), err  # the summary
    unreadable = f"{path}: " in err
    rules = {line.split(" ")[1] for line in out.splitlines() if line.startswith(f"{path}:")}
    if cassette is None:
        assert unreadable or rules & (DEFECT_RULES | {validation.UNDECODABLE}), (out, err)
        assert code in (1, 2)
        return
    assert not unreadable and not rules & DEFECT_RULES, (out, err)
    replay = Replay(cassette)
    for interaction in cassette.interactions:
        assert unsendable(replay.reply(interaction)) is None


SINGLE_NODE_SWAPS = [None, 1, "x", [], {}]


@pytest.mark.parametrize(("name", "swaps"), [("chat/completion.yaml", SINGLE_NODE_SWAPS),
                                             ("errors/azure-envelope.yaml", [[]])])
def test_every_single_node_type_mutant_is_judged_without_a_traceback(tmp_path, name, swaps):
    """Every node of the chat and errors cassettes swapped for each basic YAML type (where
    check-cassettes used to traceback on 12 of 175 and 84 of 785 mutants), each through
    check-cassettes and replay's loader."""
    base = BASE.get(name) or safe_yaml.load_file(ROOT / name)
    path = tmp_path / "mutant.yaml"
    outcomes: dict[int, int] = {}
    for node in _paths(base)[1:]:
        for value in swaps:
            doc = _set(copy_of(base), node, value)
            path.write_text(yaml.dump(doc, Dumper=DUMPER))
            code, out, err = _check(path)
            assert code in (0, 1, 2) and "Traceback" not in err, (node, value, err)
            assert err.rstrip().splitlines()[-1].startswith("aoai-conformance: ")
            outcomes[code] = outcomes.get(code, 0) + 1
            try:
                cassette = Cassette.load(path)
            except CassetteError:
                assert code in (1, 2), (node, value, out, err)
                continue
            for interaction in cassette.interactions:
                assert unsendable(Replay(cassette).reply(interaction)) is None
    assert set(outcomes) - {0}  # the mutants did break something
