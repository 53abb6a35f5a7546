"""A plan: a DAG of steps, each one engine call (or one wait), printable as text.

A plan is data: the executor runs it without making decisions, and tests assert
on its text without any engine::

    #1 network:default CreateNetwork: not found
    #2 <- #1 service:db:1 CreateContainer: no existing container
    #3 <- #2 service:db:1 StartContainer: created
    #4 <- #3 service:db:1 WaitCondition: service_healthy for web
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

# Operations, one engine call each (WaitCondition waits on the event stream).
CREATE_NETWORK = "CreateNetwork"
REMOVE_NETWORK = "RemoveNetwork"
CREATE_VOLUME = "CreateVolume"
REMOVE_VOLUME = "RemoveVolume"
PULL_IMAGE = "PullImage"
CREATE_CONTAINER = "CreateContainer"
CONNECT_NETWORK = "ConnectNetwork"
START_CONTAINER = "StartContainer"
STOP_CONTAINER = "StopContainer"
KILL_CONTAINER = "KillContainer"
REMOVE_CONTAINER = "RemoveContainer"
RENAME_CONTAINER = "RenameContainer"
PAUSE_CONTAINER = "PauseContainer"
UNPAUSE_CONTAINER = "UnpauseContainer"
WAIT_CONDITION = "WaitCondition"


@dataclass(frozen=True, slots=True)
class Step:
    """One node of the plan."""

    id: int
    op: str
    resource: str  # "service:web:1", "network:default", "volume:data", "image:busybox"
    reason: str
    depends: tuple[int, ...] = ()
    args: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        deps = " <- " + ", ".join(f"#{d}" for d in self.depends) if self.depends else ""
        return f"#{self.id}{deps} {self.resource} {self.op}: {self.reason}"


@dataclass
class Plan:
    """Steps in creation order; ``depends`` only points at earlier steps."""

    steps: list[Step] = field(default_factory=list)

    def add(
        self, op: str, resource: str, reason: str, depends: tuple[int, ...] = (),
        **args: Any,
    ) -> int:
        step = Step(len(self.steps) + 1, op, resource, reason,
                    tuple(sorted(set(depends))), args)
        self.steps.append(step)
        return step.id

    def __iter__(self) -> Iterator[Step]:
        return iter(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __str__(self) -> str:
        return "\n".join(str(s) for s in self.steps)
