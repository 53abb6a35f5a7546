"""The Docker Engine as a swarm manager: :class:`~composer.backends.base.SwarmBackend`.

Listings go through the SDK's own methods (``services``, ``tasks``, ``nodes``,
``secrets``, ``configs``); creates and updates post the spec exactly as
:mod:`composer.backends.spec.swarm` built it (the SDK's helpers would rebuild it
from their own types and drop what they do not know).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from typing import Any

from composer.backends.base import SwarmKind
from composer.backends.docker import convert
from composer.backends.docker.credentials import registry_of
from composer.backends.docker.engine import Engine
from composer.backends.docker.wire import post_json
from composer.backends.types import NetworkInfo, SwarmInfo, SwarmNode, SwarmObject, SwarmTask
from composer.errors import ComposerError

__all__ = ["Swarm"]

_SINGULAR = {"secrets": "secret", "configs": "config"}


def _filters(labels: Sequence[str]) -> dict[str, list[str]] | None:
    return {"label": list(labels)} if labels else None


def _labels(raw: Any) -> dict[str, str]:
    return {str(k): str(v) for k, v in (raw or {}).items()}


def swarm_object(raw: Mapping[str, Any]) -> SwarmObject:
    spec = raw.get("Spec") or {}
    return SwarmObject(
        id=str(raw.get("ID") or ""), name=str(spec.get("Name") or ""),
        version=int((raw.get("Version") or {}).get("Index") or 0), spec=spec,
        labels=_labels(spec.get("Labels")),
        update_status={str(k): str(v) for k, v in (raw.get("UpdateStatus") or {}).items()
                       if isinstance(v, str)})


def swarm_task(raw: Mapping[str, Any]) -> SwarmTask:
    status = raw.get("Status") or {}
    container = status.get("ContainerStatus") or {}
    spec = (raw.get("Spec") or {}).get("ContainerSpec") or {}
    slot = raw.get("Slot")
    return SwarmTask(
        id=str(raw.get("ID") or ""), service_id=str(raw.get("ServiceID") or ""),
        slot=int(slot) if slot else None, node_id=str(raw.get("NodeID") or ""),
        desired_state=str(raw.get("DesiredState") or ""), state=str(status.get("State") or ""),
        message=str(status.get("Message") or ""), error=str(status.get("Err") or ""),
        container_id=str(container.get("ContainerID") or ""), image=str(spec.get("Image") or ""),
        timestamp=str(status.get("Timestamp") or ""))


def swarm_node(raw: Mapping[str, Any]) -> SwarmNode:
    spec = raw.get("Spec") or {}
    status = raw.get("Status") or {}
    return SwarmNode(
        id=str(raw.get("ID") or ""),
        hostname=str((raw.get("Description") or {}).get("Hostname") or ""),
        role=str(spec.get("Role") or ""), availability=str(spec.get("Availability") or ""),
        state=str(status.get("State") or ""), addr=str(status.get("Addr") or ""),
        labels=_labels(spec.get("Labels")))


class Swarm(Engine):
    """The swarm calls of :class:`~composer.backends.docker.DockerBackend`."""

    def _auth_header(self, spec: Mapping[str, Any], send: bool) -> dict[str, str]:
        """(Worker thread.) ``X-Registry-Auth`` for the spec's image, when asked
        and a login for its registry is stored (docker's ``--with-registry-auth``)."""
        if not send:
            return {}
        image = str(spec.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Image", ""))
        entry = self.client_config.auth_entry(registry_of(image))
        if not entry:
            return {}
        return {"X-Registry-Auth": base64.urlsafe_b64encode(json.dumps(entry).encode()).decode()}

    async def swarm_info(self) -> SwarmInfo:
        info = await self._call(self._client.info)
        swarm = info.get("Swarm") or {}
        return SwarmInfo(state=str(swarm.get("LocalNodeState") or "inactive"),
                         manager=bool(swarm.get("ControlAvailable")),
                         node_id=str(swarm.get("NodeID") or ""))

    async def list_services(self, *, labels: Sequence[str] = ()) -> list[SwarmObject]:
        found = await self._call(lambda: self._client.services(filters=_filters(labels)))
        return [swarm_object(raw) for raw in found or ()]

    async def create_service(self, spec: Mapping[str, Any], *,
                             registry_auth: bool = False) -> tuple[str, list[str]]:
        result = await self._call(lambda: post_json(
            self._client, "/services/create", body=spec,
            headers=self._auth_header(spec, registry_auth)))
        return str(result.get("ID") or ""), [str(w) for w in result.get("Warnings") or ()]

    async def update_service(self, service_id: str, version: int, spec: Mapping[str, Any],
                             *, registry_auth: bool = False) -> list[str]:
        result = await self._call(lambda: post_json(
            self._client, "/services/{0}/update", service_id, body=spec,
            params={"version": version}, headers=self._auth_header(spec, registry_auth)))
        return [str(w) for w in result.get("Warnings") or ()]

    async def remove_service(self, service_id: str) -> None:
        await self._call(self._client.remove_service, service_id)

    async def list_tasks(self, *, services: Sequence[str] = (),
                         labels: Sequence[str] = ()) -> list[SwarmTask]:
        filters: dict[str, list[str]] = {}
        if services:
            filters["service"] = list(services)
        if labels:
            filters["label"] = list(labels)
        found = await self._call(lambda: self._client.tasks(filters=filters or None))
        return [swarm_task(raw) for raw in found or ()]

    async def list_nodes(self) -> list[SwarmNode]:
        found = await self._call(self._client.nodes)
        return [swarm_node(raw) for raw in found or ()]

    async def list_swarm_objects(self, kind: SwarmKind, *,
                                 labels: Sequence[str] = ()) -> list[SwarmObject]:
        lister = self._client.secrets if kind == "secrets" else self._client.configs
        found = await self._call(lambda: lister(filters=_filters(labels)))
        return [swarm_object(raw) for raw in found or ()]

    async def create_swarm_object(self, kind: SwarmKind, spec: Mapping[str, Any]) -> str:
        result = await self._call(lambda: post_json(self._client, f"/{kind}/create", body=spec))
        return str(result.get("ID") or "")

    async def update_swarm_object(self, kind: SwarmKind, object_id: str, version: int,
                                  spec: Mapping[str, Any]) -> None:
        await self._call(lambda: post_json(self._client, f"/{kind}/{{0}}/update", object_id,
                                           body=spec, params={"version": version}))

    async def remove_swarm_object(self, kind: SwarmKind, object_id: str) -> None:
        remove = (self._client.remove_secret if kind == "secrets"
                  else self._client.remove_config)
        await self._call(remove, object_id)

    async def list_networks(self, *, labels: Sequence[str] = ()) -> list[NetworkInfo]:
        found = await self._call(lambda: self._client.networks(filters=_filters(labels)))
        return [convert.network_info(n) for n in found or ()]

    async def image_digest(self, image: str) -> str | None:
        try:
            found = await self._call(self._client.inspect_distribution, image)
        except ComposerError:
            return None
        digest = str((found.get("Descriptor") or {}).get("digest") or "")
        if not digest:
            return None
        name = image.split("@", 1)[0]
        return f"{name}@{digest}"
