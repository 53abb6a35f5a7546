"""The executor: runs a :class:`~composer.plan.plan.Plan` against a backend.

No decisions here: every step is one backend call with the arguments the plan
gives it, or one wait. Scheduling is node by node: each step is a task that
starts as soon as all the steps it depends on have finished, so a slow
healthcheck holds back only the steps behind it. A failed step fails the steps
that depend on it (they are skipped) and nothing else; when the plan is over,
every failure is raised in one :class:`~composer.runtime.errors.ExecutionError`.

Engine calls are not limited here: the backend holds the one capacity limiter.

Waits (``WaitCondition``) follow the engine's event stream: a waiter inspects
the containers it waits for, and inspects again each time an event about their
service arrives (``start``, ``die``, ``health_status``...). The stream is read
with ``since`` set to the start of the run, so an event that happens before the
subscription is live is replayed rather than lost. Only if the stream fails do
waiters fall back to polling (every 500 ms, as Docker Compose v2 does).
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable, Collection, Mapping
from contextlib import nullcontext, suppress
from dataclasses import dataclass, field
from typing import Any

import anyio

from composer.backends import spec
from composer.backends.base import Backend, ContainerInfo
from composer.backends.errors import ConflictError, NotFoundError
from composer.errors import ComposerError, EngineError, EngineUnreachableError
from composer.frozen import frozen
from composer.model import labels
from composer.model.conditions import (
    RUNNING_OR_HEALTHY,
    SERVICE_COMPLETED_SUCCESSFULLY,
    SERVICE_HEALTHY,
    SERVICE_STARTED,
)
from composer.model.hash import service_config_hash
from composer.model.project import ServiceConfig
from composer.plan.plan import Plan, Step
from composer.plan.shared import DEFAULT_READY_TIMEOUT, network_duplicates
from composer.plan.steps import (
    BuildImage,
    ConnectNetwork,
    CopyToContainer,
    CreateContainer,
    CreateNetwork,
    CreateService,
    CreateSwarmObject,
    CreateVolume,
    KillContainer,
    Operation,
    PauseContainer,
    PullImage,
    RemoveContainer,
    RemoveImage,
    RemoveNetwork,
    RemoveService,
    RemoveSwarmObject,
    RemoveVolume,
    RenameContainer,
    StartContainer,
    StopContainer,
    SyncFiles,
    UnpauseContainer,
    UpdateService,
    UpdateSwarmObject,
    WaitCondition,
    WaitService,
)
from composer.runtime import copying, stack
from composer.runtime.errors import ExecutionError, StepFailure, WaitError
from composer.runtime.health import HealthDriver, unhealthy_detail
from composer.runtime.progress import DONE, ERROR, WARNING, WORKING, ProgressEvent, Reporter
from composer.runtime.readiness import HELPER_GRACE, NotReadyError, Prober, wait_ready

__all__ = ["HANDLERS", "POLL_INTERVAL", "ExecutionResult", "evaluate_condition", "execute"]

#: Seconds between two inspections when the event stream is not available.
POLL_INTERVAL = 0.5
#: ``up --wait`` holds a verdict this long after the wait began: v2 judges at its
#: first 500 ms tick, so a container that exits at once (even with code 0) fails
#: there, and a check made the moment it starts would race that exit.
WAIT_SETTLE = 0.5

OK = "ok"
FAILED = "failed"
SKIPPED = "skipped"
PENDING = "pending"

# Kept under their former names here; composer.model.conditions holds them.
SERVICE_COMPLETED = SERVICE_COMPLETED_SUCCESSFULLY

_SUCCESS_WORD = {
    SERVICE_STARTED: "Started",
    SERVICE_HEALTHY: "Healthy",
    SERVICE_COMPLETED_SUCCESSFULLY: "Exited",
    RUNNING_OR_HEALTHY: "Healthy",
}


@dataclass
class ExecutionResult:
    """What a run did: each step's outcome (``ok``, ``failed``, ``skipped``), the
    IDs of the containers it created (by the name they were created under) and
    the warnings it met (optional dependencies that failed, resources in use)."""

    outcomes: dict[int, str] = field(default_factory=dict)
    created: dict[str, str] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)


def evaluate_condition(condition: str, info: ContainerInfo,
                       service: str) -> tuple[str, str]:
    """Judge one container (``info``: its inspection) against a condition.

    Returns ``("ok", "")``, ``("pending", "")`` or ``("failed", reason)``, with
    Docker Compose v2's reasons (``container x is unhealthy``, ``service "x"
    didn't complete successfully: exit 1``...).
    """
    status = info.state
    code = info.exit_code
    name = info.name or info.id or "?"
    health = info.health
    has_check = info.has_healthcheck
    exited = status in ("exited", "dead")
    if condition == SERVICE_COMPLETED_SUCCESSFULLY:
        if not exited:
            return PENDING, ""
        if code == 0:
            return OK, ""
        return FAILED, f'service "{service}" didn\'t complete successfully: exit {code}'
    if exited:
        return FAILED, f"container {name} exited ({code})"
    if condition == SERVICE_STARTED:
        return (OK, "") if status == "running" else (PENDING, "")
    if health is None:
        if condition == RUNNING_OR_HEALTHY and not has_check:
            return (OK, "") if status == "running" else (PENDING, "")
        if has_check:
            return PENDING, ""
        return FAILED, f"container {name} has no healthcheck configured"
    if health == "healthy":
        return OK, ""
    if health == "unhealthy":
        return FAILED, f"container {name} is unhealthy"
    return PENDING, ""


class _EventHub:
    """Counts the engine's events per service and wakes whoever waits on one."""

    def __init__(self, backend: Backend, project: str, since: int) -> None:
        self.backend = backend
        self.project = project
        self.since = since
        self.failed = False
        self._versions: dict[str, int] = {}
        self._changed: dict[str, anyio.Event] = {}

    async def run(self) -> None:
        try:
            async for event in self.backend.events(self.project, since=self.since):
                # An exec (a healthcheck run, a readiness probe's own) changes no state:
                # waking the waiters for it would only make probes hammer the engine.
                if not event.action.startswith("exec_"):
                    self._bump(event.service)
        except Exception:  # noqa: BLE001 - any stream failure means: poll instead
            pass
        # A stream that ends or breaks leaves the waiters polling.
        self.failed = True
        for service in list(self._changed):
            self._bump(service)

    def _bump(self, service: str) -> None:
        self._versions[service] = self._versions.get(service, 0) + 1
        event = self._changed.pop(service, None)
        if event is not None:
            event.set()

    def version(self, service: str) -> int:
        return self._versions.get(service, 0)

    async def wait_change(self, service: str, version: int, poll: float,
                          limit: float | None) -> None:
        """Return after an event about ``service`` newer than ``version`` (or ``poll``
        seconds if the stream failed), or after ``limit`` seconds."""
        with anyio.move_on_after(limit) if limit is not None else nullcontext():
            if self.failed:
                await anyio.sleep(poll)
                return
            while self._versions.get(service, 0) == version and not self.failed:
                event = self._changed.get(service)
                if event is None:
                    event = self._changed[service] = anyio.Event()
                await event.wait()


