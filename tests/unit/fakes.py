"""The in-memory engine the unit tests run on: :mod:`composer.backends.memory`.

Kept as a thin re-export under the names the tests have always used
(``FakeBackend``, ``FakeContainer``); see :class:`~composer.backends.memory.MemoryBackend`.
"""

from __future__ import annotations

from composer.backends.memory import Call, MemoryBackend, MemoryContainer, Script

FakeBackend = MemoryBackend
FakeContainer = MemoryContainer

__all__ = ["Call", "FakeBackend", "FakeContainer", "Script"]
