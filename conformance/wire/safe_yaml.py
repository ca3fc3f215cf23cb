"""The one YAML reader of the project: safe tags only, aliases bounded, size bounded.

Cassettes come from pull requests, so a YAML file is hostile input. PyYAML's safe loader
refuses the tags that run code (``!!python/object/apply:...``), whatever vcrpy version is
installed; on top of it this reader refuses files larger than a limit (checked before a byte
is read) and documents that would expand past a node budget (a "billion laughs" bomb
expands 10^9 nodes from a few hundred bytes) or whose aliases refer to themselves. The budget
is counted on libyaml's event stream, before any node is built, so a bomb is refused in
milliseconds and a flood of tiny nodes before it costs memory.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

try:
    from yaml import CSafeLoader as _Base
except ImportError:  # pragma: no cover - PyYAML built without libyaml
    from yaml import SafeLoader as _Base  # type: ignore[assignment]

MAX_FILE_BYTES = 32 * 1024 * 1024
# Nodes a document may expand to, aliases counted at every use: about 1,800 recorded chat
# interactions, read in a few seconds. An alias bomb has billions; a 32 MB file of one-character
# scalars has millions, which PyYAML would take minutes and gigabytes to build.
MAX_EXPANDED_NODES = 100_000


class YamlError(ValueError):
    """A YAML file that cannot be read. ``kind`` says why: ``missing``, ``unreadable``,
    ``too-large``, ``empty``, ``not-yaml`` or ``too-complex``."""

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind


class _Loader(_Base):
    """PyYAML's safe loader (libyaml when available), plus the two harmless Python tags vcrpy
    has written into cassettes (``!!python/unicode``, ``!!python/tuple``) so old cassettes
    still read. Every other ``!!python/...`` tag is an error, never a call."""


def _construct_str(loader: Any, node: yaml.Node) -> Any:
    return loader.construct_scalar(node)


def _construct_tuple(loader: Any, node: yaml.Node) -> Any:
    return tuple(loader.construct_sequence(node))


_Loader.add_constructor("tag:yaml.org,2002:python/str", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:python/unicode", _construct_str)
_Loader.add_constructor("tag:yaml.org,2002:python/tuple", _construct_tuple)


def expanded_size(text: str | bytes, limit: int) -> int:
    """How many nodes the YAML in ``text`` stands for once every alias is expanded, counted
    on the parser's event stream before any node is built; :class:`YamlError` past ``limit``
    (an alias bomb, or simply too many nodes) or on an alias used inside its own anchor."""
    loader = _Loader(text)
    anchors: dict[str, int] = {}
    open_nodes: list[list[Any]] = [[None, 0]]  # [anchor, size so far]; the bottom is the stream
    try:
        while loader.check_event():
            event = loader.get_event()
            if isinstance(event, (yaml.SequenceStartEvent, yaml.MappingStartEvent)):
                open_nodes.append([event.anchor, 1])
                continue
            if isinstance(event, yaml.ScalarEvent):
                size, anchor = 1, event.anchor
            elif isinstance(event, yaml.AliasEvent):
                if event.anchor not in anchors:
                    if any(node[0] == event.anchor for node in open_nodes):
                        raise YamlError("too-complex", "a YAML alias refers to a node that "
                                        "contains it (a recursive structure): refused")
                    continue  # an undefined alias: the parser proper says so
                size, anchor = anchors[event.anchor], None
            elif isinstance(event, (yaml.SequenceEndEvent, yaml.MappingEndEvent)):
                anchor, size = open_nodes.pop()
            else:
                continue
            if anchor is not None:
                anchors[anchor] = size
            open_nodes[-1][1] += size
            if open_nodes[-1][1] > limit or size > limit:
                raise YamlError("too-complex", f"the YAML expands to more than {limit:,} nodes "
                                "(an alias bomb, or too large to read): refused")
    except yaml.YAMLError:
        pass  # reported with its position by the parse proper
    finally:
        loader.dispose()
    return int(open_nodes[0][1])


def loads(text: str | bytes, source: str = "<string>", *,
          max_nodes: int = MAX_EXPANDED_NODES) -> Any:
    """Parse one YAML document safely; :class:`YamlError` (``not-yaml``, ``too-complex``)
    with ``source`` in the message when it cannot be."""
    try:
        expanded_size(text, max_nodes)
    except YamlError as exc:
        raise YamlError(exc.kind, f"{source}: {exc}") from None
    except RecursionError:
        raise YamlError("too-complex", f"{source}: the YAML is nested too deeply") from None
    loader = _Loader(text)
    try:
        return loader.get_single_data()
    except YamlError as exc:
        raise YamlError(exc.kind, f"{source}: {exc}") from None
    except yaml.YAMLError as exc:
        raise YamlError("not-yaml", f"{source}: not YAML this project reads: "
                        f"{_one_line(exc)}") from None
    except RecursionError:
        raise YamlError("too-complex", f"{source}: the YAML is nested too deeply") from None
    finally:
        loader.dispose()


def load_file(path: str | Path, *, max_bytes: int = MAX_FILE_BYTES,
              max_nodes: int = MAX_EXPANDED_NODES) -> Any:
    """Read and parse a YAML file; :class:`YamlError` says which of missing, unreadable,
    too large, empty or not YAML it is."""
    path = Path(path)
    try:
        size = path.stat().st_size
    except FileNotFoundError:
        raise YamlError("missing", f"{path}: no such file") from None
    except OSError as exc:
        raise YamlError("unreadable", f"{path}: cannot read: {exc.strerror or exc}") from None
    if path.is_dir():
        raise YamlError("unreadable", f"{path}: a folder, not a file")
    if size > max_bytes:
        raise YamlError("too-large", f"{path}: {size:,} bytes, more than the {max_bytes:,} "
                        "this project reads from one YAML file: refused")
    try:
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise YamlError("unreadable", f"{path}: cannot read: {exc.strerror or exc}") from None
    if len(raw) > max_bytes:  # grew since stat, or a device
        raise YamlError("too-large", f"{path}: more than the {max_bytes:,} bytes this "
                        "project reads from one YAML file: refused")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise YamlError("not-yaml", f"{path}: not YAML (not UTF-8 text: {exc.reason} at "
                        f"byte {exc.start})") from None
    if not text.strip():
        raise YamlError("empty", f"{path}: empty file")
    data = loads(text, str(path), max_nodes=max_nodes)
    if data is None:
        raise YamlError("empty", f"{path}: empty YAML document (only comments)")
    return data


def _one_line(exc: yaml.YAMLError) -> str:
    return " ".join(str(exc).split())[:300]
