"""Which images to build, and how: ``BuildImage`` steps from the ``build:`` sections. Pure.

Decisions follow Docker Compose v2: a service with a ``build:`` section is
built when its image (``image:``, else ``{project}-{service}``) is not on the
engine, when its ``pull_policy`` is ``build``, or when the command forces it
(``build``, ``up --build``). Services sharing one image name build it once.
Each step's ``request`` is a complete
:class:`~composer.backends.base.BuildRequest`: context, Dockerfile (or
``dockerfile_inline``), args (``--build-arg`` wins over the file), target,
labels (the file's, plus the project's ``com.docker.compose.*`` labels so
``down --rmi local`` finds the image), cache_from, network, shm_size,
extra_hosts, tags, no_cache, pull.

The engine's classic builder cannot do what only BuildKit does (build
secrets, ssh, additional contexts, several platforms, privileged builds,
entitlements): asking for them raises
:class:`~composer.errors.UnsupportedError` naming the service and the key.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import field

from composer._version import __version__
from composer.backends.base import BuildRequest
from composer.errors import NotFoundError, UnsupportedError, ValidationError
from composer.frozen import frozen
from composer.graph import build_graph, dependencies_of
from composer.model import labels
from composer.model.naming import service_image
from composer.model.project import Project, ServiceConfig
from composer.plan.plan import Plan
from composer.plan.steps import BuildImage

__all__ = ["BUILD_IMAGE", "BuildPlanOptions", "build_request", "plan_build", "select_services"]

#: The word of the plan operation :class:`~composer.plan.steps.BuildImage`.
BUILD_IMAGE = "BuildImage"
#: The builder the classic API is, as v2 labels images it builds with it.
CLASSIC_BUILDER = "classic"

# BuildKit-only keys, and why the classic builder cannot honour them.
_BUILDKIT_ONLY = ("secrets", "ssh", "additional_contexts", "entitlements", "privileged")


@frozen(kw_only=True)
class BuildPlanOptions:
    """``services`` to consider (empty: all), with their dependencies unless
    ``no_deps``; ``force`` builds them even when their image exists
    (``build``, ``up --build``); ``build_args`` override the file's args (a None
    value takes the variable from ``environment``); ``no_cache``, ``pull`` and
    ``quiet`` apply to every build. ``no_build`` (``up --no-build``) plans no
    build and raises :class:`~composer.errors.NotFoundError` for a service whose
    image would have to be built, before anything is created."""

    services: Sequence[str] = ()
    no_deps: bool = False
    force: bool = False
    no_build: bool = False
    build_args: Mapping[str, str | None] = field(default_factory=dict)
    environment: Mapping[str, str] = field(default_factory=dict)
    no_cache: bool = False
    pull: bool = False
    quiet: bool = False


def select_services(project: Project, services: Sequence[str], *,
                    with_dependencies: bool) -> list[str]:
    """``services`` (empty: all), with what they depend on when ``with_dependencies``,
    in project order; :class:`~composer.errors.ValidationError` for an unknown name."""
    for name in services:
        if name not in project.services:
            raise ValidationError(f"no such service: {name}")
    if not services:
        return list(project.services)
    chosen = set(services)
    if with_dependencies:
        chosen |= dependencies_of(build_graph(project), list(services))
    return [name for name in project.services if name in chosen]


def _check_classic(service: ServiceConfig) -> None:
    build = service.build
    assert build is not None
    for key in _BUILDKIT_ONLY:
        if getattr(build, key):
            raise UnsupportedError(
                f'service "{service.name}": build.{key} needs BuildKit, and this engine '
                "builds with its classic builder")
    if build.platforms and len(build.platforms) > 1:
        raise UnsupportedError(
            f'service "{service.name}": build.platforms lists several platforms; the classic '
            "builder builds one")


def _extra_hosts(entries: Sequence[str] | None) -> dict[str, str]:
    hosts: dict[str, str] = {}
    for entry in entries or ():
        # Canonical form is "host=ip"; "host:ip" is accepted too (IPv6 keeps its colons).
        name, sep, address = entry.partition("=")
        if not sep:
            name, _, address = entry.partition(":")
        hosts[name] = address
    return hosts


def build_request(project: Project, name: str,
                  options: BuildPlanOptions | None = None) -> BuildRequest:
    """The :class:`BuildRequest` for service ``name`` (which must have a ``build:``)."""
    opts = options or BuildPlanOptions()
    service = project.services[name]
    build = service.build
    if build is None:
        raise ValidationError(f'service "{name}" has no build section')
    _check_classic(service)
    args: dict[str, str | None] = dict(build.args or {})
    for key, value in opts.build_args.items():
        args[key] = value if value is not None else opts.environment.get(key)
    image_labels = dict(build.labels or {})
    image_labels.update({
        labels.PROJECT: project.name,
        labels.SERVICE: name,
        labels.VERSION: __version__,
        labels.IMAGE_BUILDER: CLASSIC_BUILDER,
    })
    platform = (build.platforms[0] if build.platforms else None) or service.platform
    return BuildRequest(
        service=name,
        tag=service_image(project.name, name, service),
        context=build.context or project.working_dir or ".",
        dockerfile=build.dockerfile or "Dockerfile",
        dockerfile_inline=build.dockerfile_inline,
        args={k: v for k, v in args.items() if v is not None},
        target=build.target,
        labels=image_labels,
        cache_from=tuple(build.cache_from or ()),
        network=build.network,
        shm_size=build.shm_size,
        extra_hosts=_extra_hosts(build.extra_hosts),
        extra_tags=tuple(build.tags or ()),
        no_cache=bool(build.no_cache) or opts.no_cache,
        pull=bool(build.pull) or opts.pull,
        platform=platform,
        isolation=build.isolation,
        quiet=opts.quiet,
    )


def plan_build(project: Project, image_ids: Mapping[str, str | None],
               options: BuildPlanOptions | None = None) -> Plan:
    """``BuildImage`` steps for the selected services that must be built.

    ``image_ids`` maps image names to their local ID (None or absent: not on the
    engine). Steps have no prerequisites: builds run side by side.
    """
    opts = options or BuildPlanOptions()
    plan = Plan(project=project.name)
    seen: set[str] = set()
    for name in select_services(project, opts.services, with_dependencies=not opts.no_deps):
        service = project.services[name]
        if service.build is None:
            continue
        image = service_image(project.name, name, service)
        if image in seen:
            continue
        if opts.force:
            reason = "build requested"
        elif service.pull_policy == "build":
            reason = "pull_policy build"
        elif image_ids.get(image) is None:
            reason = "image not found"
        else:
            continue
        if opts.no_build:
            if image_ids.get(image) is None:
                raise NotFoundError(f'service "{name}": image {image} is not present on the '
                                    "engine and --no-build forbids building it")
            continue
        seen.add(image)
        plan.add(BuildImage(service=name, image=image, request=build_request(project, name, opts),
                            display=f"Service {name}"), f"image:{image}", reason)
    return plan