class _Runner:
    def __init__(self, plan: Plan, backend: Backend, reporter: Reporter | None,
                 poll_interval: float) -> None:
        self.plan = plan
        self.backend = backend
        self.reporter = reporter
        self.poll_interval = poll_interval
        self.done = {step.id: anyio.Event() for step in plan}
        self.result = ExecutionResult()
        self.failures: list[StepFailure] = []
        self.removed: set[str] = set()  # containers a StopContainer step removed too
        #: Set once the engine stops answering: the other steps are cancelled and
        #: the run ends with this one line instead of one per step.
        self.unreachable: EngineUnreachableError | None = None
        self._steps: anyio.CancelScope | None = None
        self.hub = _EventHub(backend, plan.project, int(time.time()))
        self.health = HealthDriver(backend)

    def emit(self, resource: str, status: str, state: str = WORKING,
             elapsed: float | None = None, detail: str = "") -> None:
        if self.reporter is not None and status:
            self.reporter(ProgressEvent(resource, status, state, elapsed, detail))

    async def run(self) -> ExecutionResult:
        async with anyio.create_task_group() as outer:
            if any(isinstance(step.operation, WaitCondition) for step in self.plan):
                outer.start_soon(self.hub.run)
            async with anyio.create_task_group() as steps:
                self._steps = steps.cancel_scope
                for step in self.plan:
                    steps.start_soon(self._run_step, step)
            outer.cancel_scope.cancel()
        if self.unreachable is not None:
            raise self.unreachable
        if self.failures:
            skipped = [str(step) for step in self.plan
                       if self.result.outcomes.get(step.id) == SKIPPED]
            raise ExecutionError(self.failures, skipped, self.result.warnings)
        return self.result

    async def _run_step(self, step: Step) -> None:
        try:
            for dep in step.depends:
                await self.done[dep].wait()
            if any(self.result.outcomes.get(dep) != OK for dep in step.depends):
                self.result.outcomes[step.id] = SKIPPED
                return
            await self._attempt(step)
        finally:
            self.done[step.id].set()

    async def _attempt(self, step: Step) -> None:
        op = step.operation
        display = op.display or step.resource
        handler = HANDLERS.get(type(op))
        if handler is None:
            raise ValueError(f"unknown plan operation {step.op!r} in {step}")
        working, finished = op.progress or handler.status
        began = anyio.current_time()
        self.emit(display, working)
        try:
            warning = await handler.run(self, op)
        except ComposerError as exc:
            elapsed = anyio.current_time() - began
            if isinstance(op, WaitCondition) and not op.required:
                text = f'optional dependency "{op.service}" failed: {exc}'
                self.result.warnings.append(text)
                self.emit(display, "Skipped", WARNING, elapsed, text)
                self.result.outcomes[step.id] = OK
                return
            self.emit(display, "Error", ERROR, elapsed, str(exc))
            if isinstance(exc, EngineUnreachableError):
                self.unreachable = self.unreachable or exc
                if self._steps is not None:
                    self._steps.cancel()
            self.failures.append(self._failure(step, exc))
            self.result.outcomes[step.id] = FAILED
            return
        self.result.outcomes[step.id] = OK
        elapsed = anyio.current_time() - began
        if warning:
            self.result.warnings.append(f"{display}: {warning}")
            self.emit(display, warning, WARNING, elapsed)
        elif finished:
            self.emit(display, finished, DONE, elapsed)

    def _failure(self, step: Step, exc: ComposerError) -> StepFailure:
        op = step.operation
        kind, _, rest = step.resource.partition(":")
        if isinstance(op, WaitCondition):
            names = ", ".join(f'"{d}"' for d in op.dependents)
            subject = f"service {names}" if op.dependents else f'service "{op.service}"'
            alone = exc.reason if isinstance(exc, NotReadyError) else str(exc)
            reason = f"dependency failed to start: {exc}" if op.dependents else alone
            return StepFailure(subject, str(step), reason)
        if kind == "service":
            subject = f'service "{step.service}"'
        elif kind == "orphan":
            subject = f'container "{rest}"'
        elif isinstance(op, PullImage) and op.service:
            # The person thinks in services: name the one that needs the image.
            return StepFailure(f'service "{op.service}"', str(step),
                               f'pulling image "{op.image}": {exc}')
        else:
            what = getattr(op, "name", None) or getattr(op, "image", None) or rest
            subject = f'{kind} "{what}"'
        return StepFailure(subject, str(step), str(exc))

    async def hashed(self, body: Mapping[str, Any], service: ServiceConfig,
                     refs: Mapping[str, Any]) -> dict[str, Any]:
        """``body`` with v2's config hash: the service hashed with the IDs of the
        containers it shares namespaces or volumes with, which exist by now."""
        found: dict[str, list[spec.ContainerRef]] = {}
        for other, names in refs.items():
            for name in names:
                ident = self.result.created.get(name)
                if ident is None:
                    ident = (await self.backend.inspect_container(name)).id
                found.setdefault(other, []).append(spec.ContainerRef(name, ident))
        resolved = spec.resolve_service_references(service, found)
        body_labels = {**(body.get("Labels") or {}),
                       labels.CONFIG_HASH: service_config_hash(resolved)}
        return {**body, "Labels": body_labels}

    # -- waits

    async def wait(self, op: WaitCondition) -> None:
        service = op.service
        condition = op.condition
        names = list(op.containers)
        # Readiness probes stand in for a healthcheck; other conditions ignore them.
        probes = op.probes if condition in (SERVICE_HEALTHY, RUNNING_OR_HEALTHY) else ()
        timeout = op.timeout
        if probes and timeout is None:
            timeout = DEFAULT_READY_TIMEOUT
        began = anyio.current_time()
        deadline = began + timeout if timeout is not None else None
        for name in names:
            self.emit(f"Container {name}", "Waiting")
        if probes and timeout is not None:
            await self._until(service, names, SERVICE_STARTED, deadline, timeout)
            async with Prober(self.backend, probe_image=op.probe_image,
                              lifetime=timeout + HELPER_GRACE) as prober:
                for name in names:
                    await wait_ready(self.backend, name, probes, service=service,
                                     timeout=timeout, began=began,
                                     interval=self.poll_interval, prober=prober,
                                     pause=lambda limit: self._pause(service, limit))
        else:
            await self._until(service, names, condition, deadline, timeout)
        if condition == RUNNING_OR_HEALTHY:
            settle = began + WAIT_SETTLE - anyio.current_time()
            if settle > 0:
                await anyio.sleep(settle)
                await self._until(service, names, condition, deadline, timeout)
        for name in names:
            self.emit(f"Container {name}", _SUCCESS_WORD.get(condition, "Ready"), DONE)

    async def _pause(self, service: str, limit: float) -> None:
        """Up to ``limit`` seconds between two readiness checks: less when an event
        about ``service`` arrives (it died, it restarted)."""
        await self.hub.wait_change(service, self.hub.version(service), limit, limit)

    async def _until(self, service: str, names: list[str], condition: str,
                     deadline: float | None, timeout: float | None) -> None:
        health = condition in (SERVICE_HEALTHY, RUNNING_OR_HEALTHY)
        while True:
            version = self.hub.version(service)
            waiting_on = ""
            next_check: float | None = None
            for name in names:
                info = await self.backend.inspect_container(name)
                if health:  # an engine that runs no checks: composer runs them
                    info, due = await self.health.drive(info)
                    if due is not None:
                        next_check = due if next_check is None else min(next_check, due)
                verdict, reason = evaluate_condition(condition, info, service)
                if verdict == FAILED:
                    detail = unhealthy_detail(info)
                    if info.health == "unhealthy" and detail and await self.health.active():
                        reason = f"{reason}: {detail}"  # v2 does not get this far here
                    raise WaitError(reason)
                if verdict == PENDING and not waiting_on:
                    waiting_on = name
            if not waiting_on:
                return
            limit = next_check
            if deadline is not None:
                left = deadline - anyio.current_time()
                if left <= 0:
                    raise WaitError(f"container {waiting_on} is not "
                                    f"{_word(condition)} after {timeout:g}s")
                limit = left if limit is None else min(limit, left)
            await self.hub.wait_change(service, version, self.poll_interval, limit)


