"""Parse ``.env`` files in the compose syntax.

STUB: minimal KEY=VALUE parsing; to be replaced. The public names are the contract.
"""

from __future__ import annotations

from collections.abc import Callable

from composer.errors import EnvFileError

Lookup = Callable[[str], str | None]


def parse_dotenv(text: str, file: str, lookup: Lookup | None = None) -> dict[str, str | None]:
    """Parse dotenv text; ``lookup`` resolves ``${VAR}`` inside values and bare names.

    Values may refer to variables defined earlier in the same file.
    A bare ``NAME`` line takes its value from ``lookup`` (``None`` when unset).
    """
    out: dict[str, str | None] = {}
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if "=" not in line:
            out[line] = lookup(line) if lookup else None
            continue
        k, v = line.split("=", 1)
        out[k.strip()] = v.strip().strip("'\"")
    return out


def load_dotenv_file(path: str, lookup: Lookup | None = None) -> dict[str, str | None]:
    """Read and parse one env file; a missing file is an :class:`EnvFileError`."""
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except FileNotFoundError as exc:
        raise EnvFileError(f"env file {path} not found") from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise EnvFileError(f"cannot read env file {path}: {exc}") from exc
    return parse_dotenv(text, path, lookup)
