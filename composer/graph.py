"""The service graph: who depends on whom, in which order to start and stop.

An edge ``u -> v`` means "service ``u`` depends on service ``v``" (``v`` must be
up before ``u``). Edges come from ``depends_on`` and, as Docker Compose v2 does,
from the attributes that imply a dependency: ``network_mode``, ``ipc`` and
``pid`` set to ``service:NAME``, ``links`` (``NAME`` or ``NAME:ALIAS``) and
``volumes_from`` (``NAME`` or ``NAME:MODE``; ``container:...`` names a container,
not a service). An explicit ``depends_on`` entry keeps its own attributes.

The graph is a small class of our own, :class:`ServiceGraph`, with the part of
networkx's ``DiGraph`` interface the planner reads. networkx did this job until its
import (about 0.1 s, a third of an engine command's start-up) showed up as the
largest single cost of every ``up``/``down``; the orders it computed are now the
test oracle for ours (tests/unit/test_graph.py). See docs/architecture.md.
"""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, overload

from composer.errors import ValidationError
from composer.model.conditions import SERVICE_STARTED

if TYPE_CHECKING:
    from composer.model.project import Project, ServiceConfig

SERVICE_PREFIX = "service:"
CONTAINER_PREFIX = "container:"

# What Docker Compose v2 records for a dependency nobody spelled out.
_STARTED = SERVICE_STARTED


def _explicit(depends_on: Any) -> dict[str, dict[str, Any]]:
    """``depends_on`` as ``{name: {condition, required, restart}}`` (list or mapping form)."""
    out: dict[str, dict[str, Any]] = {}
    if isinstance(depends_on, dict):
        for name, spec in depends_on.items():
            spec = spec if isinstance(spec, dict) else {}
            out[str(name)] = {
                "condition": spec.get("condition") or _STARTED,
                "required": spec.get("required", True) is not False,
                "restart": spec.get("restart") is True,
            }
    elif isinstance(depends_on, list):
        for name in depends_on:
            if isinstance(name, str):
                out[name] = {"condition": _STARTED, "required": True, "restart": False}
    return out


def implicit_dependencies(service: Mapping[str, Any]) -> dict[str, bool]:
    """Services a service needs without saying ``depends_on``: name -> ``restart``.

    ``restart`` is what v2 records: true for shared namespaces and links (the
    dependent must follow its dependency's restarts), false for ``volumes_from``.
    """
    out: dict[str, bool] = {}
    for key in ("network_mode", "ipc", "pid"):
        value = service.get(key)
        if isinstance(value, str) and value.startswith(SERVICE_PREFIX):
            out.setdefault(value[len(SERVICE_PREFIX):], True)
    for link in service.get("links") or ():
        if isinstance(link, str):
            out.setdefault(link.split(":", 1)[0], True)
    for source in service.get("volumes_from") or ():
        # v2 takes everything before the first colon as the service name, so
        # "service:x" names a service called "service"; we keep that verdict.
        if isinstance(source, str) and not source.startswith(CONTAINER_PREFIX):
            out.setdefault(source.split(":", 1)[0], False)
    return out


def service_dependencies(service: Mapping[str, Any] | ServiceConfig
                         ) -> dict[str, dict[str, Any]]:
    """Every dependency of one service: name -> ``{condition, required, restart}``.

    ``service`` is the model's :class:`~composer.model.project.ServiceConfig`, or
    (for the loader's checks, before there is a model) a service mapping.
    Explicit ``depends_on`` entries win; implicit ones (see module docstring) are
    ``service_started``, required.
    """
    if not isinstance(service, Mapping):
        return _model_dependencies(service)
    deps = _explicit(service.get("depends_on"))
    for name, restart in implicit_dependencies(service).items():
        if name not in deps:
            deps[name] = {"condition": _STARTED, "required": True, "restart": restart}
    return deps


