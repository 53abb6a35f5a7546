"""The facade's verbs: :class:`Compose` observes, plans and executes.

Each verb makes one listing of the project on the engine (``Backend.observe``),
asks the planner of its verb for a :class:`~composer.plan.plan.Plan` and runs
it with :func:`~composer.runtime.executor.execute` (``dry_run``: plan only).

Errors: everything raised is a :class:`composer.errors.ComposerError`: a
``ValidationError`` for a selection the project cannot have, an ``EngineError``
(``NotFoundError``, ``EngineUnreachableError``...) when the engine refuses, and
an :class:`~composer.runtime.errors.ExecutionError` naming each failed service
when steps of a plan fail (its ``warnings`` keep the ones met before, such as
orphans found).

Each verb that changes the project holds the project's lock while it runs
(:mod:`composer.runtime.lock`): another composer command on the same project
and engine waits for it (a ``Waiting for another composer command`` progress
line), so concurrent commands run one after the other. ``dry_run`` takes no lock.
"""

from __future__ import annotations

import functools
import os
import posixpath
import secrets
import sys
from collections.abc import Awaitable, Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Concatenate, ParamSpec, TypeVar

import anyio

from composer.api.options import (
    BuildOptions,
    CreateOptions,
    DownOptions,
    KillOptions,
    Outcome,
    PauseOptions,
    PsOptions,
    RestartOptions,
    RmOptions,
    RunOptions,
    RunOutcome,
    StartOptions,
    StopOptions,
    UnpauseOptions,
    UpOptions,
)
from composer.backends.base import Backend, ContainerState, Observed
from composer.backends.errors import NotFoundError
from composer.backends.spec import api_at_least
from composer.config.loader import LoadedProject
from composer.errors import ConfigError, UsageError, ValidationError
from composer.model import labels
from composer.model.naming import service_image
from composer.model.project import Project
from composer.plan import build as build_plan
from composer.plan import checks, reconcile
from composer.plan.plan import Plan
from composer.plan.steps import CreateContainer, PullImage
from composer.runtime import images as images_runtime
from composer.runtime.errors import ExecutionError
from composer.runtime.executor import execute
from composer.runtime.lock import project_lock
from composer.runtime.progress import DONE, ProgressEvent, Reporter

__all__ = ["Compose", "project_model"]


# -- helpers -----------------------------------------------------------------------------------

ProjectRef = LoadedProject | str


def _name(project: ProjectRef) -> str:
    return project if isinstance(project, str) else project.name


def project_model(project: LoadedProject) -> Project:
    """The typed model of a loaded project (:class:`composer.model.project.Project`)."""
    return project.model


_model = project_model


def _target(project: ProjectRef) -> Project | str:
    return project if isinstance(project, str) else _model(project)


@contextmanager
def _located(project: LoadedProject) -> Iterator[None]:
    """A planner's refusal naming a key path gets the file and line it was written at."""
    try:
        yield
    except ConfigError as exc:
        if exc.mark is None and exc.path:
            exc.mark = project.locate(exc.path)
            exc.file = exc.mark.file if exc.mark else exc.file
        raise


def _recreate(options: CreateOptions) -> tuple[str, str]:
    if options.force_recreate and options.no_recreate:
        raise UsageError("--force-recreate and --no-recreate are incompatible")
    if options.no_recreate:
        return reconcile.RECREATE_NEVER, reconcile.RECREATE_NEVER
    # As v2: fresh anonymous volumes need new containers, for the targeted services only.
    forced = options.force_recreate or options.renew_anon_volumes
    targeted = reconcile.RECREATE_FORCE if forced else reconcile.RECREATE_DIVERGED
    deps = (reconcile.RECREATE_FORCE if options.always_recreate_deps
            else reconcile.RECREATE_DIVERGED)
    return targeted, deps


P = ParamSpec("P")
R = TypeVar("R")
Ref = TypeVar("Ref", LoadedProject, ProjectRef)