def _word(condition: str) -> str:
    return {SERVICE_STARTED: "running",
            SERVICE_COMPLETED_SUCCESSFULLY: "completed"}.get(condition, "healthy")


# -- the dispatch table: one handler per operation type ---------------------------------------
#
# A handler runs one step's engine call (or wait) and returns a warning text when
# the step ended without doing its job ("" otherwise); ``status`` are the words
# of its progress lines (while working, once done; "" says nothing).

@frozen(slots=True)
class Handler:
    """How the executor runs one kind of operation."""

    run: Callable[[_Runner, Any], Awaitable[str]]
    status: tuple[str, str]


async def _removal(call: Awaitable[None]) -> str:
    try:
        await call
    except NotFoundError:
        return "No resource found to remove"
    except ConflictError:
        return "Resource is still in use"
    return ""


# -- what a concurrent command (another machine on the same engine) may have made
#
# The project lock (composer.runtime.lock) keeps two commands of one machine apart;
# two machines are not, and race on the engine itself. A create that meets a name
# conflict re-reads the engine and adopts what it finds when it is equal (same
# project, service, number and config hash); a network name two creates raced on
# is settled by keeping the oldest network (plan.shared.network_duplicates), which
# every command that looks agrees on.

#: How often a create retries a name held by a container not yet inspectable.
ADOPT_ATTEMPTS = 50
ADOPT_PAUSE = 0.1

