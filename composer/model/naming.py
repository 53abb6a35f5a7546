"""Names Docker Compose gives to things."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from composer.model.project import ServiceConfig

#: composer's compose extension for "boot from a directory": a service whose root
#: filesystem is a folder (``x-composer-rootfs: ./rootfs``) instead of an image.
ROOTFS_KEY = "x-composer-rootfs"
#: What such a service's image is built from: the folder, copied as it is, as the
#: whole filesystem (the loader writes it as the service's ``build:``, so every
#: engine makes the image its way: Docker and Podman build it, LXC imports it).
ROOTFS_DOCKERFILE = "FROM scratch\nCOPY . /\n"


def image_name(project: str, service: ServiceConfig) -> str:
    """The image ``service`` runs: its ``image:``, else ``{project}-{service}`` (what a
    ``build:`` without ``image:`` is tagged)."""
    return service.image or f"{project}-{service.name}"


def service_image(project: str, service: str, config: Mapping[str, Any] | ServiceConfig) -> str:
    """The image a service runs: ``image:``, else ``{project}-{service}`` for builds.

    ``config`` is the service's model (prefer :func:`image_name`) or, for callers
    not moved to the model yet, its canonical dict."""
    image = config.get("image") if isinstance(config, Mapping) else config.image
    if image:
        return str(image)
    return f"{project}-{service}"


def container_name(project: str, service: str, number: int, sep: str = "-") -> str:
    """``{project}-{service}-{n}``."""
    return f"{project}{sep}{service}{sep}{number}"


def resource_name(project: str, key: str) -> str:
    """Networks and volumes: ``{project}_{key}``."""
    return f"{project}_{key}"
