"""Images: run the builds of a build plan, pull and push the services' images.

* :func:`build_images` runs the ``BuildImage`` steps of a plan from
  :func:`composer.plan.build.plan_build` side by side. Each build's output
  reaches ``events`` line by line under the service's name
  (``ProgressEvent("app", "Step 1/4 : FROM busybox")``), framed by
  ``Service app Building`` / ``Built``. A failed build raises one
  :class:`~composer.errors.BuildError` line per failed service, naming the
  step and the engine's message.
* :func:`pull_services` is ``pull`` as Docker Compose v2 runs it: services
  without ``image:`` are skipped, ``pull_policy`` ``never``/``build`` skip, and
  ``missing``/``if_not_present`` skip an image already here; other images are
  pulled even when present. A failed pull names the service and the image;
  for a service that can be built, its line reads ``Warning`` and the error
  says to build it (v2 2.40 still fails ``pull`` for it, unless
  ``--ignore-pull-failures``; ``--ignore-buildable`` skips it).
* :func:`pull_images` runs the ``PullImage`` steps of a plan from
  :func:`composer.plan.reconcile.plan_pull` (``up``'s pulls) side by side. A
  step whose image can be built (``buildable``) survives a failed pull with a
  ``Warning`` line, and ``up`` builds it next, as v2 does; other failures raise
  one :class:`~composer.errors.ExecutionError` line per service.
* Both report each pull's progress: :class:`PullProgress` folds the engine's
  JSON progress messages into per-layer and per-image progress, reported as
  :class:`PullEvent` (layers done/total, bytes downloaded/total).
* :func:`push_services` pushes the images of services that have both
  ``build:`` and ``image:`` (and their ``build.tags``), as v2 does; ``build
  --push`` runs it once every build has succeeded.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import anyio

from composer.backends.base import Backend, BuildRequest
from composer.errors import (
    BuildError,
    ComposerError,
    EngineError,
    ExecutionError,
    StepFailure,
)
from composer.frozen import frozen
from composer.model.naming import service_image
from composer.model.project import Project
from composer.plan.build import BUILD_IMAGE, select_services
from composer.plan.plan import PULL_IMAGE, Plan
from composer.runtime.progress import DONE, ERROR, WARNING, WORKING, ProgressEvent, Reporter

__all__ = [
    "PullEvent",
    "PullOptions",
    "PullProgress",
    "PushOptions",
    "build_images",
    "pull_images",
    "pull_services",
    "push_services",
]


def _emit(events: Reporter | None, resource: str, status: str, state: str = WORKING,
          elapsed: float | None = None, detail: str = "") -> None:
    if events is not None:
        events(ProgressEvent(resource, status, state, elapsed, detail))


# -- build -------------------------------------------------------------------------------------


async def build_images(backend: Backend, plan: Plan, *,
                       events: Reporter | None = None,
                       memory: int | None = None) -> dict[str, str]:
    """Run the plan's ``BuildImage`` steps concurrently; returns image name -> new ID.

    ``memory`` (bytes, ``build -m``) limits every build's RUN containers.
    Every build runs to its end; then, if any failed, raises
    :class:`~composer.errors.BuildError` with one line per failed service (in
    plan order).
    """
    built: dict[str, str] = {}
    failures: dict[int, str] = {}

    async def run(step_id: int, service: str, image: str, request: object) -> None:
        display = f"Service {service}"
        quiet = bool(getattr(request, "quiet", False))

        def line(text: str) -> None:
            if not quiet:
                _emit(events, service, text)

        if memory and isinstance(request, BuildRequest):
            request = dataclasses.replace(request, memory=memory)
        began = anyio.current_time()
        _emit(events, display, "Building")
        try:
            built[image] = await backend.build_image(request, on_line=line)  # type: ignore[arg-type]
        except ComposerError as exc:
            _emit(events, display, "Error", ERROR, anyio.current_time() - began, str(exc))
            text = str(exc)
            if not text.startswith(f'service "{service}"'):
                text = f'service "{service}" failed to build: {text}'
            failures[step_id] = text
            return
        _emit(events, display, "Built", DONE, anyio.current_time() - began)

    async with anyio.create_task_group() as tg:
        for step in plan:
            if step.op == BUILD_IMAGE:
                tg.start_soon(run, step.id, str(step.args["service"]), str(step.args["image"]),
                              step.args["request"])
    if failures:
        raise BuildError("\n".join(failures[k] for k in sorted(failures)))
    return built


# -- pull progress -----------------------------------------------------------------------------


@frozen(slots=True)
class PullEvent(ProgressEvent):
    """A pull's progress line. An image's line (``parent`` empty) carries the bytes
    downloaded so far and the total known (``current``/``total``) and its layers
    (``layers_done``/``layers_total``); a layer's line (``resource``: the layer ID,
    ``parent``: the image's resource) carries its phase's bytes."""

    parent: str = ""
    current: int = 0
    total: int = 0
    layers_done: int = 0
    layers_total: int = 0


# The engine's layer phases, as v2 reads them (pkg/compose/pull.go): a layer waits,
# moves bytes (download, checksum, extraction) and is done once complete.
_LAYER_DONE = ("Download complete", "Already exists", "Pull complete")
_LAYER_FINISHED = ("Already exists", "Pull complete")
_LAYER_WAITING = ("Preparing", "Waiting", "Pulling fs layer")


@dataclass
class _Layer:
    status: str = ""
    current: int = 0  # bytes of the current phase (download or extraction)
    total: int = 0
    downloaded: int = 0
    size: int = 0  # 0: not known yet


class PullProgress:
    """Folds one image's pull progress messages (``{"id": layer, "status": ...,
    "progressDetail": {"current": n, "total": m}}``, as the Engine API streams them)
    into per-layer and per-image progress, reported to ``events`` as
    :class:`PullEvent` under ``resource`` (the image's line).

    As v2 does, a message without a layer ID or without ``progressDetail``
    ("Pulling from library/busybox", "Digest: ...") is no layer's and is skipped.
    """

    def __init__(self, resource: str, events: Reporter | None) -> None:
        self.resource = resource
        self.events = events
        self.layers: dict[str, _Layer] = {}

    @property
    def layers_done(self) -> int:
        return sum(1 for layer in self.layers.values() if layer.status in _LAYER_FINISHED)

    @property
    def current(self) -> int:
        """Bytes downloaded so far, all layers together."""
        return sum(layer.downloaded for layer in self.layers.values())

    @property
    def total(self) -> int:
        """Bytes to download, summed over the layers whose size is known."""
        return sum(layer.size for layer in self.layers.values())

    def feed(self, message: Mapping[str, Any]) -> None:
        """Take one message; reports the layer's line, then the image's."""
        ident = message.get("id")
        detail = message.get("progressDetail")
        if not ident or not isinstance(detail, Mapping):
            return
        status = str(message.get("status") or "")
        layer = self.layers.setdefault(str(ident), _Layer())
        layer.status = status
        current, total = _int(detail.get("current")), _int(detail.get("total"))
        if status == "Downloading":
            layer.current, layer.total = current, total
            layer.downloaded, layer.size = current, max(total, layer.size)
        elif status in _LAYER_WAITING:
            layer.current = layer.total = 0
        elif status == "Extracting":
            layer.current, layer.total = current, total
            layer.downloaded = layer.size = max(layer.size, total)
        else:  # Verifying Checksum, Download complete, Already exists, Pull complete
            layer.downloaded = layer.size
            layer.current = layer.total = layer.size
        if self.events is None:
            return
        self.events(PullEvent(str(ident), status, DONE if status in _LAYER_DONE else WORKING,
                              parent=self.resource, current=layer.current, total=layer.total))
        self.events(PullEvent(self.resource, "Pulling", current=self.current, total=self.total,
                              layers_done=self.layers_done, layers_total=len(self.layers)))


def _int(value: object) -> int:
    return value if isinstance(value, int) and value > 0 else 0


def _daemon_text(exc: BaseException) -> str:
    # v2 prints the daemon's own words on a pull's Warning line, without the client's prefix.
    return str(exc).removeprefix("Error response from daemon: ")


async def pull_images(backend: Backend, plan: Plan, *,
                      events: Reporter | None = None, quiet: bool = False) -> list[str]:
    """Run the plan's ``PullImage`` steps side by side, reporting each pull's progress
    (with ``quiet``, as ``up --quiet-pull``: only each image's own lines, no layers).

    A step with ``buildable`` set survives a failed pull: its line reads
    ``Warning`` with the engine's words and the image is left for the build
    (the returned list names those images, in plan order). Once every pull has
    ended, other failures raise :class:`~composer.errors.ExecutionError` with one
    line per service (``service "web": pulling image "x": <why>``).
    """
    failures: dict[int, StepFailure] = {}
    tolerated: dict[int, str] = {}

    async def pull(step_id: int, step: Any) -> None:
        image = str(step.args["image"])
        display = str(step.args.get("display") or step.resource)
        began = anyio.current_time()
        _emit(events, display, "Pulling")
        progress = PullProgress(display, events)
        try:
            await backend.pull_image(image, platform=step.args.get("platform"),
                                     on_progress=None if quiet else progress.feed)
        except ComposerError as exc:
            elapsed = anyio.current_time() - began
            if step.args.get("buildable"):
                tolerated[step_id] = image
                _emit(events, display, f"Warning {_daemon_text(exc)}", WARNING, elapsed)
                return
            _emit(events, display, "Error", ERROR, elapsed, str(exc))
            service = step.args.get("service")
            subject = f'service "{service}"' if service else f'image "{image}"'
            failures[step_id] = StepFailure(subject, str(step),
                                            f'pulling image "{image}": {exc}')
            return
        _emit(events, display, "Pulled", DONE, anyio.current_time() - began)

    async with anyio.create_task_group() as tg:
        for step in plan:
            if step.op == PULL_IMAGE:
                tg.start_soon(pull, step.id, step)
    if failures:
        raise ExecutionError([failures[k] for k in sorted(failures)], [])
    return [tolerated[k] for k in sorted(tolerated)]


# -- pull --------------------------------------------------------------------------------------


@frozen(kw_only=True)
class PullOptions:
    """``pull``: the services (empty: all), their dependencies too with
    ``include_deps``; ``ignore_failures`` turns failed pulls into warnings;
    ``ignore_buildable`` skips services that can be built; ``quiet`` reports
    nothing but errors; ``policy`` (``--policy``: ``missing`` or ``always``)
    replaces every service's ``pull_policy``."""

    services: Sequence[str] = ()
    include_deps: bool = False
    policy: str | None = None
    dry_run: bool = False
    ignore_failures: bool = False
    ignore_buildable: bool = False
    quiet: bool = False


async def pull_services(backend: Backend, project: Project, options: PullOptions | None = None,
                        *, events: Reporter | None = None) -> list[str]:
    """Pull the services' images (see the module docstring); returns warnings.

    Raises :class:`~composer.errors.EngineError` naming the service and image
    of the first failed pull (in project order) unless ``ignore_failures``.
    """
    opts = options or PullOptions()
    report = None if opts.quiet else events
    wanted: dict[str, str] = {}  # image -> first service using it
    buildable: dict[str, bool] = {}
    for name in select_services(project, opts.services, with_dependencies=opts.include_deps):
        service = project.services[name]
        if not service.image:
            _emit(report, name, "Skipped - No image to be pulled", DONE)
            continue
        image = service.image
        policy = opts.policy or service.pull_policy or ""
        if policy in ("never", "build"):
            _emit(report, f"Image {image}", "Skipped", DONE)
            continue
        if policy in ("missing", "if_not_present") and await backend.image_id(image):
            _emit(report, f"Image {image}", "Skipped - Image is already present locally", DONE)
            continue
        if service.build is not None and opts.ignore_buildable:
            _emit(report, name, "Skipped - Image can be built", DONE)
            continue
        if image in wanted:
            continue
        wanted[image] = name
        buildable[image] = service.build is not None or any(
            s.build is not None and s.image == image for s in project.services.values())

    errors: dict[str, str] = {}
    must_build: list[str] = []
    warnings: list[str] = []

    async def pull(image: str, service: str) -> None:
        began = anyio.current_time()
        _emit(report, service, "Pulling")
        platform = project.services[service].platform
        progress = PullProgress(service, report)
        try:
            if not opts.dry_run:
                await backend.pull_image(image, platform=platform, on_progress=progress.feed)
        except ComposerError as exc:
            elapsed = anyio.current_time() - began
            message = f'service "{service}": cannot pull image {image}: {exc}'
            if buildable[image]:
                # v2 says the image can be built, yet `pull` still fails for it.
                must_build.append(service)
                _emit(events, service, f"Warning {_daemon_text(exc)}", WARNING, elapsed)
                if not opts.ignore_failures:
                    errors[service] = message
                return
            if opts.ignore_failures:
                warnings.append(message)
                _emit(events, service, "Error", WARNING, elapsed, str(exc))
                return
            _emit(events, service, "Error", ERROR, elapsed, str(exc))
            errors[service] = message
            return
        _emit(report, service, "Pulled", DONE, anyio.current_time() - began)

    async with anyio.create_task_group() as tg:
        for image, owner in wanted.items():
            tg.start_soon(pull, image, owner)
    if must_build:
        names = " ".join(s for s in project.services if s in must_build)
        warnings.append("Some service image(s) must be built from source by running: "
                        f"composer build {names}")
    if errors:
        first = next(s for s in project.services if s in errors)
        # The hint first, the failure last: the line a person reads first.
        hint = warnings[-1:] if must_build else []
        raise EngineError("\n".join([*hint, errors[first]]))
    return warnings


# -- push --------------------------------------------------------------------------------------


@frozen(kw_only=True)
class PushOptions:
    """``push``: the services (empty: all), their dependencies too with
    ``include_deps``; ``ignore_failures`` turns failed pushes into warnings."""

    services: Sequence[str] = ()
    include_deps: bool = False
    ignore_failures: bool = False
    quiet: bool = False
    dry_run: bool = False


async def push_services(backend: Backend, project: Project, options: PushOptions | None = None,
                        *, events: Reporter | None = None) -> list[str]:
    """Push ``image:`` (and ``build.tags``) of every selected service that has both
    ``build:`` and ``image:``; others are skipped. Returns warnings; raises
    :class:`~composer.errors.EngineError` naming service and image on the first
    failure unless ``ignore_failures``."""
    opts = options or PushOptions()
    report = None if opts.quiet else events
    jobs: list[tuple[str, str]] = []
    for name in select_services(project, opts.services, with_dependencies=opts.include_deps):
        service = project.services[name]
        if service.build is None or not service.image:
            _emit(report, name, "Skipped", DONE)
            continue
        image = service_image(project.name, name, service)
        for tag in (image, *(service.build.tags or ())):
            jobs.append((name, tag))
    errors: dict[int, str] = {}
    warnings: list[str] = []

    async def push(index: int, service: str, image: str) -> None:
        began = anyio.current_time()
        _emit(report, f"Image {image}", "Pushing")
        try:
            if not opts.dry_run:
                await backend.push_image(image)
        except ComposerError as exc:
            message = f'service "{service}": cannot push image {image}: {exc}'
            elapsed = anyio.current_time() - began
            if opts.ignore_failures:
                warnings.append(message)
                _emit(events, f"Image {image}", "Error", WARNING, elapsed, str(exc))
            else:
                _emit(events, f"Image {image}", "Error", ERROR, elapsed, str(exc))
                errors[index] = message
            return
        _emit(report, f"Image {image}", "Pushed", DONE, anyio.current_time() - began)

    async with anyio.create_task_group() as tg:
        for index, (owner, image) in enumerate(jobs):
            tg.start_soon(push, index, owner, image)
    if errors:
        raise EngineError(errors[min(errors)])
    return warnings
