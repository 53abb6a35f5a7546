"""Engine errors, re-exported where the backends have always imported them from.

They live in :mod:`composer.errors`, the one exception tree.
"""

from composer.errors import ConflictError, NotFoundError, UnsupportedError

__all__ = ["ConflictError", "NotFoundError", "UnsupportedError"]
