"""Every YAML read goes through one safe loader: no tag runs code (whatever vcrpy is
installed), alias bombs and recursive aliases are refused at once, files are size-bounded."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tracemalloc
from pathlib import Path

import pytest
import yaml

from conformance.cli import main
from conformance.wire import Cassette, CassetteError, safe_yaml

ROOT = Path(__file__).resolve().parent.parent
CHAT = ROOT / "cassettes" / "chat" / "completion.yaml"


def _evil(tmp_path: Path) -> tuple[Path, Path]:
    """A cassette whose metadata would create ``marker`` if its tag were constructed."""
    marker = tmp_path / "ran"
    text = CHAT.read_text().replace(
        "metadata:\n",
        f"metadata:\n  pwned: !!python/object/apply:os.system ['touch {marker}']\n", 1)
    assert "pwned" in text
    path = tmp_path / "evil.yaml"
    path.write_text(text)
    return path, marker


def _bomb(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for n in range(1, levels):
        lines.append(f"a{n}: &a{n} [" + ",".join([f"*a{n - 1}"] * 9) + "]")
    return "\n".join(lines) + "\n"


def test_a_code_execution_tag_runs_nothing_even_under_an_unsafe_vcrpy(
    tmp_path, capsys, monkeypatch
):
    from vcr.serializers import yamlserializer

    # The worst vcrpy there is: one whose deserializer runs any tag. The project must not care.
    monkeypatch.setattr(yamlserializer, "deserialize",
                        lambda text: yaml.load(text, Loader=yaml.UnsafeLoader))
    path, marker = _evil(tmp_path)
    with pytest.raises(CassetteError, match=r"python/object/apply:os\.system"):
        Cassette.load(path)
    assert main(["check-cassettes", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: not YAML this project reads: could not determine a constructor" in err
    assert not marker.exists()


@pytest.mark.slow
@pytest.mark.network
def test_the_lowest_allowed_vcrpy_runs_no_cassette_tag(tmp_path):
    """Installs the lowest vcrpy pyproject.toml allows (with uv) and loads the cassette in a
    subprocess that imports that vcrpy: with ``vcrpy>=7.0`` this created the marker."""
    uv = shutil.which("uv")
    if uv is None:
        pytest.skip("uv is not on PATH (python3 dev.py test puts it there)")
    pinned = re.search(r'"vcrpy>=([0-9.]+)"', (ROOT / "pyproject.toml").read_text())
    assert pinned, "pyproject.toml must state a lowest vcrpy"
    lowest = pinned.group(1)
    target = tmp_path / "lowest"
    subprocess.run([uv, "pip", "install", "--quiet", "--no-deps", "--target", str(target),
                    f"vcrpy=={lowest}"], check=True, timeout=300)
    path, marker = _evil(tmp_path)
    script = (
        "import sys, vcr\n"
        f"assert vcr.__version__ == {lowest!r}, vcr.__version__\n"
        "from conformance.wire import Cassette, CassetteError\n"
        "from conformance.cli import main\n"
        "try:\n"
        f"    Cassette.load({str(path)!r})\n"
        "except CassetteError as exc:\n"
        "    print('refused:', exc)\n"
        f"sys.exit(main(['check-cassettes', {str(path)!r}]))\n"
    )
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(target), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "refused:" in done.stdout
    assert "Traceback" not in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize("where", ["metadata", "header"])
def test_an_alias_bomb_is_refused_at_once_with_a_clear_message(tmp_path, capsys, where):
    text = CHAT.read_text()
    bomb = "bomb:\n" + "".join(f"  {line}\n" for line in _bomb().splitlines())
    if where == "metadata":
        text = text.replace("metadata:\n", f"{bomb}metadata:\n  violates: *a8\n", 1)
    else:
        text = f"{bomb}{text}".replace("    headers:\n", "    headers:\n      x-bomb: *a8\n")
    path = tmp_path / "bomb.yaml"
    path.write_text(text)
    tracemalloc.start()
    try:
        code = main(["check-cassettes", str(path)])
        with pytest.raises(CassetteError, match="an alias bomb"):
            Cassette.load(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    out, err = capsys.readouterr()
    assert code == 2
    assert f"{path}: the YAML expands to more than 100,000 nodes (an alias bomb, or too " in err
    assert len(out) + len(err) < 1000
    assert peak < 50 * 1024 * 1024


def test_a_recursive_alias_and_deep_nesting_are_refused():
    with pytest.raises(safe_yaml.YamlError, match="recursive structure"):
        safe_yaml.loads("a: &a [1, *a]")
    with pytest.raises(safe_yaml.YamlError) as deep:
        safe_yaml.loads("[" * 100_000 + "]" * 100_000)
    assert deep.value.kind in ("too-complex", "not-yaml")


def test_the_harmless_python_tags_vcrpy_wrote_still_read():
    assert safe_yaml.loads("a: !!python/tuple [1, 2]\nb: !!python/unicode x\n") == {
        "a": (1, 2), "b": "x"}


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "huge.yaml"
    with path.open("wb") as handle:  # sparse: nothing is written
        handle.truncate(safe_yaml.MAX_FILE_BYTES + 1)
    with pytest.raises(CassetteError, match=r"more than the 33,554,432 this project reads") as e:
        Cassette.load(path)
    assert e.value.kind == "too-large"


def test_no_module_reads_yaml_any_other_way():
    """yaml.load/safe_load/vcrpy's deserializer appear nowhere but in the one loader (the
    package, its scripts and benchmarks)."""
    offenders = []
    modules = [*(ROOT / "conformance").rglob("*.py"), *(ROOT / "scripts").rglob("*.py"),
               *(ROOT / "benchmarks").rglob("*.py"), ROOT / "noxfile.py"]
    for module in modules:
        if module.name == "safe_yaml.py":
            continue
        text = module.read_text()
        if re.search(r"yaml\.(safe_)?(load|full_load|unsafe_load)\b|\.deserialize\(|"
                     r"load_cassette\(", text):
            offenders.append(module.name)
    assert offenders == []


def test_a_flood_of_tiny_nodes_is_refused_before_they_are_built():
    text = "[" + "1," * 300_000 + "1]"
    tracemalloc.start()
    try:
        with pytest.raises(safe_yaml.YamlError, match="more than 100,000 nodes"):
            safe_yaml.loads(text)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20 * 1024 * 1024
