"""A plan: a DAG of steps, each one engine call (or one wait), printable as text.

A plan is data: the executor runs it without making decisions, and tests assert
on its text without any engine::

    #1 network:default CreateNetwork: not found
    #2 <- #1 service:db:1 CreateContainer: no existing container
    #3 <- #2 service:db:1 StartContainer: created
    #4 <- #3 service:db WaitCondition: service_healthy for web

Each step holds its :mod:`operation <composer.plan.steps>`, a frozen dataclass
with everything its engine call needs.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from composer.frozen import frozen
from composer.plan.steps import Operation

__all__ = [
    "CONNECT_NETWORK",
    "COPY_TO_CONTAINER",
    "CREATE_CONTAINER",
    "CREATE_NETWORK",
    "CREATE_VOLUME",
    "KILL_CONTAINER",
    "PAUSE_CONTAINER",
    "PULL_IMAGE",
    "REMOVE_CONTAINER",
    "REMOVE_IMAGE",
    "REMOVE_NETWORK",
    "REMOVE_VOLUME",
    "RENAME_CONTAINER",
    "START_CONTAINER",
    "STOP_CONTAINER",
    "UNPAUSE_CONTAINER",
    "WAIT_CONDITION",
    "Plan",
    "Step",
]

# The operations' words (``step.op``), for code that filters steps by kind.
CREATE_NETWORK = "CreateNetwork"
REMOVE_NETWORK = "RemoveNetwork"
CREATE_VOLUME = "CreateVolume"
REMOVE_VOLUME = "RemoveVolume"
PULL_IMAGE = "PullImage"
REMOVE_IMAGE = "RemoveImage"
CREATE_CONTAINER = "CreateContainer"
CONNECT_NETWORK = "ConnectNetwork"
COPY_TO_CONTAINER = "CopyToContainer"
START_CONTAINER = "StartContainer"
STOP_CONTAINER = "StopContainer"
KILL_CONTAINER = "KillContainer"
REMOVE_CONTAINER = "RemoveContainer"
RENAME_CONTAINER = "RenameContainer"
PAUSE_CONTAINER = "PauseContainer"
UNPAUSE_CONTAINER = "UnpauseContainer"
WAIT_CONDITION = "WaitCondition"


@frozen(slots=True)
class Step:
    """One node of the plan: an :class:`~composer.plan.steps.Operation` and where
    it sits.

    ``resource`` names what the step acts on: ``service:web:1`` (a replica),
    ``service:web`` (a wait on the whole service), ``network:default``,
    ``volume:data``, ``image:busybox`` or ``orphan:proj-old-1``. ``group`` ties
    the steps of one recreation together (``recreate:web:1``).
    """

    id: int
    operation: Operation
    resource: str
    reason: str
    depends: tuple[int, ...] = ()
    group: str = ""

    @property
    def op(self) -> str:
        """The operation's word (``CreateContainer``)."""
        return type(self.operation).__name__

    @property
    def args(self) -> Mapping[str, Any]:
        """The operation's fields as a read-only mapping (for readers that predate
        the typed operations; new code reads ``step.operation``)."""
        op = self.operation
        return MappingProxyType({f.name: getattr(op, f.name) for f in dataclasses.fields(op)})

    @property
    def service(self) -> str | None:
        """The service this step belongs to, if any (from ``resource`` or the operation)."""
        kind, _, rest = self.resource.partition(":")
        if kind == "service":
            return rest.split(":", 1)[0]
        value = getattr(self.operation, "service", None)
        return value if isinstance(value, str) else None

    def __str__(self) -> str:
        deps = " <- " + ", ".join(f"#{d}" for d in self.depends) if self.depends else ""
        group = f" [{self.group}]" if self.group else ""
        return f"#{self.id}{deps} {self.resource} {self.op}: {self.reason}{group}"


@dataclass
class Plan:
    """Steps in creation order; ``depends`` only points at earlier steps.

    ``warnings`` are messages for the person running the command (orphans found,
    nothing to remove); the CLI prints them, the executor ignores them.
    ``project`` is the project's name (the executor follows its events);
    ``unchanged`` names what the plan leaves running as it is (``Container
    proj-web-1``), for progress lines such as v2's ``Running``.
    """

    steps: list[Step] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    project: str = ""
    unchanged: list[str] = field(default_factory=list)

    def add(self, operation: Operation, resource: str, reason: str,
            depends: tuple[int, ...] = (), *, group: str = "") -> int:
        """Append a step and return its id (1-based, in order of addition)."""
        step_id = len(self.steps) + 1
        deps = tuple(sorted(set(depends)))
        if any(d >= step_id or d < 1 for d in deps):
            raise ValueError(f"step #{step_id} depends on a later or unknown step: {deps}")
        self.steps.append(Step(step_id, operation, resource, reason, deps, group))
        return step_id

    def step(self, step_id: int) -> Step:
        """The step with this id."""
        return self.steps[step_id - 1]

    def update(self, step_id: int, depends: tuple[int, ...] = (), *,
               reason: str | None = None, operation: Operation | None = None) -> None:
        """Widen an existing step's prerequisites (earlier ids), or change its reason
        or its operation."""
        old = self.steps[step_id - 1]
        deps = tuple(sorted(set(old.depends) | set(depends)))
        if any(d >= step_id or d < 1 for d in deps):
            raise ValueError(f"step #{step_id} depends on a later or unknown step: {deps}")
        self.steps[step_id - 1] = Step(old.id, operation or old.operation, old.resource,
                                       old.reason if reason is None else reason, deps,
                                       old.group)

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __bool__(self) -> bool:
        return bool(self.steps)

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps)
