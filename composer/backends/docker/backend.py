"""The Docker Engine backend: :class:`~composer.backends.base.Backend` on docker's
low-level SDK (``docker.APIClient``), for the Docker Engine and Podman's
Docker-compatible API.

Request bodies are posted exactly as :mod:`composer.backends.spec` builds them.
The machinery (threads, the capacity limiter, version negotiation, the error
boundary) is :class:`~composer.backends.docker.engine.Engine`'s; the streaming
calls are :class:`~composer.backends.docker.sessions.Sessions`'.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterable, Mapping, Sequence
from typing import Any

import anyio
import anyio.from_thread
import anyio.to_thread
import docker
import docker.errors
import docker.utils

from composer.backends.base import ProgressCallback
from composer.backends.docker import convert
from composer.backends.docker.credentials import registry_of
from composer.backends.docker.engine import MIN_API
from composer.backends.docker.errors import HOW_TO_START, check_response
from composer.backends.docker.sessions import Sessions
from composer.backends.docker.swarm import Swarm
from composer.backends.docker.wire import api_url, post_json
from composer.backends.spec import LABEL_PROJECT
from composer.backends.types import (
    BuildRequest,
    ContainerInfo,
    EngineEvent,
    ImageInfo,
    ImageSummary,
    NetworkInfo,
    Observed,
    ProcessList,
    RegistryCredentials,
    VolumeInfo,
)
from composer.errors import ComposerError, EngineError, EngineUnreachableError, NotFoundError

__all__ = ["DEFAULT_HOST", "DockerBackend", "connect"]

DEFAULT_HOST = "unix:///var/run/docker.sock"
#: Podman's own API (beside its Docker-compatible one), at its oldest version.
LIBPOD = "/v4.0.0/libpod"
#: Seconds a stop waits before it kills, when the service sets no grace period.
DEFAULT_STOP_TIMEOUT = 10


def _first_leaf(group: BaseExceptionGroup[ComposerError]) -> ComposerError:
    first: BaseException = group
    while isinstance(first, BaseExceptionGroup):
        first = first.exceptions[0]
    assert isinstance(first, ComposerError)
    return first


def _stream_errors(messages: Any, on_progress: ProgressCallback | None) -> None:
    """(Worker thread.) Consume a pull's or push's progress stream: an error message
    raises, the others go to ``on_progress`` on the event loop."""
    for message in messages:
        if isinstance(message, Mapping) and message.get("error"):
            raise EngineError(f"Error response from daemon: {message['error']}")
        if on_progress is not None and isinstance(message, Mapping):
            anyio.from_thread.run_sync(on_progress, message)


class DockerBackend(Sessions, Swarm):
    """:class:`~composer.backends.base.Backend` on a Docker Engine (or Podman's Docker API).

    Build it with :func:`connect`. Safe to use from many tasks of one event loop.
    """

    # -- the connection

    async def ping(self) -> None:
        await self._call(self._client.ping)

    async def proxy_environment(self) -> dict[str, str]:
        return self.client_config.proxy_environment(self.address)

    async def registry_credentials(self, registry: str) -> RegistryCredentials | None:
        config = self.client_config
        return await anyio.to_thread.run_sync(lambda: config.credentials(registry))

    # -- the project

    async def observe(self, project: str, *, all_projects: bool = False) -> Observed:
        label = LABEL_PROJECT if all_projects else f"{LABEL_PROJECT}={project}"
        filters = {"label": [label]}
        results: dict[str, Any] = {}

        async def fetch(kind: str, thunk: Callable[[], Any]) -> None:
            results[kind] = await self._call(thunk)

        await self._negotiate()
        client = self._client
        try:
            async with anyio.create_task_group() as tg:
                tg.start_soon(fetch, "containers",
                              lambda: client.containers(all=True, filters=filters))
                tg.start_soon(fetch, "networks", lambda: client.networks(filters=filters))
                tg.start_soon(fetch, "volumes", lambda: client.volumes(filters=filters))
                if self.is_podman:
                    tg.start_soon(fetch, "health", lambda: self._podman_health(filters))
        except* ComposerError as group:
            # The listings fail for one reason (usually: no engine); say it once.
            raise _first_leaf(group) from None
        volumes = (results["volumes"] or {}).get("Volumes") or []
        health: Mapping[str, str] = results.get("health") or {}
        errors = await self._start_errors(results["containers"] or ())
        return Observed(
            containers=tuple(convert.container_state(_with_health(c, health),
                                                     start_error=errors.get(str(c.get("Id"))))
                             for c in results["containers"] or ()),
            networks=tuple(convert.network_state(n) for n in results["networks"] or ()),
            volumes=tuple(convert.volume_state(v) for v in volumes),
        )

    async def _start_errors(self, listed: Iterable[Mapping[str, Any]]) -> dict[str, str]:
        """Container ID -> why the engine's last start of it failed, for the listed
        containers never started since (``created``; the listing does not say, so
        only those are inspected, usually none)."""
        out: dict[str, str] = {}
        client = self._client

        async def look(ident: str) -> None:
            try:
                attrs = await self._call(client.inspect_container, ident)
            except NotFoundError:
                return  # removed meanwhile
            error = str((attrs.get("State") or {}).get("Error") or "")
            if error:
                out[ident] = error

        async with anyio.create_task_group() as tg:
            for entry in listed:
                if entry.get("State") == "created":
                    tg.start_soon(look, str(entry.get("Id")))
        return out

    def _podman_health(self, filters: Mapping[str, Any]) -> dict[str, str]:
        """(Worker thread.) Container ID -> health status, from Podman's own listing:
        its Docker-compatible one leaves the health out of ``Status``."""
        import json

        url = api_url(self._client, LIBPOD + "/containers/json", versioned=False)
        response = self._client.get(url, params={"all": "true",
                                                 "filters": json.dumps(filters)})
        check_response(response)
        return {str(c.get("Id")): str(c.get("Status") or "") for c in response.json() or ()}

    async def events(self, project: str, since: int | None = None
                     ) -> AsyncIterator[EngineEvent]:
        filters = {"type": ["container"], "label": [f"{LABEL_PROJECT}={project}"]}
        stream = await self._call(lambda: self._client.events(
            since=since, filters=filters, decode=True))
        async for event in self._iterate(stream, convert.event):
            yield event

    # -- images

    async def image_exists(self, image: str) -> bool:
        return await self.image_id(image) is not None

    async def image_id(self, image: str) -> str | None:
        try:
            info = await self.inspect_image(image)
        except NotFoundError:
            return None
        return info.id or None

    async def inspect_image(self, image: str) -> ImageInfo:
        return convert.image_info(await self._call(self._client.inspect_image, image))

    async def list_images(self, *, labels: Sequence[str] = ()) -> list[ImageSummary]:
        filters = {"label": list(labels)} if labels else None
        found = await self._call(lambda: self._client.images(filters=filters))
        return [convert.image_summary(entry) for entry in found or ()]

    async def remove_image(self, image: str, *, force: bool = False) -> None:
        await self._call(lambda: self._client.remove_image(image, force=force))

    def _auth(self, repository: str) -> dict[str, Any] | None:
        """(Worker thread.) The stored login for the repository's registry."""
        return self.client_config.auth_entry(registry_of(repository))

    async def pull_image(self, image: str, *, platform: str | None = None,
                         on_progress: ProgressCallback | None = None) -> None:
        repository, tag = docker.utils.parse_repository_tag(image)

        def pull() -> None:
            _stream_errors(self._client.pull(
                repository, tag=tag or "latest", platform=platform, stream=True, decode=True,
                auth_config=self._auth(repository)), on_progress)

        await self._call(pull)

    async def push_image(self, image: str, *,
                         on_progress: ProgressCallback | None = None) -> None:
        repository, tag = docker.utils.parse_repository_tag(image)

        def push() -> None:
            _stream_errors(self._client.push(
                repository, tag=tag or "latest", stream=True, decode=True,
                auth_config=self._auth(repository)), on_progress)

        await self._call(push)

    async def build_image(self, request: BuildRequest, *,
                          on_line: Callable[[str], None] | None = None) -> str:
        """Build with the classic builder (:mod:`composer.backends.docker.build`)."""
        from composer.backends.docker.build import run_build

        def emit(line: str) -> None:
            if on_line is not None:
                anyio.from_thread.run_sync(on_line, line)

        return await self._call(lambda: run_build(self._client, request, emit,
                                                  podman=self.is_podman))

    # -- networks and volumes

    async def create_network(self, name: str, body: Mapping[str, Any]) -> str:
        payload = {**body, "Name": name}
        result = await self._call(lambda: post_json(self._client, "/networks/create",
                                                    body=payload))
        return str(result.get("Id") or "")

    async def remove_network(self, name_or_id: str) -> None:
        await self._call(self._client.remove_network, name_or_id)

    async def inspect_network(self, name: str) -> NetworkInfo:
        return convert.network_info(await self._call(self._client.inspect_network, name))

    async def connect_network(self, network: str, container: str,
                              endpoint: Mapping[str, Any]) -> None:
        payload = {"Container": container, "EndpointConfig": dict(endpoint)}
        await self._call(lambda: post_json(self._client, "/networks/{0}/connect", network,
                                           body=payload))

    async def disconnect_network(self, network: str, container: str, *,
                                 force: bool = False) -> None:
        await self._call(lambda: self._client.disconnect_container_from_network(
            container, network, force=force))

    async def create_volume(self, name: str, body: Mapping[str, Any]) -> str:
        payload = {**body, "Name": name}
        result = await self._call(lambda: post_json(self._client, "/volumes/create",
                                                    body=payload))
        return str(result.get("Name") or name)

    async def remove_volume(self, name: str) -> None:
        await self._call(self._client.remove_volume, name)

    async def inspect_volume(self, name: str) -> VolumeInfo:
        return convert.volume_info(await self._call(self._client.inspect_volume, name))

    # -- containers

    async def create_container(self, name: str, body: Mapping[str, Any], *,
                               platform: str | None = None) -> str:
        params = {"name": name}
        if platform:
            params["platform"] = platform

        def create() -> Any:
            sent = body
            if self.is_podman and body.get("StopTimeout") is None:
                # Podman 4.3.1's compatible create makes it 0 (a stop kills at once);
                # Docker's default, and podman run's, is 10 seconds.
                sent = {**body, "StopTimeout": DEFAULT_STOP_TIMEOUT}
            return post_json(self._client, "/containers/create", body=sent, params=params)

        result = await self._call(create)
        return str(result.get("Id") or "")

    async def start_container(self, container: str) -> None:
        await self._call(self._client.start, container)

    async def stop_container(self, container: str, timeout: int | None = None) -> None:
        def stop() -> None:
            client = self._client
            params = {} if timeout is None else {"t": timeout}
            # No read timeout: the engine answers only once the container is down (the
            # SDK's stop() caps it at the client's timeout plus t, and needs a t).
            check_response(client.post(api_url(client, "/containers/{0}/stop", container),
                                       params=params, timeout=None))

        await self._call(stop)

    async def kill_container(self, container: str, signal: str = "SIGKILL") -> None:
        await self._call(lambda: self._client.kill(container, signal=signal))

    async def remove_container(self, container: str, *, force: bool = False,
                               volumes: bool = False) -> None:
        await self._call(lambda: self._client.remove_container(
            container, v=volumes, force=force))

    async def stop_and_remove_container(self, container: str, timeout: int | None = None,
                                        *, volumes: bool = False) -> None:
        if not self.is_podman:
            await self.stop_container(container, timeout)
            await self.remove_container(container, force=True, volumes=volumes)
            return

        def fused() -> None:
            # libpod's forced delete stops a running container first, with its stop
            # signal and the timeout (the container's own StopTimeout without one).
            params = {"force": "true", "v": "true" if volumes else "false"}
            if timeout is not None:
                params["timeout"] = str(timeout)
            url = api_url(self._client, LIBPOD + "/containers/{0}", container,
                          versioned=False)
            check_response(self._client.delete(url, params=params, timeout=None))

        await self._call(fused)

    async def rename_container(self, container: str, name: str) -> None:
        await self._call(self._client.rename, container, name)

    async def pause_container(self, container: str) -> None:
        await self._call(self._client.pause, container)

    async def unpause_container(self, container: str) -> None:
        await self._call(self._client.unpause, container)

    async def inspect_container(self, container: str) -> ContainerInfo:
        return convert.container_info(
            await self._call(self._client.inspect_container, container))

    # -- healthchecks

    async def runs_healthchecks(self) -> bool:
        if self._runs_checks is None:
            self._runs_checks = await self._engine_runs_checks()
        return self._runs_checks

    async def _engine_runs_checks(self) -> bool:
        await self._negotiate()
        if not self.is_podman:
            return True
        chosen = os.environ.get("COMPOSER_HEALTHCHECKS", "")
        if chosen in ("engine", "composer"):
            return chosen == "engine"
        # Podman runs healthchecks from systemd timers: with systemd, it manages
        # cgroups through systemd too; without (cgroupfs) no timer ever fires.
        host = await self._podman_host()
        return str(host.get("cgroupManager", "")) == "systemd"

    async def _podman_host(self) -> Mapping[str, Any]:
        """The ``host`` part of Podman's own ``/info`` (asked once)."""
        if self._podman_host_info is None:
            url = api_url(self._client, LIBPOD + "/info", versioned=False)

            def fetch() -> Any:
                response = self._client.get(url)
                check_response(response)
                return response.json()

            info = await self._call(fetch)
            self._podman_host_info = (info.get("host") if isinstance(info, Mapping)
                                      else None) or {}
        return self._podman_host_info

    async def is_rootless(self) -> bool:
        if self._rootless is None:
            await self._negotiate()
            if self.is_podman:
                security = (await self._podman_host()).get("security") or {}
                self._rootless = bool(security.get("rootless"))
            else:
                # Docker says so in its /info: SecurityOptions has "name=rootless".
                info = await self._call(self._client.info)
                self._rootless = any(
                    str(option).split(",")[0] == "name=rootless"
                    for option in info.get("SecurityOptions") or ())
        return self._rootless

    async def run_healthcheck(self, container: str) -> None:
        await self._negotiate()
        if not self.is_podman:
            raise EngineError("this engine runs healthchecks only on its own schedule")
        url = api_url(self._client, LIBPOD + "/containers/{0}/healthcheck", container,
                      versioned=False)
        # Podman runs the check (bounded by its timeout) and records the result in
        # the container's state, as its timer would.
        await self._call(lambda: check_response(self._client.get(url)))

    async def top_container(self, container: str,
                            ps_args: str | None = None) -> ProcessList:
        return convert.process_list(
            await self._call(lambda: self._client.top(container, ps_args=ps_args)))


def _with_health(listed: Mapping[str, Any], health: Mapping[str, str]) -> Mapping[str, Any]:
    """A listed container with its health in ``Status`` as Docker writes it
    (``Up 5 seconds (healthy)``), from Podman's own listing."""
    status = health.get(str(listed.get("Id")))
    if status not in ("healthy", "unhealthy", "starting"):
        return listed
    word = "health: starting" if status == "starting" else status
    return {**listed, "Status": f"{listed.get('Status') or ''} ({word})"}


def connect(host: str | None = None, *, max_concurrency: int = 16,
            timeout: int = 60) -> DockerBackend:
    """A backend for the engine at ``host``, else ``DOCKER_HOST``, else the default socket.

    Makes no request: an unreachable engine shows on the first call, as
    ``EngineUnreachableError``. TLS settings come from ``DOCKER_TLS_VERIFY`` and
    ``DOCKER_CERT_PATH`` when ``host`` is not given.
    """
    kwargs: dict[str, Any] = {}
    if host is None:
        try:
            kwargs = docker.utils.kwargs_from_env()
        except docker.errors.DockerException as exc:
            raise EngineError(f"invalid engine settings in the environment: {exc}") from exc
        host = kwargs.pop("base_url", None) or os.environ.get("DOCKER_HOST") or DEFAULT_HOST
    address = host

    def client(version: str) -> docker.APIClient:
        # 16 requests in flight measured fastest on the engine (8 left it idle); the
        # pool keeps a connection per request plus a few streams, so none is reopened.
        return docker.APIClient(base_url=address, version=version, timeout=timeout,
                                max_pool_size=max_concurrency + 8, **kwargs)

    try:
        first = client(MIN_API)
    except docker.errors.DockerException as exc:
        raise EngineUnreachableError(
            f"cannot reach a container engine at {address}: {exc} ({HOW_TO_START})"
        ) from exc
    return DockerBackend(first, address, max_concurrency=max_concurrency,
                         client_factory=client)
