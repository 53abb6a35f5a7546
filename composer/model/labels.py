"""The ``com.docker.compose.*`` label keys, as Docker Compose v2 writes them.

Same keys and meanings as v2's ``pkg/api/labels.go``, so that composer and
``docker compose`` recognise each other's containers, networks and volumes.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Final

__all__ = [
    "COMPOSE_PREFIX",
    "CONFIG_FILES",
    "CONFIG_HASH",
    "CONTAINER_NUMBER",
    "CONTAINER_REPLACE",
    "DEPENDS_ON",
    "HEALTH_START_INTERVAL",
    "ENVIRONMENT_FILE",
    "IMAGE_BUILDER",
    "IMAGE_DIGEST",
    "NETWORK",
    "OCI_ENV_FILE",
    "OCI_EXTENDS",
    "OCI_FILE",
    "ONEOFF",
    "PROJECT",
    "SERVICE",
    "SLUG",
    "VERSION",
    "VOLUME",
    "WORKING_DIR",
    "depends_on_label",
]

COMPOSE_PREFIX: Final = "com.docker.compose."

#: Project name, on every container, network and volume compose creates.
PROJECT: Final = "com.docker.compose.project"
#: Service name, on containers.
SERVICE: Final = "com.docker.compose.service"
#: The service's config hash (:func:`composer.model.hash.service_config_hash`);
#: a container whose label differs from the current hash is recreated.
CONFIG_HASH: Final = "com.docker.compose.config-hash"
#: Replica index of a service's container, from 1.
CONTAINER_NUMBER: Final = "com.docker.compose.container-number"
#: Key of a top-level volume, on volumes compose creates.
VOLUME: Final = "com.docker.compose.volume"
#: Key of a top-level network, on networks compose creates.
NETWORK: Final = "com.docker.compose.network"
#: Absolute path of the project's working directory.
WORKING_DIR: Final = "com.docker.compose.project.working_dir"
#: Absolute paths of the compose files, joined with ",".
CONFIG_FILES: Final = "com.docker.compose.project.config_files"
#: Absolute paths of the ``--env-file`` files, joined with ",".
ENVIRONMENT_FILE: Final = "com.docker.compose.project.environment_file"
#: "True" on one-off containers (``compose run``), "False" otherwise.
ONEOFF: Final = "com.docker.compose.oneoff"
#: Unique slug identifying a one-off container.
SLUG: Final = "com.docker.compose.slug"
#: Digest of the image the container was created from.
IMAGE_DIGEST: Final = "com.docker.compose.image"
#: The service's dependencies: ``service:condition:restart`` items joined with ",".
DEPENDS_ON: Final = "com.docker.compose.depends_on"
#: Version of the compose tool that created the resource (``major.minor.patch``).
VERSION: Final = "com.docker.compose.version"
#: On images: the builder that produced it (classic or BuildKit).
IMAGE_BUILDER: Final = "com.docker.compose.image.builder"
#: On a container created to replace (recreate) another: the replaced one's name.
CONTAINER_REPLACE: Final = "com.docker.compose.replace"

#: composer's own (not Compose's): a healthcheck's ``start_interval`` in
#: nanoseconds, on a container of an engine whose healthchecks composer runs and
#: whose API drops ``Healthcheck.StartInterval`` (Podman 4 speaks API 1.41).
HEALTH_START_INTERVAL: Final = "io.composer.healthcheck.start-interval"

# Annotation keys of the layers of an OCI artifact made by ``compose publish``.
OCI_FILE: Final = "com.docker.compose.file"
OCI_EXTENDS: Final = "com.docker.compose.extends"
OCI_ENV_FILE: Final = "com.docker.compose.envfile"


def depends_on_label(depends_on: Mapping[str, Mapping[str, object]] | None) -> str:
    """The :data:`DEPENDS_ON` value for a canonical ``depends_on`` map.

    ``{"db": {"condition": "service_healthy", "restart": True}}`` gives
    ``"db:service_healthy:true"``; entries are joined with "," in the map's order.
    """
    items = []
    for name, dep in (depends_on or {}).items():
        condition = dep.get("condition") or ""
        restart = "true" if dep.get("restart") else "false"
        items.append(f"{name}:{condition}:{restart}")
    return ",".join(items)
