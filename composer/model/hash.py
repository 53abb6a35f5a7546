"""The config hashes kept in labels, which decide recreation.

Docker Compose v2 (``ServiceHash`` in pkg/compose/hash.go) clears ``build``,
``pull_policy``, ``scale``, ``deploy.replicas``, ``depends_on`` and ``profiles``,
then takes the sha256 of ``json.Marshal(types.ServiceConfig)``. A network's and a
volume's hash is the sha256 of their ``json.Marshal``. The canonical dicts and the
model have that same shape; :mod:`composer.model.gojson` writes them by the field
table (:mod:`composer.model.fields`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from composer.model import fields
from composer.model.gojson import encode

if TYPE_CHECKING:
    from composer.model.project import NetworkConfig, ServiceConfig, VolumeConfig

__all__ = [
    "HASH_IGNORED_FIELDS",
    "network_config_hash",
    "service_config_hash",
    "service_hash_payload",
    "volume_config_hash",
]

#: Service attributes that never change the container, so never trigger recreation.
HASH_IGNORED_FIELDS: frozenset[str] = frozenset(
    {"build", "pull_policy", "scale", "depends_on", "profiles"}
)


def service_hash_payload(service: Mapping[str, Any] | ServiceConfig, *,
                         dollars_escaped: bool = False) -> str:
    """The exact JSON text Compose v2 hashes for ``service`` (useful to explain a diff)."""
    data = service if isinstance(service, Mapping) else service.to_dict()
    data = {k: v for k, v in data.items() if k not in HASH_IGNORED_FIELDS}
    deploy = data.get("deploy")
    if isinstance(deploy, Mapping) and "replicas" in deploy:
        data["deploy"] = {k: v for k, v in deploy.items() if k != "replicas"}
    out: list[str] = []
    encode(data, fields.SERVICE, out, dollars_escaped)
    return "".join(out)


def service_config_hash(service: Mapping[str, Any] | ServiceConfig, *,
                        dollars_escaped: bool = False) -> str:
    """sha256 hex digest equal to ``docker compose config --hash`` for this service.

    ``service`` is a :class:`~composer.model.project.ServiceConfig` (what a loaded
    project's ``model`` holds), or one service in the canonical shape (``config
    --format json``). Values are the real ones (the loader's): pass
    ``dollars_escaped=True`` for a dict exactly as v2 prints it, where every ``$``
    is doubled. The hash ignores build, pull_policy, scale, deploy.replicas,
    depends_on, profiles and ``x-`` keys; any other change changes it. As v2.40.3's
    ``up``, it hashes ``environment`` with the env files read (the loaded form);
    ``config --hash`` hashes the service with its ``env_file`` entries kept
    unread (``LoadedProject.hash_view``).
    """
    payload = service_hash_payload(service, dollars_escaped=dollars_escaped)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()


def _object_hash(value: Mapping[str, Any], struct: fields.Struct) -> str:
    # Only the fields compose-go knows: the others (x- extensions) are json:"-".
    known = {k: v for k, v in value.items() if k in struct.fields}
    out: list[str] = []
    encode(known, struct, out)
    return hashlib.sha256("".join(out).encode("utf-8")).hexdigest()


def network_config_hash(network: Mapping[str, Any] | NetworkConfig) -> str:
    """v2's ``NetworkHash``: sha256 of ``json.Marshal(types.NetworkConfig)`` (``name``
    included), from a canonical dict or the model's :class:`NetworkConfig`."""
    return _object_hash(network if isinstance(network, Mapping) else network.to_dict(),
                        fields.NETWORK)


def volume_config_hash(volume: Mapping[str, Any] | VolumeConfig) -> str:
    """v2's ``VolumeHash``: as :func:`network_config_hash`, the driver defaulting to
    ``local``."""
    value = dict(volume if isinstance(volume, Mapping) else volume.to_dict())
    if not value.get("driver"):
        value["driver"] = "local"
    return _object_hash(value, fields.VOLUME)