_SAME_CONTAINER = (labels.PROJECT, labels.SERVICE, labels.CONTAINER_NUMBER, labels.ONEOFF,
                   labels.CONFIG_HASH)
_SAME_NETWORK = (labels.PROJECT, labels.NETWORK, labels.CONFIG_HASH)


def _equal(found: Mapping[str, str], wanted: Mapping[str, str], keys: tuple[str, ...]) -> bool:
    return bool(wanted.get(labels.PROJECT)) and all(
        found.get(key) == wanted.get(key) for key in keys)


def _ambiguous(exc: ComposerError) -> bool:
    """The engine refused a network name that several networks hold."""
    return "is ambiguous" in str(exc)  # daemon/network.go's words, the only sign


def _networks_of(body: Mapping[str, Any]) -> set[str]:
    names = set((body.get("NetworkingConfig") or {}).get("EndpointsConfig") or {})
    mode = str((body.get("HostConfig") or {}).get("NetworkMode") or "")
    if mode and ":" not in mode and mode not in ("default", "bridge", "host", "none"):
        names.add(mode)
    return names


async def _settle_networks(r: _Runner, names: Collection[str] | None = None) -> None:
    """Remove the project's duplicate networks (of these names), all but the oldest."""
    observed = await r.backend.observe(r.plan.project)
    duplicates = network_duplicates(n for n in observed.networks
                                    if names is None or n.name in names)
    for networks in duplicates.values():
        for extra in networks[1:]:
            # In use: left, and the caller's retry says "ambiguous" again.
            with suppress(NotFoundError, ConflictError):
                await r.backend.remove_network(extra.id)


