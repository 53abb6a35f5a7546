"""Names Docker Compose gives to things."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from composer.model.project import ServiceConfig


def service_image(project: str, service: str, config: ServiceConfig | Mapping[str, Any]) -> str:
    """The image a service runs: ``image:``, else ``{project}-{service}`` for builds.

    ``config`` is the service's model (or, for the loader's ``config --images``,
    its canonical mapping)."""
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
