"""Removing what an end-to-end test's project left on the engine, even when it failed."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable
from typing import Any

PROJECT_LABEL = "com.docker.compose.project"


def remove_project(client: Any, name: str, volumes: Iterable[str] = ()) -> None:
    """Remove project ``name``'s containers (with their anonymous volumes), networks
    and labelled volumes, plus the named ``volumes``, through the docker SDK client
    ``client``. A recreated container mounts its predecessor's anonymous volume by
    name, which ``rm -v`` keeps (v2's too): those mounts are removed as well."""
    label = {"label": f"{PROJECT_LABEL}={name}"}
    leftovers = list(volumes)
    for c in client.containers.list(all=True, filters=label):
        leftovers += [str(m["Name"]) for m in c.attrs.get("Mounts") or ()
                      if m.get("Type") == "volume" and m.get("Name")]
        with contextlib.suppress(Exception):
            c.remove(force=True, v=True)
    for n in client.networks.list(filters=label):
        with contextlib.suppress(Exception):
            n.remove()
    for v in [*client.volumes.list(filters=label), *leftovers]:
        with contextlib.suppress(Exception):
            (client.volumes.get(v) if isinstance(v, str) else v).remove(force=True)


def remove_images(client: Any, name: str) -> None:
    """Remove the images labelled with project ``name``: what it built, and the classic
    builder's intermediate images, which carry the label too (children first, so a
    few rounds)."""
    label = {"label": f"{PROJECT_LABEL}={name}"}
    for _ in range(4):
        images = client.images.list(all=True, filters=label)
        if not images:
            return
        for image in images:
            with contextlib.suppress(Exception):
                client.images.remove(image.id, force=True)


def engine_client(image: str) -> Any:
    """A docker SDK client for the engine the tests use; skips the test when there is
    no engine or no ``image`` on it."""
    import pytest
    from engines import ON_LXC

    if ON_LXC:
        from lxc_client import LxcClient, NotFound

        lxc = LxcClient()
        try:
            lxc.images.get(image)
        except NotFound as exc:
            pytest.skip(f"no usable engine: {exc}")
        return lxc
    docker = pytest.importorskip("docker")
    try:
        client = docker.from_env(timeout=30)
        client.ping()
        client.images.get(image)
    except Exception as exc:  # no engine, or no image: nothing to test against
        pytest.skip(f"no usable engine: {exc}")
    return client