async def _create_network(r: _Runner, op: CreateNetwork) -> str:
    try:
        await r.backend.create_network(op.name, op.body)
    except ConflictError:
        # The engine's duplicate check found one created since we looked.
        try:
            found = await r.backend.inspect_network(op.name)
        except ComposerError as exc:
            if not _ambiguous(exc):
                raise
            await _settle_networks(r, {op.name})
            found = await r.backend.inspect_network(op.name)
        if not _equal(found.labels, op.body.get("Labels") or {}, _SAME_NETWORK):
            raise
        return ""
    # That check races: two creates at once both pass it. Whoever sees two keeps
    # the oldest; a create that saw one is settled by the other's look.
    try:
        await r.backend.inspect_network(op.name)
    except ComposerError as exc:
        if not _ambiguous(exc):
            raise
        await _settle_networks(r, {op.name})
    return ""


async def _remove_network(r: _Runner, op: RemoveNetwork) -> str:
    return await _removal(r.backend.remove_network(op.name))


async def _create_volume(r: _Runner, op: CreateVolume) -> str:
    await r.backend.create_volume(op.name, op.body)
    return ""


async def _remove_volume(r: _Runner, op: RemoveVolume) -> str:
    return await _removal(r.backend.remove_volume(op.name))


async def _pull_image(r: _Runner, op: PullImage) -> str:
    await r.backend.pull_image(op.image, platform=op.platform)
    return ""


