"""Profiles: services that only exist when their profile is enabled.

STUB: to be replaced. The public names are the contract.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any


def apply_profiles(
    data: dict[str, Any], profiles: Collection[str], services: Collection[str] = ()
) -> dict[str, Any]:
    """Drop services that are not enabled.

    A service without ``profiles`` is always enabled; ``"*"`` enables all; a
    service named in ``services`` enables itself. A enabled service depending
    (required) on a disabled one raises :class:`composer.errors.ProfileError`.
    """
    return data
