"""``composer graph`` on the samples and on a cycle: DOT, Mermaid, JSON and SVG."""

from __future__ import annotations

import json
import os
import shutil
import textwrap
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SAMPLES = ROOT / "samples"


def test_the_chain_sample_as_dot_is_the_committed_picture(run_composer: Any) -> None:
    result = run_composer("graph", cwd=SAMPLES / "chain")
    assert result.returncode == 0, result.stderr
    assert result.stdout == (ROOT / "docs" / "chain-graph.dot").read_text()
    assert '"app" -> "migrate" [label="service_completed_successfully"];' in result.stdout
    assert '"worker" [label="worker\\n(x3)"];' in result.stdout


def test_the_chain_sample_as_svg_is_the_readme_picture(run_composer: Any,
                                                       tmp_path: Path) -> None:
    if shutil.which("dot") is None:
        if os.environ.get("CI"):
            pytest.fail("Graphviz's dot is missing in CI (scripts/ensure-tools.sh installs it)")
        pytest.skip("Graphviz's dot is not installed")
    out = tmp_path / "chain.svg"
    result = run_composer("graph", "--format", "svg", "-o", str(out), cwd=SAMPLES / "chain")
    assert result.returncode == 0, result.stderr
    assert out.read_text() == (ROOT / "docs" / "chain-graph.svg").read_text()


def test_mermaid_and_json(run_composer: Any) -> None:
    mermaid = run_composer("graph", "--format", "mermaid", cwd=SAMPLES / "chain")
    assert mermaid.stdout.splitlines()[0] == "flowchart LR"
    assert '  s_migrate -->|"service_healthy"| s_db' in mermaid.stdout.splitlines()
    data = json.loads(run_composer("graph", "--format", "json", cwd=SAMPLES / "chain").stdout)
    assert [n["name"] for n in data["nodes"]] == ["app", "db", "migrate", "worker"]
    assert {"from": "worker", "to": "app", "kind": "depends_on", "condition": "service_healthy",
            "required": True, "restart": False} in data["edges"]


@pytest.mark.parametrize("sample", sorted(p.name for p in SAMPLES.iterdir()
                                          if (p / "compose.yaml").is_file()))
def test_every_sample_draws(run_composer: Any, sample: str) -> None:
    result = run_composer("graph", "--format", "json", cwd=SAMPLES / sample)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["nodes"] and all(e["from"] != e["to"] for e in data["edges"])


def test_implicit_and_optional_dependencies_and_selection(run_composer: Any,
                                                          tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        services:
          db: {image: busybox}
          cache: {image: busybox}
          app:
            image: busybox
            links: [db]
            depends_on: {cache: {condition: service_started, required: false}}
          sidecar: {image: busybox, network_mode: "service:app"}
          other: {image: busybox}
        """))
    dot = run_composer("graph", "sidecar", cwd=tmp_path).stdout
    assert '"app" -> "db" [label="links", style=dotted];' in dot
    assert '"app" -> "cache" [label="service_started (optional)", style=dashed];' in dot
    assert '"sidecar" -> "app" [label="network_mode", style=dotted];' in dot
    assert '"other"' not in dot
    unknown = run_composer("graph", "nope", cwd=tmp_path)
    assert (unknown.returncode, unknown.stderr) == (2, "composer: no such service: nope\n")


def test_a_cycle_is_drawn_then_refused_as_v2_refuses_it(run_composer: Any, run_v2: Any,
                                                        tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text(textwrap.dedent("""\
        services:
          a: {image: busybox, depends_on: [b]}
          b: {image: busybox, depends_on: [c]}
          c: {image: busybox, links: [a]}
          d: {image: busybox, depends_on: [a]}
        """))
    result = run_composer("graph", cwd=tmp_path)
    assert result.returncode == 15
    red = [line for line in result.stdout.splitlines() if "color=red" in line]
    assert [line.split(" [")[0].strip() for line in red] == [
        '"a" -> "b"', '"b" -> "c"', '"c" -> "a"']
    assert '"d" -> "a" [label="service_started"];' in result.stdout
    assert result.stderr == "composer: dependency cycle detected: a -> b -> c -> a\n"
    v2 = run_v2("config", cwd=tmp_path)
    assert v2.returncode != 0 and "dependency cycle detected: a -> b -> c -> a" in v2.stderr
    mermaid = run_composer("graph", "--format", "mermaid", cwd=tmp_path).stdout
    assert "  linkStyle 0,1,2 stroke:red,stroke-width:2px" in mermaid


def test_svg_without_dot_says_what_to_install(run_composer: Any, tmp_path: Path) -> None:
    (tmp_path / "compose.yaml").write_text("services:\n  a: {image: busybox}\n")
    bare = tmp_path / "bin"
    bare.mkdir()
    result = run_composer("graph", "--format", "svg", cwd=tmp_path,
                          env={"PATH": str(bare)})
    assert result.returncode == 1
    assert result.stderr == ("composer: graph --format svg needs Graphviz's dot on PATH "
                             "(Debian: apt-get install graphviz), or use --format "
                             "dot|mermaid|json\n")