async def _build_image(r: _Runner, op: BuildImage) -> str:
    await r.backend.build_image(op.request)
    return ""


async def _remove_image(r: _Runner, op: RemoveImage) -> str:
    return await _removal(r.backend.remove_image(op.image))


async def _create_container(r: _Runner, op: CreateContainer) -> str:
    body = op.body
    if op.hash_service is not None:
        body = await r.hashed(body, op.hash_service, op.hash_refs)
    r.result.created[op.name] = await _create_or_adopt(r, op.name, body, op.platform)
    return ""


async def _create_or_adopt(r: _Runner, name: str, body: Mapping[str, Any],
                           platform: str | None) -> str:
    """Create the container; if its name is taken by an equal container (another
    command created it meanwhile), adopt that one: its ID.

    The engine reserves a name before the container it names can be inspected, so
    a conflict whose holder is not found yet is retried for a while
    (``ADOPT_ATTEMPTS`` times, ``ADOPT_PAUSE`` apart): by then the holder is
    there to be compared, or gone and the name free."""
    settled = False
    for attempt in range(ADOPT_ATTEMPTS):
        try:
            return await r.backend.create_container(name, body, platform=platform)
        except ConflictError:
            try:
                found = await r.backend.inspect_container(name)
            except NotFoundError:
                if attempt:
                    await anyio.sleep(ADOPT_PAUSE)
                continue  # being created, or removed again since
            if _equal(found.labels, body.get("Labels") or {}, _SAME_CONTAINER):
                return found.id
            raise
        except ComposerError as exc:
            if settled or not _ambiguous(exc):
                raise
            await _settle_networks(r, _networks_of(body))
            settled = True
    return await r.backend.create_container(name, body, platform=platform)


async def _connect_network(r: _Runner, op: ConnectNetwork) -> str:
    try:
        await r.backend.connect_network(op.network, op.container, op.endpoint)
    except ComposerError as exc:
        if not _ambiguous(exc):
            raise
        await _settle_networks(r, {op.network})
        await r.backend.connect_network(op.network, op.container, op.endpoint)
    return ""


async def _copy_to_container(r: _Runner, op: CopyToContainer) -> str:
    file = op.file
    try:
        await r.backend.put_archive(op.container, "/", file.archive(),
                                    copy_uid_gid=file.copy_uid_gid)
    except EngineError as exc:
        # Which secret failed, never its value (the engine's reason carries none).
        raise EngineError(f"copying {file.kind} {file.source} to {file.target}: {exc}") \
            from None
    return ""


async def _sync_files(r: _Runner, op: SyncFiles) -> str:
    await copying.sync_to_container(r.backend, op.container, op.copies, op.deletions)
    return ""


async def _start_container(r: _Runner, op: StartContainer) -> str:
    try:
        await r.backend.start_container(op.container)
    except ComposerError as exc:
        # The engine resolves a container's networks by name when it starts it: a
        # duplicate made by a concurrent create (not settled yet) fails that.
        if not _ambiguous(exc):
            raise
        await _settle_networks(r)
        await r.backend.start_container(op.container)
    return ""


async def _stop_container(r: _Runner, op: StopContainer) -> str:
    try:
        if op.then_remove:
            await r.backend.stop_and_remove_container(op.container, op.timeout,
                                                      volumes=op.volumes)
            r.removed.add(op.container)
        else:
            await r.backend.stop_container(op.container, op.timeout)
    except NotFoundError:
        pass  # removed meanwhile (a concurrent recreate): not running, the goal
    return ""


async def _kill_container(r: _Runner, op: KillContainer) -> str:
    await r.backend.kill_container(op.container, op.signal or "SIGKILL")
    return ""


