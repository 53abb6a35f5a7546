"""The config hash kept in a container label, which decides recreation.

Docker Compose v2 (``ServiceHash`` in pkg/compose/hash.go) clears ``build``,
``pull_policy``, ``scale``, ``deploy.replicas``, ``depends_on`` and ``profiles``,
then takes the sha256 of ``json.Marshal(types.ServiceConfig)``. The canonical
service dict is that same JSON shape, so it is re-encoded here with compose-go's
field order and Go's encoding rules (see :mod:`composer.model._gojson`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any, Protocol

from composer.model._gojson import SERVICE, encode

__all__ = ["HASH_IGNORED_FIELDS", "service_config_hash", "service_hash_payload"]

class _HasToDict(Protocol):
    def to_dict(self) -> dict[str, Any]: ...


#: Service attributes that never change the container, so never trigger recreation.
HASH_IGNORED_FIELDS: frozenset[str] = frozenset(
    {"build", "pull_policy", "scale", "depends_on", "profiles"}
)


def service_hash_payload(service: Mapping[str, Any] | _HasToDict, *,
                         dollars_escaped: bool = False) -> str:
    """The exact JSON text Compose v2 hashes for ``service`` (useful to explain a diff)."""
    if not isinstance(service, Mapping):
        service = service.to_dict()
    data = {k: v for k, v in service.items() if k not in HASH_IGNORED_FIELDS}
    deploy = data.get("deploy")
    if isinstance(deploy, Mapping) and "replicas" in deploy:
        data["deploy"] = {k: v for k, v in deploy.items() if k != "replicas"}
    out: list[str] = []
    encode(data, SERVICE, out, dollars_escaped)
    return "".join(out)


def service_config_hash(service: Mapping[str, Any] | _HasToDict, *,
                        dollars_escaped: bool = False) -> str:
    """sha256 hex digest equal to ``docker compose config --hash`` for this service.

    ``service`` is one service in the canonical shape (``config --format json``),
    or a :class:`~composer.model.project.ServiceConfig`. Values are the real ones
    (the loader's): pass ``dollars_escaped=True`` for text exactly as v2
    prints it, where every ``$`` is doubled. The hash ignores build, pull_policy,
    scale, deploy.replicas, depends_on, profiles and ``x-`` keys; any other change
    changes it. For parity on services with ``env_file``, v2 hashes the service as
    loaded *without* env-file resolution: ``environment`` holding only the declared
    variables and ``env_file`` kept (entries as ``{"path", "required", "format"}``
    or a path string); pass it in that form.
    """
    payload = service_hash_payload(service, dollars_escaped=dollars_escaped)
    return hashlib.sha256(payload.encode("utf-8")).hexdigest()
