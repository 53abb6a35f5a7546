"""``down``: containers in reverse dependency order, then networks, then (asked)
volumes and images. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import field

from composer.backends.base import ContainerState, Observed
from composer.frozen import frozen
from composer.model import labels
from composer.model.naming import service_image
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.shared import (
    RUNNING_STATES,
    Topology,
    containers_of,
    display,
    network_duplicates,
    resource_name,
    targets,
    topology,
)
from composer.plan.steps import (
    RemoveContainer,
    RemoveImage,
    RemoveNetwork,
    RemoveVolume,
    StopContainer,
)

__all__ = ["DownPlanOptions", "plan_down", "stop_remove"]


@frozen(kw_only=True)
class DownPlanOptions:
    """``down``: ``volumes`` removes named and anonymous volumes (never external);
    ``images`` (``--rmi``) removes the images of the services: ``local`` those
    without an ``image:`` of their own (built ones), ``all`` every one.
    ``built_images`` maps services to the tags of the engine's images labelled
    with the project and that service (built by composer or v2): ``local``
    removes those too, ``image:`` or not, as v2 does."""

    services: Sequence[str] = ()
    volumes: bool = False
    remove_orphans: bool = False
    timeout: int | None = None
    images: str | None = None
    built_images: Mapping[str, Sequence[str]] = field(default_factory=dict)


def stop_remove(plan: Plan, resource: str, c: ContainerState, reason: str,
                after: Iterable[int], timeout: int | None, *, volumes: bool) -> int:
    """Stop (if running) then force-remove one container; the remove step's id."""
    deps = tuple(after)
    if c.state in RUNNING_STATES:
        deps = (plan.add(StopContainer(container=c.id, timeout=timeout, then_remove=True,
                                       volumes=volumes, display=display(c.name)),
                         resource, reason, deps),)
    return plan.add(RemoveContainer(container=c.id, force=True, volumes=volumes,
                                    display=display(c.name)), resource, reason, deps)


def plan_down(project: Project | str, observed: Observed,
              options: DownPlanOptions | None = None) -> Plan:
    """The plan that takes a project down: containers in reverse dependency order,
    then its networks, then (with ``volumes``) its volumes. Never external ones.

    ``project`` may be just the project's name (``-p NAME down`` without files):
    services and dependencies then come from the containers' labels and every
    network and volume labelled with the project goes. Services named in
    ``options.services`` go with their dependents; networks and volumes then go
    only if no container of the project is left. A plan with nothing to remove
    carries a warning.
    """
    opts = options or DownPlanOptions()
    topo = topology(project, observed)
    plan = Plan(project=topo.name)
    chosen = targets(topo, opts.services, dependents=True)
    ends: dict[str, list[int]] = {}
    removed: set[str] = set()
    all_removes: list[int] = []
    for name in reversed(chosen):
        after = [s for d in topo.graph.predecessors(name) for s in ends.get(d, [])]
        ends[name] = []
        for c in containers_of(observed, topo.name, name):
            step = stop_remove(plan, f"service:{name}:{c.number}", c, "down", after,
                               opts.timeout, volumes=opts.volumes)
            ends[name].append(step)
            all_removes.append(step)
            removed.add(c.id)
    known = set(topo.graph)
    if topo.project is not None:
        known |= set(topo.project.services)
    orphans = sorted((c for c in observed.containers
                      if c.project == topo.name and c.id not in removed
                      and (c.service not in known or c.oneoff)),
                     key=lambda c: c.name)
    if opts.remove_orphans:
        for c in orphans:
            all_removes.append(stop_remove(plan, f"orphan:{c.name}", c, "orphaned container",
                                           [], opts.timeout, volumes=False))
            removed.add(c.id)
    left = [c for c in observed.containers if c.project == topo.name and c.id not in removed]
    if not left or not opts.services:
        _remove_networks_and_volumes(plan, topo, observed, opts, all_removes)
    if opts.images:
        for image in _images_to_remove(topo, observed, chosen, opts.images,
                                       opts.built_images):
            plan.add(RemoveImage(image=image, display=f"Image {image}"), f"image:{image}",
                     f"down --rmi {opts.images}", tuple(all_removes))
    if not plan:
        plan.warnings.append(f'No resource found to remove for project "{topo.name}".')
    return plan


def _images_to_remove(topo: Topology, observed: Observed, services: Sequence[str],
                      mode: str, built: Mapping[str, Sequence[str]]) -> list[str]:
    images: set[str] = set()
    if topo.project is not None:
        for name in services:
            service = topo.project.services[name]
            if mode == "all" or not service.image:
                images.add(service_image(topo.name, name, service))
            images.update(built.get(name, ()))
    else:
        if mode == "all":
            images = {c.image for c in observed.containers
                      if c.project == topo.name and c.service in services and c.image}
        for name in services:
            images.update(built.get(name, ()))
    return sorted(images)


def _remove_networks_and_volumes(plan: Plan, topo: Topology, observed: Observed,
                                 opts: DownPlanOptions, after: list[int]) -> None:
    project = topo.project
    # A name held twice (a race: see network_duplicates) is removed network by
    # network, by ID: the name alone is ambiguous to the engine.
    duplicates = network_duplicates(observed.networks)
    for net in sorted(observed.networks, key=lambda n: (n.name, n.id)):
        if project is not None:
            cfg = project.networks.get(net.key)
            wanted = net.key in project.networks and not (cfg is not None and cfg.external)
            if not wanted or net.name != resource_name(project, "network", net.key):
                continue
        elif net.labels.get(labels.PROJECT) not in (None, topo.name):
            continue
        plan.add(RemoveNetwork(name=net.id if net.name in duplicates else net.name,
                               display=f"Network {net.name}"),
                 f"network:{net.key or net.name}", "down", tuple(after))
    if not opts.volumes:
        return
    for vol in sorted(observed.volumes, key=lambda v: v.name):
        if project is not None:
            vcfg = project.volumes.get(vol.key)
            wanted = vol.key in project.volumes and not (vcfg is not None and vcfg.external)
            if not wanted or vol.name != resource_name(project, "volume", vol.key):
                continue
        elif vol.labels.get(labels.PROJECT) not in (None, topo.name):
            continue
        plan.add(RemoveVolume(name=vol.name, display=f"Volume {vol.name}"),
                 f"volume:{vol.key or vol.name}", "down --volumes", tuple(after))