def _model_dependencies(service: ServiceConfig) -> dict[str, dict[str, Any]]:
    deps: dict[str, dict[str, Any]] = {}
    for name, dep in (service.depends_on or {}).items():
        deps[name] = {
            "condition": dep.condition or _STARTED,
            "required": dep.required is not False,
            "restart": dep.restart is True,
        }
    implicit: dict[str, bool] = {}
    for value in (service.network_mode, service.ipc, service.pid):
        if value and value.startswith(SERVICE_PREFIX):
            implicit.setdefault(value[len(SERVICE_PREFIX):], True)
    for link in service.links or ():
        implicit.setdefault(link.split(":", 1)[0], True)
    for source in service.volumes_from or ():
        if not source.startswith(CONTAINER_PREFIX):
            implicit.setdefault(source.split(":", 1)[0], False)
    for name, restart in implicit.items():
        if name not in deps:
            deps[name] = {"condition": _STARTED, "required": True, "restart": restart}
    return deps


class ServiceGraph:
    """Services and their dependencies: edge ``u -> v`` means ``u`` depends on ``v``.

    Reads like networkx's ``DiGraph``: ``name in g``, ``iter(g)``, ``g[u][v]`` (the
    edge's attributes), :meth:`successors` (what ``u`` depends on),
    :meth:`predecessors` (what depends on ``v``) and :meth:`edges`.
    """

    __slots__ = ("_pred", "_succ")

    def __init__(self) -> None:
        self._succ: dict[str, dict[str, dict[str, Any]]] = {}
        self._pred: dict[str, dict[str, dict[str, Any]]] = {}

    def add_node(self, name: str) -> None:
        if name not in self._succ:
            self._succ[name] = {}
            self._pred[name] = {}

    def add_edge(self, u: str, v: str, **attrs: Any) -> None:
        """``u`` depends on ``v`` (both added as nodes when new)."""
        self.add_node(u)
        self.add_node(v)
        data = self._succ[u].setdefault(v, {})
        data.update(attrs)
        self._pred[v][u] = data

    def __contains__(self, name: object) -> bool:
        return name in self._succ

    def __iter__(self) -> Iterator[str]:
        return iter(self._succ)

    def __len__(self) -> int:
        return len(self._succ)

    def __getitem__(self, name: str) -> Mapping[str, dict[str, Any]]:
        return self._succ[name]

    def successors(self, name: str) -> Iterator[str]:
        """The services ``name`` depends on."""
        return iter(self._succ[name])

    def predecessors(self, name: str) -> Iterator[str]:
        """The services that depend on ``name``."""
        return iter(self._pred[name])

    def number_of_edges(self) -> int:
        return sum(len(out) for out in self._succ.values())

    @overload
    def edges(self, data: None | bool = None) -> list[Any]: ...
    @overload
    def edges(self, data: str) -> list[tuple[str, str, Any]]: ...

    def edges(self, data: str | bool | None = None) -> list[Any]:
        """``(u, v)`` pairs; ``(u, v, attrs)`` with ``data=True``; ``(u, v,
        attrs[data])`` when ``data`` names an attribute (as networkx)."""
        if data is None or data is False:
            return [(u, v) for u, out in self._succ.items() for v in out]
        if data is True:
            return [(u, v, attrs) for u, out in self._succ.items() for v, attrs in out.items()]
        return [(u, v, attrs.get(data)) for u, out in self._succ.items()
                for v, attrs in out.items()]

    def _sorted(self, first: dict[str, dict[str, dict[str, Any]]],
                then: dict[str, dict[str, dict[str, Any]]]) -> list[str]:
        # Kahn's algorithm with a heap: of the names whose ``first`` neighbours are
        # all placed, the smallest goes next (networkx's lexicographical order).
        waiting = {name: len(out) for name, out in first.items()}
        ready = [name for name, count in waiting.items() if count == 0]
        heapq.heapify(ready)
        order: list[str] = []
        while ready:
            name = heapq.heappop(ready)
            order.append(name)
            for other in then[name]:
                waiting[other] -= 1
                if waiting[other] == 0:
                    heapq.heappush(ready, other)
        if len(order) != len(first):
            raise _cycle_error(self)
        return order