def _locked(command: str) -> Callable[
        [Callable[Concatenate[Compose, Ref, P], Awaitable[R]]],
        Callable[Concatenate[Compose, Ref, P], Awaitable[R]]]:
    """The verb runs holding the project's lock (none with ``dry_run``)."""

    def wrap(verb: Callable[Concatenate[Compose, Ref, P], Awaitable[R]]
             ) -> Callable[Concatenate[Compose, Ref, P], Awaitable[R]]:
        @functools.wraps(verb)
        async def locked(self: Compose, project: Ref, /, *args: P.args,
                         **kwargs: P.kwargs) -> R:
            options = args[0] if args else kwargs.get("options")
            if getattr(options, "dry_run", False):
                return await verb(self, project, *args, **kwargs)
            name = _name(project)

            def waiting(text: str) -> None:
                if self.events is not None:
                    self.events(ProgressEvent(f"Project {name}", text, DONE))

            async with project_lock(self.backend.address, name, command=command,
                                    on_wait=waiting, timeout=self.lock_timeout):
                return await verb(self, project, *args, **kwargs)

        return locked

    return wrap


class Compose:
    """Runs compose projects on ``backend``; progress goes to ``events``.

    ``lock_timeout``: how long (seconds) a verb waits for another composer
    command on the same project before it fails with
    :class:`~composer.errors.LockError`; ``None`` (the default) waits until it ends."""

    def __init__(self, backend: Backend, *, events: Reporter | None = None,
                 lock_timeout: float | None = None) -> None:
        self.backend = backend
        self.events = events
        self.lock_timeout = lock_timeout

    def _refuse_unsupported(self, plan: Plan) -> None:
        """The engine's refusal of a container the plan would create, before anything
        is (a :class:`ConfigError` naming the service's key)."""
        for step in plan:
            op = step.operation
            if isinstance(op, CreateContainer):
                refused = self.backend.unsupported(op.body)
                if refused:
                    key, why = refused[0]
                    path: tuple[str | int, ...] = ("services", op.service, *key.split("."))
                    raise ConfigError(why, path=path)

    async def _run(self, outcome: Outcome, plan: Plan, dry_run: bool) -> Outcome:
        self._refuse_unsupported(plan)
        outcome.plans.append(plan)
        outcome.warnings += plan.warnings
        if dry_run:
            return outcome
        if self.events is not None:
            for resource in plan.unchanged:
                self.events(ProgressEvent(resource, "Running", DONE))
        try:
            result = await execute(plan, self.backend, events=self.events)
        except ExecutionError as exc:
            exc.warnings[:0] = outcome.warnings
            raise
        outcome.results.append(result)
        outcome.warnings += result.warnings
        outcome.executed = True
        return outcome

    async def _images(self, images: Iterable[str]) -> dict[str, str | None]:
        found: dict[str, str | None] = {}

        async def look(image: str) -> None:
            found[image] = await self.backend.image_id(image)

        async with anyio.create_task_group() as tg:
            for image in sorted(set(images)):
                tg.start_soon(look, image)
        return found

    async def _image_volumes(self, images: Iterable[str]) -> dict[str, list[str]]:
        volumes: dict[str, list[str]] = {}

        async def look(image: str) -> None:
            try:
                info = await self.backend.inspect_image(image)
            except NotFoundError:
                return
            volumes[image] = sorted(info.volumes)

        async with anyio.create_task_group() as tg:
            for image in sorted(set(images)):
                tg.start_soon(look, image)
        return volumes

    async def _external(self, model: Project) -> set[str] | None:
        """Names of the project's external networks and volumes that exist, or None
        when the backend cannot tell (the create call then reports what is missing)."""
        inspect_network = self.backend.inspect_network
        inspect_volume = self.backend.inspect_volume
        wanted: list[tuple[Any, str]] = [
            (inspect_network, cfg.name or key) for key, cfg in model.networks.items()
            if cfg is not None and cfg.external]
        wanted += [(inspect_volume, cfg.name or key) for key, cfg in model.volumes.items()
                   if cfg is not None and cfg.external]
        existing: set[str] = set()

        async def look(inspect: Any, name: str) -> None:
            try:
                await inspect(name)
            except NotFoundError:
                return
            existing.add(name)

        async with anyio.create_task_group() as tg:
            for inspect, name in wanted:
                tg.start_soon(look, inspect, name)
        return existing

    async def _facts(self, model: Project, names: Iterable[str] = ()) -> checks.EngineFacts:
        """What :mod:`composer.plan.checks` needs of the engine: the containers already
        under the names the project asks for, and (for an engine on this machine,
        whose host paths are ours) the bind sources and devices that are missing."""
        wanted = {s.container_name for s in model.services.values() if s.container_name}
        wanted.update(n for n in names if n)
        found: dict[str, Any] = {}

        async def look(name: str) -> None:
            try:
                info = await self.backend.inspect_container(name)
            except NotFoundError:
                return
            if info.name == name:  # not a container whose ID merely starts so
                found[name] = info

        async with anyio.create_task_group() as tg:
            for name in sorted(wanted):
                tg.start_soon(look, name)
        missing: set[str] = set()
        if self.backend.address.startswith(("unix://", "http+unix://", "npipe://")):
            paths: set[str] = set()
            for service in model.services.values():
                for volume in service.volumes or ():
                    if (volume.type == "bind" and volume.bind is not None
                            and not volume.bind.create_host_path and volume.source
                            and volume.source.startswith("/")):
                        paths.add(posixpath.normpath(volume.source))
                # A device is the engine's kernel's: ours only on Linux.
                if sys.platform.startswith("linux"):
                    paths.update(posixpath.normpath(d.source) for d in service.devices or ()
                                 if d.source and d.source.startswith("/"))
            missing = {p for p in paths if not os.path.exists(p)}
        # start_interval needs API 1.44 when the engine runs the checks; composer's
        # own checks (Podman without systemd, LXC) honour it on any.
        engine_checks = True
        if not api_at_least(self.backend.api_version, "1.44") and any(
                s.healthcheck is not None and s.healthcheck.start_interval is not None
                for s in model.services.values()):
            engine_checks = await self.backend.runs_healthchecks()
        return checks.EngineFacts(containers=found, missing_paths=frozenset(missing),
                                  engine_checks=engine_checks)

    # -- up / create

    @_locked("up")
    async def up(self, project: LoadedProject, options: UpOptions | None = None) -> Outcome:
        """Create what is missing or changed, start what is not running, wait for
        what dependents need; with ``dry_run``, only return the plans."""
        opts = options or UpOptions()
        if not _model(project).services:
            raise ValidationError("no service selected")  # v2's words, and it exits 1 too
        return await self._converge(project, opts, start=not opts.no_start, wait=opts.wait,
                                    wait_timeout=opts.wait_timeout)

    @_locked("create")
    async def create(self, project: LoadedProject,
                     options: CreateOptions | None = None) -> Outcome:
        """Create (or recreate) the containers and what they need, starting nothing."""
        return await self._converge(project, options or CreateOptions(), start=False,
                                    wait=False, wait_timeout=None)

    async def _converge(self, project: LoadedProject, opts: CreateOptions, *, start: bool,
                        wait: bool, wait_timeout: float | None) -> Outcome:
        model = _model(project)
        recreate, recreate_deps = _recreate(opts)
        # Refused before anything is pulled, built or made.
        facts = await self._facts(model)
        with _located(project):
            reconcile.check_up(model, reconcile.UpPlanOptions(
                services=opts.services, no_deps=opts.no_deps, scale=opts.scale, facts=facts))
        observed = await self.backend.observe(project.name)
        outcome = Outcome()
        image_ids = await self._prepare_images(
            outcome, model, opts.services, no_deps=opts.no_deps, build=opts.build,
            no_build=opts.no_build, pull=opts.pull, quiet_build=opts.quiet_build,
            quiet_pull=opts.quiet_pull, dry_run=opts.dry_run)
        plan = reconcile.plan_up(model, observed, reconcile.UpPlanOptions(
            services=opts.services,
            no_deps=opts.no_deps,
            recreate=recreate,
            recreate_dependencies=recreate_deps,
            inherit=not opts.renew_anon_volumes,
            scale=opts.scale,
            remove_orphans=opts.remove_orphans,
            start=start,
            wait=wait,
            wait_timeout=wait_timeout,
            timeout=opts.timeout,
            config_files=project.config_files,
            working_dir=project.working_dir,
            image_ids={k: v for k, v in image_ids.items() if v},
            image_volumes=await self._image_volumes(k for k, v in image_ids.items() if v),
            existing_external=await self._external(model),
            known_services=tuple(project.all_services or ()),
            api_version=self.backend.api_version,
            base_environment=await self.backend.proxy_environment(),
            facts=facts,
            environment=project.environment,
            # v2.40 hashes a service with its env files read into `environment`
            # (the canonical dict): checked against its labels in
            # tests/integration/test_issue3_same_containers.py.
        ))
        with _located(project):  # an engine's refusal names the file's line
            return await self._run(outcome, plan, opts.dry_run)

    async def _prepare_images(self, outcome: Outcome, model: Project, services: Sequence[str],
                              *, no_deps: bool, build: bool, no_build: bool, pull: str,
                              quiet_build: bool, quiet_pull: bool, dry_run: bool
                              ) -> dict[str, str | None]:
        """Pull then build what the services (and their dependencies) need, as
        ``up`` does; the image IDs by reference."""
        images = [service_image(model.name, name, s) for name, s in model.services.items()]
        image_ids = await self._images(images)
        pulls = reconcile.plan_pull(model, image_ids, reconcile.PullPlanOptions(
            services=services, no_deps=no_deps, build=build,
            policy=None if pull == "policy" else pull))

        def plan_builds(no_build: bool) -> Plan:
            return build_plan.plan_build(model, image_ids, build_plan.BuildPlanOptions(
                services=services, no_deps=no_deps, force=build,
                no_build=no_build, quiet=quiet_build))

        # Planned before any pull, so a build the engine cannot do fails first; with
        # --no-build, a pull may still bring the image.
        builds = plan_builds(no_build and not pulls)
        if pulls:
            await self._pull(outcome, pulls, dry_run, quiet=quiet_pull)
            if not dry_run:
                image_ids.update(await self._images(
                    s.operation.image for s in pulls if isinstance(s.operation, PullImage)))
            # As v2: try the pull, build only what is still missing (a failed pull of
            # an image that can be built was only a warning).
            builds = plan_builds(no_build)
        if builds:
            image_ids.update(await self._build(outcome, builds, dry_run))
        return image_ids

    # -- run

    @_locked("run")
    async def run(self, project: LoadedProject, options: RunOptions) -> RunOutcome:
        """Bring up the dependencies of ``options.service`` as ``up`` does, wait for
        their ``depends_on`` conditions, then create the one-off container (not
        started: attach to it first, then start it). A dependency that cannot be
        satisfied fails the run with v2's words (``dependency failed to start:
        container p-db-1 has no healthcheck configured``); nothing is created for
        the one-off then. With ``dry_run``, only returns the plans."""
        model = _model(project)
        if options.service not in model.services:
            raise UsageError(f"no such service: {options.service}")
        slug = options.slug or secrets.token_hex(32)
        # Refused before anything is pulled, built or made.
        facts = await self._facts(model, [options.name])
        with _located(project):
            reconcile.check_run(model, reconcile.RunPlanOptions(
                oneoff=options, slug=slug, no_deps=options.no_deps,
                working_dir=project.working_dir or "",
                environment=options.project_environment, facts=facts))
        outcome = RunOutcome()
        image_ids = await self._prepare_images(
            outcome, model, (options.service,), no_deps=options.no_deps, build=options.build,
            no_build=False, pull=options.pull, quiet_build=options.quiet_build,
            quiet_pull=options.quiet_pull, dry_run=options.dry_run)
        observed = await self.backend.observe(project.name)
        known = {k: v for k, v in image_ids.items() if v}
        plan = reconcile.plan_run(model, observed, reconcile.RunPlanOptions(
            oneoff=options, slug=slug, no_deps=options.no_deps,
            remove_orphans=options.remove_orphans, timeout=options.timeout,
            config_files=project.config_files, working_dir=project.working_dir or "",
            environment=options.project_environment or project.environment,
            image_ids=known,
            image_volumes=await self._image_volumes(known),
            existing_external=await self._external(model),
            known_services=tuple(project.all_services or ()),
            api_version=self.backend.api_version, facts=facts))
        with _located(project):
            await self._run(outcome, plan, options.dry_run)
        outcome.container_name = reconcile.oneoff_name(model.name, options, slug)
        for result in outcome.results:
            outcome.container_id = result.created.get(outcome.container_name,
                                                      outcome.container_id)
        return outcome

    # -- images: build, pull, push (composer.runtime.images)

    async def _pull(self, outcome: Outcome, plan: Plan, dry_run: bool, *,
                    quiet: bool = False) -> None:
        outcome.plans.append(plan)
        if dry_run:
            return
        await images_runtime.pull_images(self.backend, plan, events=self.events, quiet=quiet)
        outcome.executed = True

    async def _build(self, outcome: Outcome, plan: Plan, dry_run: bool,
                     memory: int | None = None) -> dict[str, str]:
        outcome.plans.append(plan)
        if dry_run:
            return {}
        built = await images_runtime.build_images(self.backend, plan, events=self.events,
                                                  memory=memory)
        outcome.executed = True
        return built

    async def build(self, project: LoadedProject,
                    options: BuildOptions | None = None) -> Outcome:
        """Build the images of the services that have a ``build:`` section, present or
        not; raises :class:`~composer.errors.BuildError` naming the failed step."""
        opts = options or BuildOptions()
        model = _model(project)
        plan = build_plan.plan_build(model, {}, build_plan.BuildPlanOptions(
            services=opts.services, no_deps=not opts.with_dependencies, force=True,
            build_args=opts.build_args, environment=project.environment,
            no_cache=opts.no_cache, pull=opts.pull, quiet=opts.quiet))
        outcome = Outcome()
        await self._build(outcome, plan, opts.dry_run, opts.memory)
        if opts.push:
            # As v2 with the classic builder: push only once the builds succeeded.
            outcome.warnings.extend(await images_runtime.push_services(
                self.backend, model, images_runtime.PushOptions(
                    services=opts.services, include_deps=opts.with_dependencies,
                    quiet=opts.quiet, dry_run=opts.dry_run), events=self.events))
        return outcome

    async def pull(self, project: LoadedProject,
                   options: images_runtime.PullOptions | None = None) -> Outcome:
        """Pull the services' images as v2's ``pull`` does (see
        :func:`composer.runtime.images.pull_services`)."""
        warnings = await images_runtime.pull_services(self.backend, _model(project), options,
                                                      events=self.events)
        return Outcome(warnings=warnings, executed=True)

    async def push(self, project: LoadedProject,
                   options: images_runtime.PushOptions | None = None) -> Outcome:
        """Push the images of services with ``build:`` and ``image:``."""
        warnings = await images_runtime.push_services(self.backend, _model(project), options,
                                                      events=self.events)
        return Outcome(warnings=warnings, executed=True)

    # -- down and the lifecycle verbs

    @_locked("down")
    async def down(self, project: ProjectRef, options: DownOptions | None = None) -> Outcome:
        """Stop and remove the project's containers (dependents first), then its
        networks, and with ``volumes`` its volumes. Works from labels alone when
        given only the project's name."""
        opts = options or DownOptions()
        await self.backend.settle()  # a create cancelled mid-flight, seen by the listing
        observed = await self.backend.observe(_name(project))
        built: dict[str, list[str]] = {}
        if opts.rmi:
            # Built images carry the project's labels: found so from labels alone too
            # (`-p NAME down --rmi local` without the files, as v2).
            for image in await self.backend.list_images(
                    labels=[f"{labels.PROJECT}={_name(project)}"]):
                service = image.labels.get(labels.SERVICE)
                tags = [t for t in image.repo_tags if t != "<none>:<none>"]
                if service and tags:
                    built.setdefault(service, []).extend(tags)
        plan = reconcile.plan_down(_target(project), observed, reconcile.DownPlanOptions(
            services=opts.services, volumes=opts.volumes, remove_orphans=opts.remove_orphans,
            timeout=opts.timeout, images=opts.rmi, built_images=built))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("start")
    async def start(self, project: ProjectRef, options: StartOptions | None = None) -> Outcome:
        """Start the stopped containers of the services (and their dependencies)."""
        opts = options or StartOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_start(_target(project), observed, self._lifecycle(
            project, services=opts.services, wait=opts.wait, wait_timeout=opts.wait_timeout,
            environment=None if isinstance(project, str) else project.environment))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("stop")
    async def stop(self, project: ProjectRef, options: StopOptions | None = None) -> Outcome:
        """Stop the running containers of the services, dependents first."""
        opts = options or StopOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_stop(_target(project), observed, self._lifecycle(
            project, services=opts.services, timeout=opts.timeout))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("restart")
    async def restart(self, project: ProjectRef,
                      options: RestartOptions | None = None) -> Outcome:
        """Stop then start the containers of the services."""
        opts = options or RestartOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_restart(_target(project), observed, self._lifecycle(
            project, services=opts.services, timeout=opts.timeout, no_deps=opts.no_deps))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("kill")
    async def kill(self, project: ProjectRef, options: KillOptions | None = None) -> Outcome:
        """Send a signal (default SIGKILL) to the running containers."""
        opts = options or KillOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_kill(_target(project), observed, self._lifecycle(
            project, services=opts.services, signal=opts.signal,
            remove_orphans=opts.remove_orphans))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("rm")
    async def rm(self, project: ProjectRef, options: RmOptions | None = None) -> Outcome:
        """Remove the stopped containers (with ``stop``, the running ones too)."""
        opts = options or RmOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_rm(_target(project), observed, self._lifecycle(
            project, services=opts.services, stop=opts.stop, volumes=opts.volumes))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("pause")
    async def pause(self, project: ProjectRef, options: PauseOptions | None = None) -> Outcome:
        """Pause the running containers."""
        opts = options or PauseOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_pause(_target(project), observed,
                                    self._lifecycle(project, services=opts.services))
        return await self._run(Outcome(), plan, opts.dry_run)

    @_locked("unpause")
    async def unpause(self, project: ProjectRef,
                      options: UnpauseOptions | None = None) -> Outcome:
        """Unpause the paused containers."""
        opts = options or UnpauseOptions()
        observed = await self.backend.observe(_name(project))
        plan = reconcile.plan_unpause(_target(project), observed,
                                      self._lifecycle(project, services=opts.services))
        return await self._run(Outcome(), plan, opts.dry_run)

    def _lifecycle(self, project: ProjectRef, **kwargs: Any) -> reconcile.LifecyclePlanOptions:
        return reconcile.LifecyclePlanOptions(**kwargs)

    # -- ps

    async def ps(self, project: ProjectRef,
                 options: PsOptions | None = None) -> list[ContainerState]:
        """The project's containers sorted by name: running ones, or all with
        ``all``; only the given services and states when asked."""
        opts = options or PsOptions()
        name = _name(project)
        observed: Observed = await self.backend.observe(name)
        containers = [c for c in observed.containers if c.project == name]
        if opts.services:
            known = {c.service for c in containers}
            if not isinstance(project, str):
                known |= set(_model(project).services)
            for service in opts.services:
                if service not in known:
                    raise ValidationError(f"no such service: {service}")
            containers = [c for c in containers if c.service in opts.services]
        if opts.status:
            containers = [c for c in containers if c.state in opts.status]
        elif not opts.all:
            containers = [c for c in containers if c.state == "running"]
        return sorted(containers, key=lambda c: c.name)
