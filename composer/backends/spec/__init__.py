"""Engine API request bodies, built as Docker Compose v2.40.3 builds them. Pure.

Input is the typed project model (:class:`composer.model.project.Project` and
its :class:`~composer.model.project.ServiceConfig`, real values); output is the
JSON the Docker Engine API takes for ``POST /containers/create``, ``POST
/networks/create``, ``POST /volumes/create`` and ``POST /networks/{id}/connect``.
The bodies carry every key v2's Go client sends, with the same zero values
(``"ExtraHosts": []``, ``"PortBindings": {}``, ``"PidsLimit": null``...), so that
``docker inspect`` shows the same container whichever tool created it.

Where v2 iterates a Go map (environment, mounts, ulimits, depends_on), its
order is random; here it is the model's order, or sorted.

Things that need the engine's present state come in as arguments: the image ID
(label ``com.docker.compose.image``), the existing containers of other services
(``links``, ``network_mode: service:x``, ``volumes_from``, ``ipc``/``pid``), the
container being replaced (its anonymous volumes carry over) and the engine's API
version (before 1.44 a container is created on one network and connected to the
others afterwards: see :func:`network_connect_bodies`).

The parts: :mod:`.container` (config, host config, labels), :mod:`.mounts`
(binds and mounts), :mod:`.files` (secrets and configs copied in, and the
warnings about bind-mounted ones), :mod:`.network` (networks, endpoints, network
and volume bodies and hashes), :mod:`.common` (references to other containers,
names).
No engine, no docker import. Raises
:class:`composer.backends.errors.UnsupportedError` for what v2 refuses.
"""

from __future__ import annotations

from composer.backends.spec.common import (
    DEFAULT_API_VERSION,
    ContainerRef,
    api_at_least,
    container_name,
    normalize_capabilities,
    proxy_environment,
    referenced_services,
    resolve_service_references,
)
from composer.backends.spec.container import (
    ContainerRequest,
    container_create_body,
    container_create_request,
    container_platform,
)
from composer.backends.spec.files import ContainerFile, bind_warnings, container_files
from composer.backends.spec.network import (
    endpoint_settings,
    network_config_hash,
    network_connect_bodies,
    network_create_body,
    network_name,
    networks_by_priority,
    service_links,
    volume_config_hash,
    volume_create_body,
)
from composer.model import labels as _labels

__all__ = [
    "DEFAULT_API_VERSION",
    "LABEL_CONFIG_FILES",
    "LABEL_CONFIG_HASH",
    "LABEL_CONTAINER_NUMBER",
    "LABEL_DEPENDS_ON",
    "LABEL_ENVIRONMENT_FILE",
    "LABEL_IMAGE",
    "LABEL_NETWORK",
    "LABEL_ONEOFF",
    "LABEL_PROJECT",
    "LABEL_SERVICE",
    "LABEL_VERSION",
    "LABEL_VOLUME",
    "LABEL_WORKING_DIR",
    "ContainerFile",
    "ContainerRef",
    "ContainerRequest",
    "api_at_least",
    "bind_warnings",
    "container_create_body",
    "container_create_request",
    "container_files",
    "container_name",
    "container_platform",
    "endpoint_settings",
    "network_config_hash",
    "network_connect_bodies",
    "network_create_body",
    "network_name",
    "networks_by_priority",
    "normalize_capabilities",
    "proxy_environment",
    "referenced_services",
    "resolve_service_references",
    "service_links",
    "volume_config_hash",
    "volume_create_body",
]

# The label keys under their former names here; they are composer.model.labels'.
LABEL_PROJECT = _labels.PROJECT
LABEL_SERVICE = _labels.SERVICE
LABEL_CONTAINER_NUMBER = _labels.CONTAINER_NUMBER
LABEL_ONEOFF = _labels.ONEOFF
LABEL_WORKING_DIR = _labels.WORKING_DIR
LABEL_CONFIG_FILES = _labels.CONFIG_FILES
LABEL_ENVIRONMENT_FILE = _labels.ENVIRONMENT_FILE
LABEL_DEPENDS_ON = _labels.DEPENDS_ON
LABEL_IMAGE = _labels.IMAGE_DIGEST
LABEL_VERSION = _labels.VERSION
LABEL_CONFIG_HASH = _labels.CONFIG_HASH
LABEL_NETWORK = _labels.NETWORK
LABEL_VOLUME = _labels.VOLUME