def build_graph(services: Project | Mapping[str, ServiceConfig]
                | Mapping[str, Mapping[str, Any]]) -> ServiceGraph:
    """The dependency graph of a project's services.

    ``services`` is the model's :class:`~composer.model.project.Project` (or its
    ``services``), or, for the loader's checks before there is a model, a
    ``{name: service mapping}``. One node per service; an edge ``u -> v`` with
    attributes ``condition``, ``required`` and ``restart`` for each dependency of
    ``u``. Dependencies on names that are not in ``services`` (undefined, or
    disabled by a profile) are left out:
    :func:`composer.config.validate.validate_project` reports those.
    """
    if not isinstance(services, Mapping):
        services = services.services
    graph = ServiceGraph()
    for name in services:
        graph.add_node(name)
    for name, service in services.items():
        for dep, attrs in service_dependencies(service).items():
            if dep in services:
                graph.add_edge(name, dep, **attrs)
    return graph


def find_cycle(graph: ServiceGraph | Mapping[str, Iterable[str]]) -> list[str] | None:
    """The first dependency cycle, hop by hop, first node repeated at the end.

    ``["a", "b", "c", "a"]`` reads "a depends on b, b on c, c on a". Accepts a
    graph from :func:`build_graph` or a plain ``{name: dependency names}``
    mapping. Search order is by name at every step, as Docker Compose v2, so
    both report the same cycle; returns None when there is none. Each node is
    explored once, so long chains and large projects stay fast.
    """
    done: set[str] = set()  # fully explored, no cycle reachable from there
    for start in sorted(graph):
        if start in done:
            continue
        path = [start]
        on_path = {start: 0}
        stack = [iter(sorted(graph[start]))]
        while stack:
            child = next(stack[-1], None)
            if child is None:
                stack.pop()
                finished = path.pop()
                del on_path[finished]
                done.add(finished)
                continue
            if child in on_path:
                return [*path[on_path[child]:], child]
            if child in done or child not in graph:
                continue
            on_path[child] = len(path)
            path.append(child)
            stack.append(iter(sorted(graph[child])))
    return None


def _cycle_error(graph: ServiceGraph) -> ValidationError:
    cycle = find_cycle(graph) or []
    return ValidationError("dependency cycle detected: " + " -> ".join(cycle))


def start_order(graph: ServiceGraph) -> list[str]:
    """Every service, dependencies before their dependents; ties broken by name.

    Raises :class:`composer.errors.ValidationError` naming the cycle if there is one.
    """
    return graph._sorted(graph._succ, graph._pred)


def stop_order(graph: ServiceGraph) -> list[str]:
    """Every service, dependents before their dependencies; ties broken by name.

    Raises :class:`composer.errors.ValidationError` naming the cycle if there is one.
    """
    return graph._sorted(graph._pred, graph._succ)


def _reach(graph: ServiceGraph, names: Iterable[str], forward: bool, transitive: bool) -> set[str]:
    step = graph.successors if forward else graph.predecessors
    seen: set[str] = set()
    todo = list(names)
    for name in todo:
        if name not in graph:
            raise KeyError(name)
    while todo:
        for nxt in step(todo.pop()):
            if nxt not in seen:
                seen.add(nxt)
                if transitive:
                    todo.append(nxt)
    return seen


def dependencies_of(graph: ServiceGraph, names: Iterable[str], transitive: bool = True) -> set[str]:
    """The services that any of ``names`` depends on (all the way down if ``transitive``).

    A name of ``names`` is in the result only if another (or, through a cycle,
    itself) depends on it. Raises ``KeyError`` for a name not in the graph.
    """
    return _reach(graph, names, forward=True, transitive=transitive)


def dependents_of(graph: ServiceGraph, names: Iterable[str], transitive: bool = True) -> set[str]:
    """The services that depend on any of ``names`` (all the way up if ``transitive``).

    Same conventions as :func:`dependencies_of`.
    """
    return _reach(graph, names, forward=False, transitive=transitive)
