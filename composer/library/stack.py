"""A project as a Swarm stack: ``project.stack()`` (see :class:`StackHandle`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from composer.api.stack import ServiceRow, StackDeployOptions, Stacks, TaskRow

if TYPE_CHECKING:
    from composer.library.project import Project

__all__ = ["StackHandle"]


class StackHandle:
    """The project deployed to a swarm as stack ``name`` (by default the project's
    name), as ``composer stack deploy`` does it; the engine is a swarm manager.

    ::

        async with composer.open("compose.yaml") as project:
            stack = project.stack()
            await stack.deploy()              # waits until every service converged
            rows = await stack.services()     # replicas running/desired per service

    A stack deployed through the handle is removed when the project's ``open()``
    block ends (unless ``keep=True`` was given there).
    """

    def __init__(self, project: Project, name: str) -> None:
        self.project = project
        self.name = name
        self._stacks = Stacks(project.backend, events=project.compose.events)

    def __repr__(self) -> str:
        return f"<StackHandle {self.name}>"

    async def deploy(self, *, wait: bool = True, wait_timeout: float | None = None,
                     prune: bool = False, resolve_image: str = "always",
                     ordered: bool = False, with_registry_auth: bool = False) -> list[str]:
        """Create or update the stack (only the services whose spec changed); with
        ``wait`` (the default) until every service has converged, failing with the
        task's error when one cannot. Returns the warnings docker would print."""
        self.project._stacks_deployed.add(self.name)
        outcome = await self._stacks.deploy(self.project.loaded, self.name, StackDeployOptions(
            detach=not wait, wait_timeout=wait_timeout, prune=prune,
            resolve_image=resolve_image, ordered=ordered,
            with_registry_auth=with_registry_auth))
        return list(outcome.warnings)

    async def services(self) -> list[ServiceRow]:
        """The stack's services, with their tasks running and desired."""
        return await self._stacks.services(self.name)

    async def tasks(self) -> list[TaskRow]:
        """The stack's tasks (``stack ps``)."""
        return await self._stacks.tasks(self.name)

    async def wait(self, *, timeout: float | None = None) -> None:
        """Wait until every service of the stack has converged."""
        await self._stacks.wait(self.name, timeout=timeout)

    async def remove(self) -> None:
        """Remove the stack: its services, networks, secrets and configs."""
        await self._stacks.remove(self.name)
        self.project._stacks_deployed.discard(self.name)
