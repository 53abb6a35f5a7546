"""``${VAR}`` interpolation of values (never keys), then typed casts.

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from composer.config.source import KeyPath, SourceMap

Lookup = Callable[[str], str | None]

_SIMPLE = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::?-([^}]*))?\}|\$([A-Za-z_][A-Za-z0-9_]*)")


def substitute(template: str, lookup: Lookup, *, path: KeyPath = (), source: SourceMap | None = None,
               warn: Callable[[str], None] | None = None) -> str:
    """Substitute every ``$VAR`` / ``${...}`` form in ``template``; ``$$`` is a literal ``$``."""
    def rep(m: re.Match[str]) -> str:
        name = m.group(1) or m.group(3)
        val = lookup(name)
        if val is None or val == "":
            return m.group(2) or ""
        return val
    return _SIMPLE.sub(rep, template).replace("$$", "$")


def interpolate(data: Any, lookup: Lookup, *, source: SourceMap | None = None,
                warn: Callable[[str], None] | None = None, path: KeyPath = ()) -> Any:
    """Interpolate every string value of a parsed document and cast typed fields.

    Returns a new tree; the input is not changed. Keys are never interpolated.
    """
    if isinstance(data, str):
        return substitute(data, lookup, path=path, source=source, warn=warn)
    if isinstance(data, dict):
        return {k: interpolate(v, lookup, source=source, warn=warn, path=path + (k,))
                for k, v in data.items()}
    if isinstance(data, list):
        return [interpolate(v, lookup, source=source, warn=warn, path=path + (i,))
                for i, v in enumerate(data)]
    return data
