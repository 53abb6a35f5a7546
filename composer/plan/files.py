"""Secrets and configs copied into a container before it starts: the
``CopyToContainer`` steps every planner that starts containers adds. Pure.

Docker Compose v2 copies a secret or config that comes from an ``environment:``
variable or ``content:`` into each container of the service right before
starting it (``up``, ``start``, and ``run``'s one-off container after its
create; not ``restart``, which restarts in place); one that comes from a
``file:`` is a read-only bind mount instead (see
:mod:`composer.backends.spec.files`). A step names the secret and its target,
never its value.
"""

from __future__ import annotations

from collections.abc import Mapping

from composer.backends.spec.files import ContainerFile, container_files
from composer.model.project import Project, ServiceConfig
from composer.plan.plan import Plan
from composer.plan.steps import CopyToContainer

__all__ = ["FileCopies"]


class FileCopies:
    """The files each service's containers get, worked out once per service (an
    unset variable or a ``read_only`` service is refused the first time a
    container of it is to start)."""

    def __init__(self, project: Project, environment: Mapping[str, str] | None) -> None:
        self.project = project
        self.environment = environment
        self._files: dict[str, tuple[ContainerFile, ...]] = {}

    def of(self, service: ServiceConfig) -> tuple[ContainerFile, ...]:
        """The files copied into a container of ``service`` before it starts."""
        found = self._files.get(service.name)
        if found is None:
            found = self._files[service.name] = container_files(
                self.project, service, self.environment)
        return found

    def add(self, plan: Plan, service: ServiceConfig, container: str, name: str,
            resource: str, after: tuple[int, ...]) -> tuple[int, ...]:
        """``CopyToContainer`` steps (one per file, in v2's order) into
        ``container`` (an ID, or the name a step creates), after the steps
        ``after``; returns what a start must wait for (``after`` when there is
        nothing to copy). ``name`` is the container's name, for progress lines."""
        last = after
        for file in self.of(service):
            last = (plan.add(CopyToContainer(container=container, file=file,
                                             display=f"Container {name}", progress=("", "")),
                             resource, file.describe, last),)
        return last
