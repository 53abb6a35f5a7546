"""The project's services as a ``networkx.DiGraph``: what the library hands its
users (``project.graph``) and what ``composer graph`` draws.

networkx is imported here only: the commands that start containers order them
with :class:`composer.graph.ServiceGraph` (cheaper to import); this module is
for the library and the ``graph`` command.

An edge runs from a service to each service it depends on (``u -> v``: ``u``
needs ``v``; :func:`networkx.topological_sort` of the reversed graph is a start
order), with attributes ``condition`` (``service_started``, ``service_healthy``,
``service_completed_successfully``), ``required``, ``restart`` and ``kind``:
``depends_on``, or the implicit ``links``, ``network_mode``, ``ipc``, ``pid``,
``volumes_from``. Nodes carry ``image``, ``profiles``, ``replicas``,
``healthcheck`` (true when one is declared) and ``ports`` (the published ones,
as written by ``config``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from composer.graph import CONTAINER_PREFIX, SERVICE_PREFIX, service_dependencies
from composer.model.conditions import SERVICE_STARTED
from composer.model.project import Project, ServiceConfig

if TYPE_CHECKING:
    import networkx

__all__ = ["dependency_kinds", "project_graph"]


def dependency_kinds(service: ServiceConfig) -> dict[str, str]:
    """For each service ``service`` depends on, how it says so.

    The loader writes implicit dependencies into ``depends_on`` (as v2 does), so an
    entry that only says ``service_started`` and is implied by ``links``,
    ``network_mode``, ``ipc``, ``pid`` or ``volumes_from`` is named after that key;
    any other ``depends_on`` entry is ``depends_on``."""
    implied: dict[str, str] = {}
    for key, value in (("network_mode", service.network_mode), ("ipc", service.ipc),
                       ("pid", service.pid)):
        if value and value.startswith(SERVICE_PREFIX):
            implied.setdefault(value[len(SERVICE_PREFIX):], key)
    for link in service.links or ():
        implied.setdefault(link.split(":", 1)[0], "links")
    for source in service.volumes_from or ():
        if not source.startswith(CONTAINER_PREFIX):
            implied.setdefault(source.split(":", 1)[0], "volumes_from")
    kinds: dict[str, str] = {}
    for name, dep in (service.depends_on or {}).items():
        started = (dep.condition or SERVICE_STARTED) == SERVICE_STARTED
        kinds[name] = implied[name] if started and name in implied else "depends_on"
    for name, kind in implied.items():
        kinds.setdefault(name, kind)
    return kinds


def _node(service: ServiceConfig) -> dict[str, Any]:
    healthcheck = service.healthcheck
    return {
        "image": service.image or "",
        "profiles": tuple(service.profiles or ()),
        "replicas": (service.deploy.replicas if service.deploy is not None
                     and service.deploy.replicas is not None else service.scale or 1),
        "healthcheck": bool(healthcheck is not None and not healthcheck.disable),
        "ports": tuple(str(p.published) for p in (service.ports or ()) if p.published),
    }


def project_graph(project: Project, *, include_missing: bool = False) -> networkx.DiGraph:
    """The services of ``project`` and their dependencies as a ``networkx.DiGraph``
    (see the module's docstring for the attributes). Dependencies on services the
    project does not have (disabled by a profile) are left out, unless
    ``include_missing``, which adds them as nodes with ``missing=True``."""
    import networkx

    graph = networkx.DiGraph(name=project.name)
    for name, service in project.services.items():
        graph.add_node(name, **_node(service))
    for name, service in project.services.items():
        kinds = dependency_kinds(service)
        for dep, attrs in service_dependencies(service).items():
            if dep not in project.services:
                if not include_missing:
                    continue
                graph.add_node(dep, missing=True)
            graph.add_edge(name, dep, kind=kinds.get(dep, "depends_on"), **attrs)
    return graph
