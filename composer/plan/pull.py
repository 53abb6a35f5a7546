"""``PullImage`` steps: which images ``up`` pulls before it creates anything. Pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from composer.backends.errors import NotFoundError
from composer.frozen import frozen
from composer.graph import build_graph
from composer.model.naming import service_image
from composer.model.project import Project
from composer.plan.plan import Plan
from composer.plan.shared import select
from composer.plan.steps import PullImage

__all__ = ["PullPlanOptions", "plan_pull"]


@frozen(kw_only=True)
class PullPlanOptions:
    """``policy`` overrides every service's ``pull_policy`` (``up --pull``);
    ``build`` (``up --build``) gives services with ``build:`` the policy ``build``."""

    services: Sequence[str] = ()
    no_deps: bool = False
    policy: str | None = None
    build: bool = False


def plan_pull(project: Project, image_ids: Mapping[str, str | None],
              options: PullPlanOptions | None = None) -> Plan:
    """``PullImage`` steps for the images ``up`` needs, by each service's pull policy.

    ``image_ids`` maps image references to their local ID (None: not present).
    ``missing`` (the default), ``if_not_present`` and the periodic policies pull
    an absent image; ``always`` pulls every time; ``never`` and ``build`` never
    pull. As v2 does, an image that can be built (by this service or another
    naming the same ``image:``) is pulled by these rules too, its step marked
    ``buildable``: a failed pull leaves it to :func:`composer.plan.build.plan_build`.
    An image without ``image:`` (``{project}-{service}``) is only ever built.
    """
    opts = options or PullPlanOptions()
    plan = Plan(project=project.name)
    seen: set[str] = set()
    for name in select(build_graph(project), project, opts.services,
                       include_dependencies=not opts.no_deps):
        service = project.services[name]
        image = service_image(project.name, name, service)
        if image in seen or not service.image:
            continue
        policy = opts.policy or service.pull_policy or "missing"
        if opts.build and service.build is not None:
            policy = "build"  # v2's `up --build` sets it on every service with build:
        present = image_ids.get(image) is not None
        buildable = service.build is not None or any(
            other.build is not None and other.image == service.image
            for other in project.services.values())
        if policy == "never" and not present and not buildable:
            # v2 creates the other containers first and fails on this one; failing
            # before anything is created leaves nothing half-made behind.
            how = "--pull never" if opts.policy else "pull_policy: never"
            raise NotFoundError(f'service "{name}": image "{image}" is not present on the '
                                f"engine and {how} forbids pulling it")
        if policy == "always":
            reason = "pull_policy always"
        elif policy in ("never", "build") or present:
            continue
        else:
            reason = "not found locally"
        seen.add(image)
        plan.add(PullImage(image=image, platform=service.platform, service=name,
                           buildable=buildable, display=f"Image {image}"),
                 f"image:{image}", f"{reason}, built if the pull fails" if buildable else reason)
    return plan
