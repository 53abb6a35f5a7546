"""Names Docker Compose gives to things."""

from __future__ import annotations

from typing import Any


def service_image(project: str, service: str, config: dict[str, Any]) -> str:
    """The image a service runs: ``image:``, else ``{project}-{service}`` for builds."""
    image = config.get("image")
    if image:
        return str(image)
    return f"{project}-{service}"


def container_name(project: str, service: str, number: int, sep: str = "-") -> str:
    """``{project}-{service}-{n}``."""
    return f"{project}{sep}{service}{sep}{number}"


def resource_name(project: str, key: str) -> str:
    """Networks and volumes: ``{project}_{key}``."""
    return f"{project}_{key}"
