"""Swarm stacks: ``Stacks(backend)`` deploys, lists, inspects and removes them.

The same observe, plan, execute path as :class:`~composer.api.compose.Compose`:
a deploy observes the stack (by ``com.docker.stack.namespace``), plans with
:func:`composer.plan.stack.plan_deploy` and runs the plan on the executor. The
backend must be a swarm manager (:class:`~composer.backends.base.SwarmBackend`,
in a swarm): otherwise the verbs fail with docker's own words.

::

    stacks = Stacks(connect(), events=print)
    await stacks.deploy(load_project(), "web", StackDeployOptions(detach=False))
    for row in await stacks.services("web"):
        print(row.name, row.replicas)
    await stacks.remove("web")
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import field
from pathlib import Path
from typing import cast

import anyio

from composer.api.compose import Compose, _located
from composer.api.options import Outcome
from composer.backends.base import (
    Backend,
    NetworkInfo,
    SwarmBackend,
    SwarmNode,
    SwarmObject,
    SwarmTask,
)
from composer.backends.spec.swarm import LABEL_NAMESPACE, network_bodies
from composer.config.loader import LoadedProject
from composer.errors import EngineError, UsageError
from composer.frozen import frozen
from composer.plan import stack as stack_plan
from composer.plan.plan import Plan
from composer.plan.steps import WaitService
from composer.runtime.progress import Reporter
from composer.runtime.stack import convergence

__all__ = [
    "ServiceRow",
    "StackDeployOptions",
    "StackRow",
    "Stacks",
    "TaskRow",
]

_NOT_MANAGER = ("this node is not a swarm manager. Use \"docker swarm init\" or \"docker swarm "
                "join\" to connect this node to swarm and try again")
_NOT_MANAGER_WORKER = ("this node is not a swarm manager. Worker nodes can't be used to view or "
                       "modify cluster state. Please run this command on a manager node or "
                       "promote the current node to a manager.")


@frozen(kw_only=True)
class StackDeployOptions:
    """``stack deploy``'s flags: ``prune`` removes the stack's services the file
    no longer has; ``resolve_image`` (``always``, ``changed``, ``never``) asks the
    registry for each image's digest and pins the service to it;
    ``with_registry_auth`` sends the stored registry login to the nodes;
    ``detach=False`` waits until every service has converged (its tasks running,
    and healthy where it has a check), at most ``wait_timeout`` seconds per
    service; ``ordered`` creates each service only once its ``depends_on``
    services meet their condition. ``dry_run`` only plans."""

    prune: bool = False
    resolve_image: str = stack_plan.RESOLVE_ALWAYS
    with_registry_auth: bool = False
    detach: bool = True
    wait_timeout: float | None = None
    ordered: bool = False
    dry_run: bool = False


@frozen
class StackRow:
    """``stack ls``: a stack and how many services it has."""

    name: str
    services: int


@frozen
class ServiceRow:
    """``stack services``: one service of a stack."""

    id: str
    name: str
    mode: str
    replicas: str
    image: str
    ports: str
    running: int = 0
    desired: int = 0


@frozen
class TaskRow:
    """``stack ps``: one task (``name`` is ``{service}.{slot}``)."""

    id: str
    name: str
    image: str
    node: str
    desired_state: str
    current_state: str
    error: str
    task: SwarmTask = field(repr=False, compare=False)


def _read(path: str) -> bytes:
    return Path(path).read_bytes()


def _mode(service: SwarmObject) -> str:
    mode = service.spec.get("Mode") or {}
    for key, word in (("Replicated", "replicated"), ("Global", "global"),
                      ("ReplicatedJob", "replicated job"), ("GlobalJob", "global job")):
        if key in mode:
            return word
    return ""


def _ports(service: SwarmObject) -> str:
    ports = (service.spec.get("EndpointSpec") or {}).get("Ports") or []
    return ", ".join(f"*:{p.get('PublishedPort', 0)}->{p.get('TargetPort', 0)}/"
                     f"{p.get('Protocol', 'tcp')}" for p in ports)


class Stacks:
    """Swarm stacks on ``backend`` (a swarm manager); progress goes to ``events``."""

    def __init__(self, backend: Backend, *, events: Reporter | None = None) -> None:
        self.backend = backend
        self.events = events
        self._compose = Compose(backend, events=events)

    async def _swarm(self) -> SwarmBackend:
        if not hasattr(self.backend, "swarm_info"):
            raise UsageError(f"stacks need a Docker Engine in a swarm; {self.backend.address} "
                             "has no swarm mode")
        swarm = cast(SwarmBackend, self.backend)
        info = await swarm.swarm_info()  # (the first call: the engine is known after it)
        if getattr(self.backend, "is_podman", False):
            raise UsageError("stacks need a Docker Engine in a swarm: Podman has no swarm mode")
        if info.state != "active":
            raise EngineError(_NOT_MANAGER)
        if not info.manager:
            raise EngineError(_NOT_MANAGER_WORKER)
        return swarm

    async def observe(self, namespace: str, *, external: Sequence[str] = ()
                      ) -> stack_plan.StackObserved:
        """What the engine has of stack ``namespace`` (one listing of each kind)."""
        swarm = await self._swarm()
        label = [f"{LABEL_NAMESPACE}={namespace}"]
        found: dict[str, object] = {}

        async def fetch(key: str, call: object) -> None:
            found[key] = await call  # type: ignore[misc]

        async with anyio.create_task_group() as tg:
            tg.start_soon(fetch, "services", swarm.list_services(labels=label))
            tg.start_soon(fetch, "networks", swarm.list_networks())
            tg.start_soon(fetch, "secrets", swarm.list_swarm_objects("secrets"))
            tg.start_soon(fetch, "configs", swarm.list_swarm_objects("configs"))
        networks = cast(list[NetworkInfo], found["networks"])
        secrets = cast(list[SwarmObject], found["secrets"])
        configs = cast(list[SwarmObject], found["configs"])
        by_name = {n.name: n for n in networks}
        return stack_plan.StackObserved(
            services=cast(list[SwarmObject], found["services"]),
            networks=[n for n in networks if n.labels.get(LABEL_NAMESPACE) == namespace],
            secrets=[s for s in secrets if s.labels.get(LABEL_NAMESPACE) == namespace],
            configs=[c for c in configs if c.labels.get(LABEL_NAMESPACE) == namespace],
            secrets_by_name={s.name: s for s in secrets},
            configs_by_name={c.name: c for c in configs},
            external_networks={name: by_name.get(name) for name in external})

    async def _run(self, plan: Plan, dry_run: bool) -> Outcome:
        # Compose's: "Running" for what the plan leaves alone, then the executor.
        return await self._compose._run(Outcome(), plan, dry_run)

    async def deploy(self, project: LoadedProject, namespace: str,
                     options: StackDeployOptions | None = None) -> Outcome:
        """Deploy ``project`` as stack ``namespace`` (create or update it)."""
        opts = options or StackDeployOptions()
        if opts.resolve_image not in (stack_plan.RESOLVE_ALWAYS, stack_plan.RESOLVE_CHANGED,
                                      stack_plan.RESOLVE_NEVER):
            raise UsageError(f'invalid option {opts.resolve_image} for flag --resolve-image')
        model = project.model
        with _located(project):
            stack_plan.check_project(model, namespace)  # bad input touches no engine
        swarm = await self._swarm()
        with _located(project):
            observed = await self.observe(namespace,
                                          external=network_bodies(model, namespace)[1])
            queries = stack_plan.digest_queries(model, namespace, observed, opts.resolve_image)
            digests: dict[str, str | None] = {}

            async def resolve(image: str) -> None:
                digests[image] = await swarm.image_digest(image)

            async with anyio.create_task_group() as tg:
                for image in queries:
                    tg.start_soon(resolve, image)
            plan = stack_plan.plan_deploy(
                model, namespace, observed, read=_read, prune=opts.prune,
                resolve_image=opts.resolve_image, digests=digests,
                registry_auth=opts.with_registry_auth,
                wait=not opts.detach, ordered=opts.ordered, wait_timeout=opts.wait_timeout,
                declared_hosts=_declared_hosts(project))
        return await self._run(plan, opts.dry_run)

    async def remove(self, namespace: str, *, dry_run: bool = False) -> Outcome:
        """Remove stack ``namespace``: its services, secrets, configs and networks."""
        observed = await self.observe(namespace)
        return await self._run(stack_plan.plan_remove(namespace, observed), dry_run)

    async def ls(self) -> list[StackRow]:
        """Every stack on the swarm (docker's and composer's), by name."""
        swarm = await self._swarm()
        counts: dict[str, int] = {}
        for service in await swarm.list_services(labels=[LABEL_NAMESPACE]):
            name = service.labels.get(LABEL_NAMESPACE, "")
            counts[name] = counts.get(name, 0) + 1
        return [StackRow(name, count) for name, count in sorted(counts.items())]

    async def services(self, namespace: str) -> list[ServiceRow]:
        """The stack's services with their replicas (running/desired)."""
        swarm = await self._swarm()
        services = await swarm.list_services(labels=[f"{LABEL_NAMESPACE}={namespace}"])
        tasks = await swarm.list_tasks(services=[s.id for s in services]) if services else []
        rows = []
        for service in sorted(services, key=lambda s: s.name):
            state = convergence(service, [t for t in tasks if t.service_id == service.id])
            image = str((service.spec.get("TaskTemplate") or {}).get("ContainerSpec", {})
                        .get("Image", "")).split("@", 1)[0]
            rows.append(ServiceRow(service.id, service.name, _mode(service),
                                   f"{state.running}/{state.desired}", image, _ports(service),
                                   state.running, state.desired))
        return rows

    async def tasks(self, namespace: str) -> list[TaskRow]:
        """The stack's tasks, newest first within each slot, as ``docker stack ps``."""
        swarm = await self._swarm()
        services = {s.id: s for s in await swarm.list_services(
            labels=[f"{LABEL_NAMESPACE}={namespace}"])}
        if not services:
            return []
        nodes: dict[str, SwarmNode] = {n.id: n for n in await swarm.list_nodes()}
        rows = []
        newest_first = sorted(await swarm.list_tasks(services=list(services)),
                              key=lambda t: t.timestamp, reverse=True)
        for task in sorted(newest_first, key=lambda t: (services[t.service_id].name
                                                        if t.service_id in services else "",
                                                        t.slot or 0)):
            service = services.get(task.service_id)
            if service is None:
                continue
            slot = task.slot if task.slot is not None else task.node_id
            node = nodes.get(task.node_id)
            rows.append(TaskRow(task.id, f"{service.name}.{slot}", task.image.split("@", 1)[0],
                                node.hostname if node else "", task.desired_state.capitalize(),
                                task.state.capitalize(), task.error, task))
        return rows

    async def wait(self, namespace: str, *, timeout: float | None = None) -> Outcome:
        """Wait until every service of the stack has converged (``--detach=false``
        after the fact)."""
        swarm = await self._swarm()
        plan = Plan(project=namespace)
        for service in sorted(await swarm.list_services(
                labels=[f"{LABEL_NAMESPACE}={namespace}"]), key=lambda s: s.name):
            plan.add(WaitService(name=service.name, timeout=timeout,
                                 display=f"Service {service.name}",
                                 progress=("Waiting", "Converged")),
                     f"service:{service.name}", "wait")
        return await self._run(plan, False)


def _declared_hosts(project: LoadedProject) -> dict[str, list[str]]:
    """Each service's ``extra_hosts`` in the file's order (docker keeps it)."""
    out: dict[str, list[str]] = {}
    for name, service in (project.declared.get("services") or {}).items():
        hosts = service.get("extra_hosts") if isinstance(service, dict) else None
        if isinstance(hosts, list) and all(isinstance(h, str) for h in hosts):
            out[name] = hosts
    return out

