"""``composer graph``: the services and their dependencies as DOT, Mermaid, JSON
or an SVG picture (through Graphviz's ``dot``).

Edges run from a service to what it needs, labelled with their condition;
``required: false`` edges are dashed, implicit ones (``links``, ``network_mode``,
``ipc``, ``pid``, ``volumes_from``) dotted and named after their key. A
dependency cycle, which ``up`` and ``config`` refuse, is drawn (its edges red,
``"cycle": true`` in JSON) and then refused in one line, exit 15.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
from typing import Any

from composer.errors import ComposerError, UsageError

FORMATS = ("dot", "mermaid", "json", "svg")
_STARTED = "service_started"


def register(sub: Any) -> None:
    p = sub.add_parser("graph", help="draw the services and their dependencies")
    p.add_argument("services", nargs="*", metavar="SERVICE",
                   help="only these services and what they need")
    p.add_argument("--format", choices=FORMATS, default="dot",
                   help="dot (default), mermaid, json, or svg (needs Graphviz's dot)")
    p.add_argument("-o", "--output", metavar="FILE", help="write to FILE, not stdout")
    p.set_defaults(func=run)


def _edge_label(attrs: dict[str, Any]) -> str:
    if attrs["kind"] != "depends_on":
        return str(attrs["kind"])
    label = str(attrs["condition"])
    return label if attrs["required"] else f"{label} (optional)"


def render_dot(graph: Any) -> str:
    lines = [f"digraph {json.dumps(graph.graph.get('name') or 'project')} {{",
             "  rankdir=LR;", '  node [shape=box, style=rounded, fontname="Helvetica"];',
             '  edge [fontname="Helvetica", fontsize=10];']
    for name, attrs in sorted(graph.nodes(data=True)):
        extra = []
        if attrs.get("healthcheck"):
            extra.append("healthcheck")
        if attrs.get("replicas", 1) != 1:
            extra.append(f"x{attrs['replicas']}")
        label = name + (f"\\n({', '.join(extra)})" if extra else "")
        style = ', style="rounded,dashed"' if attrs.get("missing") else ""
        lines.append(f'  {json.dumps(name)} [label="{label}"{style}];')
    for u, v, attrs in sorted(graph.edges(data=True)):
        props = [f"label={json.dumps(_edge_label(attrs))}"]
        if attrs["kind"] != "depends_on":
            props.append("style=dotted")
        elif not attrs["required"]:
            props.append("style=dashed")
        if attrs.get("cycle"):
            props.append("color=red, fontcolor=red, penwidth=2")
        lines.append(f"  {json.dumps(u)} -> {json.dumps(v)} [{', '.join(props)}];")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_id(name: str) -> str:
    return "s_" + "".join(c if c.isalnum() else "_" for c in name)


def render_mermaid(graph: Any) -> str:
    lines = ["flowchart LR"]
    for name, attrs in sorted(graph.nodes(data=True)):
        extra = " (healthcheck)" if attrs.get("healthcheck") else ""
        lines.append(f'  {_mermaid_id(name)}["{name}{extra}"]')
    red: list[int] = []
    for index, (u, v, attrs) in enumerate(sorted(graph.edges(data=True))):
        label = _edge_label(attrs)
        arrow = "-->" if attrs["kind"] == "depends_on" and attrs["required"] else "-.->"
        lines.append(f'  {_mermaid_id(u)} {arrow}|"{label}"| {_mermaid_id(v)}')
        if attrs.get("cycle"):
            red.append(index)
    if red:
        lines.append(f"  linkStyle {','.join(map(str, red))} stroke:red,stroke-width:2px")
    return "\n".join(lines) + "\n"


def render_json(graph: Any) -> str:
    nodes = [{"name": name, **{k: list(v) if isinstance(v, tuple) else v
                               for k, v in sorted(attrs.items())}}
             for name, attrs in sorted(graph.nodes(data=True))]
    edges = [{"from": u, "to": v, **dict(sorted(attrs.items()))}
             for u, v, attrs in sorted(graph.edges(data=True))]
    return json.dumps({"name": graph.graph.get("name"), "nodes": nodes, "edges": edges},
                      indent=2) + "\n"


def render_svg(graph: Any) -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise ComposerError("graph --format svg needs Graphviz's dot on PATH (Debian: "
                            "apt-get install graphviz), or use --format dot|mermaid|json")
    out = subprocess.run([dot, "-Tsvg"], input=render_dot(graph), capture_output=True,
                         text=True)
    if out.returncode != 0:
        raise ComposerError(f"dot failed: {out.stderr.strip().splitlines()[-1:]}")
    return out.stdout


def select(graph: Any, services: list[str]) -> Any:
    """The named services and everything they need (transitively)."""
    import networkx

    unknown = [s for s in services if s not in graph]
    if unknown:
        raise UsageError(f"no such service: {unknown[0]}")
    if not services:
        return graph
    keep = set(services)
    for name in services:
        keep |= networkx.descendants(graph, name)
    return graph.subgraph(keep).copy()


def run(args: argparse.Namespace) -> int:
    import dataclasses

    import networkx

    from composer.api.graph import project_graph
    from composer.cli.options import load_options
    from composer.config.loader import load_project
    from composer.graph import build_graph, start_order

    # Loaded without the consistency checks so a cycle can be drawn before it is
    # refused; the order below refuses it, with up's words.
    options = dataclasses.replace(load_options(args), consistency=False)
    project = load_project(options)
    graph = select(project_graph(project.model), list(args.services))
    cycle_error: ComposerError | None = None
    try:
        networkx.find_cycle(graph)
    except networkx.NetworkXNoCycle:
        pass
    else:
        for component in networkx.strongly_connected_components(graph):
            if len(component) > 1 or any(graph.has_edge(n, n) for n in component):
                for u, v in graph.subgraph(component).edges():
                    graph.edges[u, v]["cycle"] = True
        try:
            start_order(build_graph(project.model))
        except ComposerError as exc:
            cycle_error = exc
    text = {"dot": render_dot, "mermaid": render_mermaid, "json": render_json,
            "svg": render_svg}[args.format](graph)
    if args.output:
        with open(args.output, "w") as handle:
            handle.write(text)
    else:
        sys.stdout.write(text)
    if cycle_error is not None:
        raise cycle_error
    return 0