async def _remove_container(r: _Runner, op: RemoveContainer) -> str:
    if op.container in r.removed:
        return ""  # removed with its stop (StopContainer.then_remove)
    try:
        await r.backend.remove_container(op.container, force=op.force, volumes=op.volumes)
    except NotFoundError:
        pass  # already gone: the goal is reached
    return ""


async def _rename_container(r: _Runner, op: RenameContainer) -> str:
    try:
        await r.backend.rename_container(op.container, op.name)
    except NotFoundError as exc:
        # A concurrent recreate adopted the same new container and renamed it first.
        try:
            await r.backend.inspect_container(op.name)
        except NotFoundError:
            raise exc from None
    return ""


async def _pause_container(r: _Runner, op: PauseContainer) -> str:
    await r.backend.pause_container(op.container)
    return ""


async def _unpause_container(r: _Runner, op: UnpauseContainer) -> str:
    await r.backend.unpause_container(op.container)
    return ""


async def _wait_condition(r: _Runner, op: WaitCondition) -> str:
    await r.wait(op)
    return ""


#: Operation type -> how to run it.
HANDLERS: Mapping[type[Operation], Handler] = {
    CreateNetwork: Handler(_create_network, ("Creating", "Created")),
    RemoveNetwork: Handler(_remove_network, ("Removing", "Removed")),
    CreateVolume: Handler(_create_volume, ("Creating", "Created")),
    RemoveVolume: Handler(_remove_volume, ("Removing", "Removed")),
    PullImage: Handler(_pull_image, ("Pulling", "Pulled")),
    BuildImage: Handler(_build_image, ("Building", "Built")),
    RemoveImage: Handler(_remove_image, ("Removing", "Removed")),
    CreateContainer: Handler(_create_container, ("Creating", "Created")),
    ConnectNetwork: Handler(_connect_network, ("", "")),
    CopyToContainer: Handler(_copy_to_container, ("", "")),
    StartContainer: Handler(_start_container, ("Starting", "Started")),
    SyncFiles: Handler(_sync_files, ("Syncing", "Synced")),
    StopContainer: Handler(_stop_container, ("Stopping", "Stopped")),
    KillContainer: Handler(_kill_container, ("Killing", "Killed")),
    RemoveContainer: Handler(_remove_container, ("Removing", "Removed")),
    RenameContainer: Handler(_rename_container, ("", "")),
    PauseContainer: Handler(_pause_container, ("Pausing", "Paused")),
    UnpauseContainer: Handler(_unpause_container, ("Unpausing", "Unpaused")),
    WaitCondition: Handler(_wait_condition, ("", "")),
    CreateService: Handler(stack.create_service, ("Creating", "Created")),
    UpdateService: Handler(stack.update_service, ("Updating", "Updated")),
    RemoveService: Handler(stack.remove_service, ("Removing", "Removed")),
    CreateSwarmObject: Handler(stack.create_swarm_object, ("Creating", "Created")),
    UpdateSwarmObject: Handler(stack.update_swarm_object, ("Updating", "Updated")),
    RemoveSwarmObject: Handler(stack.remove_swarm_object, ("Removing", "Removed")),
    WaitService: Handler(stack.wait_service, ("Waiting", "Converged")),
}


async def execute(plan: Plan, backend: Backend, *, events: Reporter | None = None,
                  poll_interval: float = POLL_INTERVAL) -> ExecutionResult:
    """Run every step of ``plan`` on ``backend``, each as soon as its prerequisites
    are done; report progress to ``events``.

    Returns the :class:`ExecutionResult` when every step succeeded (optional
    dependencies that failed only add warnings). Otherwise raises
    :class:`~composer.runtime.errors.ExecutionError` once all the steps that can
    still run have run: one line per failure naming the service (or network,
    volume, image) and the cause. Exceptions that are not
    :class:`~composer.errors.ComposerError` are bugs and propagate at once.
    """
    return await _Runner(plan, backend, events, poll_interval).run()
