"""The part of the docker SDK's client the engine tests use, over composer's LXC
backend, so the same tests look at LXC's containers when ``make test-lxc`` runs
them (``COMPOSER_TEST_ENGINE=lxc``).

It reads what LXC has through :class:`~composer.backends.lxc.backend.LxcBackend`
(the state files of LXC containers, networks and volumes are shaped like the
Engine API's answers, so ``attrs`` reads the same). Only what the tests call is
here; anything else raises ``AttributeError``, and the test fails loudly rather
than reading Docker by mistake.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import Any

from anyio.from_thread import start_blocking_portal

PROJECT_LABEL = "com.docker.compose.project"


class NotFound(Exception):
    """As ``docker.errors.NotFound``."""


def _labels_match(labels: Mapping[str, str], wanted: Any) -> bool:
    for item in [wanted] if isinstance(wanted, str) else list(wanted or ()):
        key, eq, value = str(item).partition("=")
        if key not in labels or (eq and labels[key] != value):
            return False
    return True


class LxcClient:
    """``docker.from_env()``'s shape: ``containers``, ``networks``, ``volumes``,
    ``images``, ``api``, ``ping()``, ``close()``."""

    def __init__(self) -> None:
        from composer.backends.lxc.backend import LxcBackend

        self.backend = LxcBackend()
        self.containers = _Containers(self)
        self.networks = _Networks(self)
        self.volumes = _Volumes(self)
        self.images = _Images(self)
        self.api = _Api(self)

    def call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        """An LxcBackend coroutine method run to its end, on an event loop of its own
        in a thread of its own (also from inside a running loop); the thread ends
        with the call, so no client ever keeps the interpreter from exiting."""
        async def run() -> Any:
            return await fn(*args, **kwargs)
        with start_blocking_portal() as portal:
            return portal.call(run)

    def ping(self) -> bool:
        self.call(self.backend.ping)
        return True

    def close(self) -> None:
        return None


# -- containers -----------------------------------------------------------------------------


class Container:
    def __init__(self, client: LxcClient, state: dict[str, Any]) -> None:
        self.client = client
        self.attrs = self._shape(state)

    def _shape(self, state: dict[str, Any]) -> dict[str, Any]:
        attrs = dict(state)
        attrs["Name"] = "/" + state["Name"]
        backend = self.client.backend
        attrs["Mounts"] = backend._mounts_listing(state) + [
            {"Type": "bind", "Source": str(m.get("Source") or ""),
             "Destination": m.get("Target"), "RW": not m.get("ReadOnly")}
            for m in state["HostConfig"].get("Mounts") or () if m.get("Type") == "bind"]
        for bind in state["HostConfig"].get("Binds") or ():
            source, _, rest = str(bind).partition(":")
            target, _, mode = rest.partition(":")
            entry = {"Destination": target, "RW": "ro" not in mode.split(",")}
            if source.startswith("/"):
                attrs["Mounts"].append({"Type": "bind", "Source": source, **entry})
            else:
                attrs["Mounts"].append({"Type": "volume", "Name": source, **entry})
        ports: dict[str, Any] = {}
        published = state.get("Ports") or state["HostConfig"].get("PortBindings") or {}
        for port, hosts in published.items():
            ports[str(port)] = [{"HostIp": str(h.get("HostIp") or "0.0.0.0"),
                                 "HostPort": str(h.get("HostPort") or "")}
                                for h in hosts or ()] if state["State"].get("Running") else None
        attrs["NetworkSettings"] = {"Ports": ports, "Networks": dict(state.get("Networks") or {})}
        attrs.setdefault("RestartCount", int(state.get("RestartCount") or 0))
        return attrs

    @property
    def id(self) -> str:
        return str(self.attrs["Id"])

    @property
    def short_id(self) -> str:
        return self.id[:12]

    @property
    def name(self) -> str:
        return str(self.attrs["Name"]).lstrip("/")

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.attrs["Config"].get("Labels") or {})

    @property
    def status(self) -> str:
        run = self.attrs["State"]
        if run.get("Paused"):
            return "paused"
        return "running" if run.get("Running") else str(run.get("Status") or "exited")

    @property
    def image(self) -> Any:
        return self.client.images.get(self.attrs["Image"])

    def reload(self) -> None:
        host = self.client.backend.host
        self.attrs = self._shape(host.find(self.id))

    def remove(self, force: bool = False, v: bool = False) -> None:
        self.client.call(self.client.backend.remove_container, self.id, force=force, volumes=v)

    def stop(self, timeout: int = 10) -> None:
        self.client.call(self.client.backend.stop_container, self.id, timeout)

    def kill(self, signal: str = "SIGKILL") -> None:
        self.client.call(self.client.backend.kill_container, self.id, signal)

    def wait(self, timeout: float | None = None) -> dict[str, Any]:
        code = self.client.call(self.client.backend.wait_container, self.id)
        return {"StatusCode": code, "Error": None}

    def logs(self, stdout: bool = True, stderr: bool = True, **_: Any) -> bytes:
        wanted = {name for name, asked in (("stdout", stdout), ("stderr", stderr)) if asked}

        async def read() -> bytes:
            out = bytearray()
            async for batch in self.client.backend.log_batches(self.id, follow=False):
                for frame in batch:
                    if frame.stream in wanted:
                        out += frame.data
            return bytes(out)
        return bytes(self.client.call(read))

    def top(self, **_: Any) -> dict[str, Any]:
        listing = self.client.call(self.client.backend.top_container, self.id)
        return {"Titles": list(listing.titles),
                "Processes": [list(row) for row in listing.processes]}

    def exec_run(self, cmd: Any, **_: Any) -> Any:
        from composer.backends.types import ExecConfig

        argv = ["sh", "-c", cmd] if isinstance(cmd, str) else list(cmd)
        result = self.client.call(self.client.backend.exec_run, self.id,
                                  ExecConfig(command=tuple(argv)))

        class ExecResult(tuple):  # (exit_code, output) as the SDK's
            exit_code = result.exit_code
            output = result.stdout + result.stderr
        return ExecResult((result.exit_code, result.stdout + result.stderr))


class _Containers:
    def __init__(self, client: LxcClient) -> None:
        self.client = client

    def _all(self) -> Iterator[dict[str, Any]]:
        """Every container, each as a look at it shows it (the SDK's list inspects
        each one: ``RestartCount`` is only in an inspect)."""
        backend = self.client.backend
        return iter(backend.host.refresh(state, restarts=True)
                    for state in backend._states("", True))

    def list(self, all: bool = False, filters: Mapping[str, Any] | None = None,
             **_: Any) -> list[Container]:
        filters = dict(filters or {})
        out = []
        for state in self._all():
            if not all and not state["State"].get("Running"):
                continue
            if "label" in filters and not _labels_match(state["Config"].get("Labels") or {},
                                                        filters["label"]):
                continue
            if "name" in filters and str(filters["name"]) not in state["Name"]:
                continue
            if "status" in filters and Container(self.client, state).status != filters["status"]:
                continue
            out.append(Container(self.client, state))
        return sorted(out, key=lambda c: str(c.attrs.get("Created") or ""), reverse=True)

    def get(self, ref: str) -> Container:
        from composer.errors import NotFoundError

        try:
            return Container(self.client, self.client.backend.host.find(ref))
        except NotFoundError as exc:
            raise NotFound(str(exc)) from None


# -- networks and volumes -------------------------------------------------------------------


class Network:
    def __init__(self, client: LxcClient, data: dict[str, Any]) -> None:
        self.client, self.attrs = client, data

    @property
    def id(self) -> str:
        return str(self.attrs["Id"])

    @property
    def name(self) -> str:
        return str(self.attrs["Name"])

    def remove(self) -> None:
        self.client.call(self.client.backend.remove_network, self.id)


class _Networks:
    def __init__(self, client: LxcClient) -> None:
        self.client = client

    def list(self, names: Any = None, filters: Mapping[str, Any] | None = None,
             **_: Any) -> list[Network]:
        filters = dict(filters or {})
        out = []
        for data in self.client.backend.host.networks():
            if names and data["Name"] not in names:
                continue
            if "label" in filters and not _labels_match(data.get("Labels") or {},
                                                        filters["label"]):
                continue
            if "name" in filters and str(filters["name"]) not in data["Name"]:
                continue
            out.append(Network(self.client, data))
        return out

    def get(self, ref: str) -> Network:
        from composer.errors import NotFoundError

        try:
            return Network(self.client, self.client.backend.host.network(ref))
        except NotFoundError as exc:
            raise NotFound(str(exc)) from None

    def create(self, name: str, driver: str = "bridge", labels: Mapping[str, str] | None = None,
               **_: Any) -> Network:
        self.client.call(self.client.backend.create_network, name,
                         {"Name": name, "Driver": driver, "Labels": dict(labels or {})})
        return self.get(name)


class Volume:
    def __init__(self, client: LxcClient, data: dict[str, Any]) -> None:
        self.client, self.attrs = client, data

    @property
    def id(self) -> str:
        return str(self.attrs["Name"])

    name = id

    @property
    def labels(self) -> dict[str, str]:
        return dict(self.attrs.get("Labels") or {})

    def remove(self, force: bool = False) -> None:
        self.client.call(self.client.backend.remove_volume, self.name)


class _Volumes:
    def __init__(self, client: LxcClient) -> None:
        self.client = client

    def list(self, filters: Mapping[str, Any] | None = None, **_: Any) -> list[Volume]:
        filters = dict(filters or {})
        return [Volume(self.client, data) for data in self.client.backend.host.volumes()
                if ("label" not in filters
                    or _labels_match(data.get("Labels") or {}, filters["label"]))
                and ("name" not in filters or str(filters["name"]) in data["Name"])]

    def get(self, name: str) -> Volume:
        from composer.errors import NotFoundError

        try:
            return Volume(self.client, self.client.backend.host.volume(name))
        except NotFoundError as exc:
            raise NotFound(str(exc)) from None

    def create(self, name: str, labels: Mapping[str, str] | None = None, **_: Any) -> Volume:
        self.client.call(self.client.backend.create_volume, name,
                         {"Name": name, "Labels": dict(labels or {})})
        return self.get(name)


# -- images ---------------------------------------------------------------------------------


class Image:
    def __init__(self, client: LxcClient, summary: Any) -> None:
        self.client = client
        self.id = str(summary.id)
        self.tags = list(summary.repo_tags)
        self.labels = dict(getattr(summary, "labels", {}) or {})
        self.attrs = {"Id": self.id, "RepoTags": self.tags,
                      "Config": {"Labels": self.labels}}

    def tag(self, repository: str, tag: str | None = None, **_: Any) -> bool:
        """``repository`` may carry the tag (``name:tag``), as the SDK takes it."""
        reference = f"{repository}:{tag}" if tag else repository
        self.client.backend.images.tag(self.id, reference)
        return True


class _Images:
    def __init__(self, client: LxcClient) -> None:
        self.client = client

    def list(self, name: str | None = None, all: bool = False,
             filters: Mapping[str, Any] | None = None, **_: Any) -> list[Image]:
        labels = (filters or {}).get("label") or ()
        labels = [labels] if isinstance(labels, str) else list(labels)
        found = [Image(self.client, s)
                 for s in self.client.call(self.client.backend.list_images, labels=labels)]
        if name is not None:
            found = [i for i in found if any(t == name or t.startswith(name + ":")
                                             for t in i.tags)]
        return found

    def get(self, ref: str) -> Image:
        for summary in self.client.call(self.client.backend.list_images):
            if summary.id == ref or ref in summary.repo_tags or summary.id.endswith(ref):
                return Image(self.client, summary)
        raise NotFound(f"No such image: {ref}")

    def remove(self, image: str, force: bool = False, **_: Any) -> None:
        self.client.call(self.client.backend.remove_image, image, force=force)


class _Api:
    """The low-level calls the tests make (``client.api.*``)."""

    def __init__(self, client: LxcClient) -> None:
        self.client = client

    def inspect_container(self, ref: str) -> dict[str, Any]:
        return self.client.containers.get(ref).attrs

    def containers(self, all: bool = False, filters: Mapping[str, Any] | None = None,
                   **_: Any) -> list[dict[str, Any]]:
        from composer.backends.lxc.backend import _status

        return [{"Id": c.id, "Names": ["/" + c.name], "Labels": c.labels, "State": c.status,
                 "Status": _status(c.attrs), "Image": c.attrs["Config"].get("Image")}
                for c in self.client.containers.list(all=all, filters=filters)]

    def logs(self, container: str, stdout: bool = True, stderr: bool = True,
             **_: Any) -> bytes:
        return self.client.containers.get(container).logs(stdout=stdout, stderr=stderr)

    def networks(self, names: Any = None, filters: Mapping[str, Any] | None = None,
                 **_: Any) -> list[dict[str, Any]]:
        return [dict(n.attrs) for n in self.client.networks.list(names=names, filters=filters)]

    def volumes(self, filters: Mapping[str, Any] | None = None, **_: Any) -> dict[str, Any]:
        return {"Volumes": [dict(v.attrs) for v in self.client.volumes.list(filters=filters)]}

    def tag(self, image: str, repository: str, tag: str | None = None, **_: Any) -> bool:
        found = self.client.images.get(image)
        self.client.backend.images.tag(found.id, f"{repository}:{tag or 'latest'}")
        return True

    def remove_image(self, image: str, force: bool = False, **_: Any) -> None:
        self.client.images.remove(image, force=force)

    def close(self) -> None:
        self.client.close()


def remove_project(name: str) -> None:
    """Everything of LXC project ``name`` removed, as the Docker cleanup does."""
    async def remove() -> None:
        from composer.backends.lxc.backend import LxcBackend

        backend = LxcBackend()
        observed = await backend.observe(name)
        for container in observed.containers:
            with contextlib.suppress(Exception):
                await backend.remove_container(container.id, force=True, volumes=True)
        for network in observed.networks:
            with contextlib.suppress(Exception):
                await backend.remove_network(network.id)
        for volume in observed.volumes:
            with contextlib.suppress(Exception):
                await backend.remove_volume(volume.name)

    with start_blocking_portal() as portal:  # also from inside a running event loop
        portal.call(remove)
