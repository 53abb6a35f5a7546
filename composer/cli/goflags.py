"""Boolean flags that default to true, parsed as Docker Compose v2 (cobra/pflag) parses them.

``--orphans`` alone means true and ``--orphans=false`` turns it off; the value must
be attached with ``=`` (``--orphans false`` is the flag followed by an argument
``false``, as in v2). Values are Go's ``strconv.ParseBool`` ones.

argparse cannot express "an optional value, but only after ``=``", so a parser made
with :func:`go_bool_parser` rewrites ``--NAME=VALUE`` into a hidden option before
parsing; :func:`add_go_bool` declares the flag; :func:`go_bool` reads it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from composer.errors import UsageError

__all__ = ["add_go_bool", "go_bool", "go_bool_parser", "parse_go_bool"]

_TRUE = frozenset({"1", "t", "T", "TRUE", "true", "True"})
_FALSE = frozenset({"0", "f", "F", "FALSE", "false", "False"})
_HIDDEN = "--x-go-bool-value-"
_CACHE: dict[type[argparse.ArgumentParser], type[argparse.ArgumentParser]] = {}


def parse_go_bool(flag: str, value: str) -> bool:
    """``value`` as Go's ``strconv.ParseBool``; else v2's usage error for ``--flag``."""
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise UsageError(f'invalid argument "{value}" for "--{flag}" flag: strconv.ParseBool: '
                     f'parsing "{value}": invalid syntax')


def _dest(flag: str) -> str:
    return "go_bool_" + flag.replace("-", "_")


def _rewrite(args: Sequence[str], flags: frozenset[str]) -> list[str]:
    out: list[str] = []
    for i, arg in enumerate(args):
        if arg == "--":
            return out + list(args[i:])
        name, sep, value = arg.partition("=")
        if sep and name.startswith("--") and name[2:] in flags:
            arg = f"{_HIDDEN}{name[2:]}={value}"
        out.append(arg)
    return out


def go_bool_parser(base: type[argparse.ArgumentParser]) -> type[argparse.ArgumentParser]:
    """A subclass of ``base`` that understands the flags added with :func:`add_go_bool`."""
    found = _CACHE.get(base)
    if found is not None:
        return found

    class GoBoolParser(base):  # type: ignore[valid-type,misc]
        go_bools: frozenset[str] = frozenset()
        _go_inside = False

        def parse_known_args(
            self, args: Sequence[str] | None = None,
            namespace: argparse.Namespace | None = None,
        ) -> tuple[argparse.Namespace, list[str]]:
            # Only the outermost call sees the words as typed: an intermixing parser
            # calls itself again without the "--" that ended the options.
            if self._go_inside:
                inner: tuple[argparse.Namespace, list[str]] = super().parse_known_args(
                    args, namespace)
                return inner
            if args is not None and self.go_bools:
                args = _rewrite(args, self.go_bools)
            self._go_inside = True
            try:
                result: tuple[argparse.Namespace, list[str]] = super().parse_known_args(
                    args, namespace)
            finally:
                self._go_inside = False
            return result

    _CACHE[base] = GoBoolParser
    return GoBoolParser


def add_go_bool(p: argparse.ArgumentParser, flag: str, *, help: str) -> None:
    """Declare ``--flag`` (default true) on a parser made by :func:`go_bool_parser`."""
    current: Any = getattr(p, "go_bools", None)
    if not isinstance(current, frozenset):
        # Not a real parser (the CLI builds only the parser of the command it runs).
        return
    p.go_bools = current | {flag}  # type: ignore[attr-defined]
    dest = _dest(flag)
    p.add_argument(f"--{flag}", dest=dest, action="store_const", const="true",
                   default="true", help=f"{help} (default true; --{flag}=false turns it off)")
    p.add_argument(f"{_HIDDEN}{flag}", dest=dest, help=argparse.SUPPRESS)


def go_bool(args: argparse.Namespace, flag: str) -> bool:
    """The value of ``--flag`` on the parsed command line (true when absent)."""
    return parse_go_bool(flag, str(getattr(args, _dest(flag), "true")))
