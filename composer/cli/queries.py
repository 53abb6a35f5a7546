"""Read-only engine queries behind ``top``, ``port``, ``images`` and ``ls``.

They read what the engine lists and shape it for :mod:`composer.cli.render`,
following Docker Compose v2's choices (which containers count, how they sort,
the wording of "not running" errors). They take a backend rather than a
project: v2 runs them from the project's name and labels alone.

These belong in :mod:`composer.api` (``Compose.top/port/images/ls``) once it
offers them; the CLI then only renders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import anyio

from composer.backends.base import Backend, ContainerState, ImageInfo
from composer.backends.errors import NotFoundError
from composer.cli.render import ImageRow, StackRow, TopRow
from composer.errors import EngineError
from composer.model import labels

__all__ = ["images", "list_projects", "port", "top"]


def _service_containers(containers: Sequence[ContainerState], project: str,
                        services: Sequence[str]) -> list[ContainerState]:
    return [c for c in containers
            if c.project == project and (not services or c.service in services)]


async def top(backend: Backend, project: str, services: Sequence[str]) -> list[TopRow]:
    """The processes of the project's running containers (of ``services``, if given)."""
    observed = await backend.observe(project)
    running = [c for c in _service_containers(observed.containers, project, services)
               if c.state == "running"]
    rows: list[TopRow] = []

    async def one(c: ContainerState) -> None:
        try:
            info = await backend.top_container(c.id)
        except NotFoundError:
            return  # gone since the listing
        rows.append(TopRow(c.name, c.service, c.number, info.titles, info.processes))

    async with anyio.create_task_group() as tg:
        for c in running:
            tg.start_soon(one, c)
    return sorted(rows, key=lambda r: r.name)


async def port(backend: Backend, project: str, service: str, private_port: int,
               protocol: str = "tcp", index: int = 0) -> str:
    """``HOST_IP:HOST_PORT`` a running replica of ``service`` publishes ``private_port`` on.

    ``index`` picks the replica by number (0: the lowest-numbered one), as v2 does;
    raises :class:`EngineError` with v2's wording when there is none.
    """
    observed = await backend.observe(project)
    candidates = [c for c in _service_containers(observed.containers, project, [service])
                  if c.state == "running" and (index <= 0 or c.number == index)]
    if not candidates:
        if index > 0:
            raise EngineError(f'service "{service}" is not running container #{index}')
        raise EngineError(f'service "{service}" is not running')
    chosen = sorted(candidates, key=lambda c: (c.oneoff, c.number))[0]
    for p in chosen.ports:
        if int(p.get("PrivatePort") or 0) == private_port and p.get("Type") == protocol:
            return f"{p.get('IP') or ''}:{int(p.get('PublicPort') or 0)}"
    published = ", ".join(f"{int(p.get('PublicPort') or 0)}/{p.get('Type')}"
                          for p in chosen.ports)
    raise EngineError(f"no port {private_port}/{protocol} for container {chosen.name}: "
                      f"{published}")


def _repository_tag(image: str) -> tuple[str, str]:
    """``busybox`` -> (busybox, latest); ``reg:5000/a/b:1`` -> (reg:5000/a/b, 1);
    a digest or an image ID gives no tag."""
    if image.startswith("sha256:"):
        return "", ""
    name, _, _digest = image.partition("@")
    slash = name.rfind("/")
    colon = name.rfind(":")
    if colon > slash:
        repo, tag = name[:colon], name[colon + 1:]
    else:
        repo, tag = name, ("" if _digest else "latest")
    for prefix in ("docker.io/library/", "docker.io/", "index.docker.io/library/"):
        if repo.startswith(prefix):
            repo = repo[len(prefix):]
            break
    return repo, tag


def _rfc3339(value: Any) -> float | None:
    import datetime as dt

    if not isinstance(value, str) or not value:
        return None
    text = value.rstrip("Z")
    if "." in text:
        head, frac = text.split(".", 1)
        text = f"{head}.{frac[:6]}"
    try:
        moment = dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)
    except ValueError:
        return None
    return moment.timestamp()


async def images(backend: Backend, project: str, services: Sequence[str]) -> list[ImageRow]:
    """The image each of the project's containers (all states) was created from."""
    observed = await backend.observe(project)
    containers = _service_containers(observed.containers, project, services)
    inspected: dict[str, ImageInfo | None] = {}

    async def one(ref: str) -> None:
        try:
            inspected[ref] = await backend.inspect_image(ref)
        except NotFoundError:
            inspected[ref] = None

    async with anyio.create_task_group() as tg:
        for ref in {c.image_id or c.image for c in containers}:
            tg.start_soon(one, ref)
    rows: list[ImageRow] = []
    for c in containers:
        info = inspected.get(c.image_id or c.image)
        if not info:
            continue
        repo, tag = _repository_tag(c.image)
        rows.append(ImageRow(
            container=c.name, id=info.id or c.image_id, repository=repo, tag=tag,
            platform=info.platform, size=info.size, created=_rfc3339(info.created),
            # "" when never tagged; v2 then leaves the field out.
            last_tag_time=info.last_tag_time,
        ))
    return rows


async def list_projects(backend: Backend, *, all: bool = False) -> list[StackRow]:
    """Every compose project on the engine (only ones with running containers unless
    ``all``), its containers' states counted and its config files, sorted by name."""
    observed = await backend.observe("", all_projects=True)
    by_project: dict[str, list[ContainerState]] = {}
    for c in observed.containers:
        if not c.project or labels.CONFIG_HASH not in c.labels:
            continue
        if not all and c.state != "running":
            continue
        by_project.setdefault(c.project, []).append(c)
    rows = []
    for name in sorted(by_project):
        counts: dict[str, int] = {}
        files: list[str] = []
        for c in by_project[name]:
            counts[c.state] = counts.get(c.state, 0) + 1
            for f in (c.labels.get(labels.CONFIG_FILES) or "").split(","):
                if f and f not in files:
                    files.append(f)
        status = ", ".join(f"{s}({counts[s]})" for s in sorted(counts))
        rows.append(StackRow(name, status, ",".join(files)))
    return rows
