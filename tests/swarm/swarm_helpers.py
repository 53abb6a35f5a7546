"""Helpers of the swarm tests (the fixtures are in this folder's conftest.py)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from waiting import wait_until


@dataclass(frozen=True)
class Result:
    returncode: int
    stdout: str
    stderr: str


def run(argv: Sequence[str], *, env: Mapping[str, str] | None = None,
        cwd: str | os.PathLike[str] | None = None, timeout: float = 120) -> Result:
    """Run a command (stdin empty, outputs captured), ``env`` added to this one's."""
    proc = subprocess.run(list(argv), env={**os.environ, **(env or {})}, cwd=cwd,
                          input=b"", capture_output=True, timeout=timeout)
    return Result(proc.returncode, proc.stdout.decode(errors="replace"),
                  proc.stderr.decode(errors="replace"))


#: Runs the docker CLI against the test swarm's manager: ``docker("stack", "ls")``.
Docker = Callable[..., Result]


def stack_gone(docker: Docker, stack: str) -> bool:
    """Nothing of the stack is left: services, networks, secrets, configs."""
    label = f"label=com.docker.stack.namespace={stack}"
    return all(not docker(kind, "ls", "-q", "--filter", label).stdout.strip()
               for kind in ("service", "network", "secret", "config"))


def remove_stack(docker: Docker, stack: str) -> None:
    """``docker stack rm`` until the engine has let everything go (a stack's
    networks go only once its tasks have)."""
    def removed() -> bool:
        docker("stack", "rm", stack)
        return stack_gone(docker, stack)

    wait_until(removed, timeout=90, what=f"stack {stack} removed", interval=0.5)


def flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    """``{"a": {"b": [1]}}`` -> ``{"a.b[0]": 1}``: key paths to compare one by one
    (an empty map or list is a value of its own)."""
    out: dict[str, Any] = {}
    if isinstance(value, dict) and value:
        for key, item in value.items():
            out.update(flatten(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and value:
        for index, item in enumerate(value):
            out.update(flatten(item, f"{prefix}[{index}]"))
    else:
        out[prefix] = value
    return out
