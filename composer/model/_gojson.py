"""The old struct-description API of the Go JSON encoder, kept for ``backends/spec.py``.

``spec.py`` still describes compose-go's ``NetworkConfig`` and ``VolumeConfig`` with
it; those structs are in :mod:`composer.model.fields` (``NETWORK``, ``VOLUME``) and
:func:`composer.model.hash.network_config_hash` / ``volume_config_hash`` hash them.
Remove this module once ``spec.py`` uses those.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from composer.model import fields
from composer.model.fields import ALWAYS, OMIT, PTR, Kind
from composer.model.gojson import encode

__all__ = ["ALWAYS", "OMIT", "PTR", "ListOf", "MapOf", "Struct", "encode"]


class ListOf:
    """A Go slice of ``item`` (a struct, or ``None`` for plain values)."""

    __slots__ = ("item",)

    def __init__(self, item: fields.Struct | None) -> None:
        self.item = item


class MapOf:
    """A Go map of ``item`` (a struct, or ``None`` for plain values)."""

    __slots__ = ("item",)

    def __init__(self, item: fields.Struct | None) -> None:
        self.item = item


class Struct(fields.Struct):
    """A table struct from ``(key, omit rule, schema)`` rows (``defaults`` is implied
    by the rows: Go's zero values)."""

    __slots__ = ()

    def __init__(self, name: str, rows: list[tuple[str, fields.Omit, Any]],
                 defaults: Mapping[str, Any] | None = None) -> None:
        out = []
        for key, omit, schema in rows:
            if isinstance(schema, fields.Struct):
                out.append(fields.Field(key, Kind.STRUCT, omit, schema))
            elif isinstance(schema, ListOf) and schema.item is not None:
                out.append(fields.Field(key, Kind.LIST, omit, schema.item))
            elif isinstance(schema, MapOf) and schema.item is not None:
                out.append(fields.Field(key, Kind.MAP, omit, schema.item))
            else:
                out.append(fields.Field(key, Kind.ANY, omit))
        super().__init__(name, out)
