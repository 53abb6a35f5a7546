"""The typed, frozen project model and what belongs with it: pure, no engine.

Modules:

* :mod:`~composer.model.fields`: compose-go's field table, the one description of
  a project's fields (the model's codecs, Go's JSON and the loader's typed
  rendering are derived from it).
* :mod:`~composer.model.project`: ``Project.from_dict(canonical) -> Project`` and
  ``Project.to_dict()``; ``ServiceConfig`` and the classes of its parts (their
  dict conversion: :mod:`~composer.model._codec`).
* :mod:`~composer.model.hash`: ``service_config_hash`` (equal to Docker Compose
  v2's ``config --hash``, the ``com.docker.compose.config-hash`` label),
  ``network_config_hash``, ``volume_config_hash``; Go's JSON they hash is
  :mod:`~composer.model.gojson`.
* :mod:`~composer.model.units`: Go durations and byte sizes, parsed and printed.
* :mod:`~composer.model.gofloat`: Go's float rounding and formats (JSON, ``%v``,
  yaml.v3, ``%g``).
* :mod:`~composer.model.conditions`: the ``depends_on`` condition names.
* :mod:`~composer.model.labels`: the ``com.docker.compose.*`` label keys.
* :mod:`~composer.model.naming`: names compose gives to images, containers, resources.

The main names are importable from here; each module loads on first use, so that
``import composer.model.labels`` does not pay for the model classes.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from composer.model.hash import service_config_hash
    from composer.model.project import Project, ServiceConfig
    from composer.model.units import format_duration, parse_bytes, parse_duration

__all__ = [
    "Project",
    "ServiceConfig",
    "format_duration",
    "parse_bytes",
    "parse_duration",
    "service_config_hash",
]

_HOME = {
    "Project": "composer.model.project",
    "ServiceConfig": "composer.model.project",
    "service_config_hash": "composer.model.hash",
    "format_duration": "composer.model.units",
    "parse_bytes": "composer.model.units",
    "parse_duration": "composer.model.units",
}


def __getattr__(name: str) -> Any:
    module = _HOME.get(name)
    if module is None:
        raise AttributeError(f"module 'composer.model' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
