"""Go's ways of rounding and printing floating-point numbers, in one place.

Compose v2 is written in Go, and what it prints or hashes follows Go's rules:

* :func:`round32`: a ``float64`` stored in a Go ``float32`` (``cpus``, engine sums);
* :func:`shortest32`: the ``float32`` of a value as the fewest decimal digits that
  identify it, as a Python float (``0.1`` stays ``0.1``, not ``0.10000000149``);
* :func:`json32` / :func:`json64`: ``encoding/json``'s text of a ``float32`` /
  ``float64`` (``50``, ``0.25``, ``1e-7``, ``1e+21``);
* :func:`sprint`: ``fmt.Sprint``/``%v`` of a ``float64`` (``1e+06``, ``0.0001``);
* :func:`yaml64`: yaml.v3's text of a float (``1e+20``, ``.inf``);
* :func:`format_g`: ``%.<n>g`` (``strconv.FormatFloat(f, 'g', n, 64)``).
"""

from __future__ import annotations

import math
import struct
from decimal import Decimal

__all__ = [
    "FLOAT32_MAX",
    "format_g",
    "json32",
    "json64",
    "round32",
    "shortest32",
    "sprint",
    "yaml64",
]

#: The largest finite float32 (``math.MaxFloat32``).
FLOAT32_MAX = 3.4028234663852886e38

_pack = struct.Struct("f")


def round32(value: float) -> float:
    """``float64(float32(value))``: rounded to the nearest float32 (inf beyond its range)."""
    try:
        result: float = _pack.unpack(_pack.pack(value))[0]
    except OverflowError:
        return math.copysign(math.inf, value)
    return result


def shortest32(value: float) -> float:
    """The float32 of ``value`` written with the fewest digits that identify it,
    read back as a Python float: what Go prints for a ``float32``, in a value that
    :func:`json64` and ``repr`` print the same way (``0.333333333`` -> ``0.33333334``).
    Not finite: returned as rounded."""
    f32 = round32(value)
    if not math.isfinite(f32) or f32 == 0:
        return f32
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if round32(candidate) == f32:
            return candidate
    return f32


def _digits(value: float) -> tuple[str, int]:
    """The shortest digits of ``abs(value)`` (as ``repr`` finds them) and the decimal
    exponent of the first one: ``0.025`` -> ``("25", -2)``."""
    parts = Decimal(repr(abs(value))).normalize().as_tuple()
    assert isinstance(parts.exponent, int)
    digits = "".join(map(str, parts.digits))
    return digits, len(digits) + parts.exponent - 1


def _exponent_form(sign: str, digits: str, exp: int) -> str:
    """strconv's ``'e'`` form: ``1.5e+10``, ``1e-07`` (at least two exponent digits)."""
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{sign}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


def _plain_form(sign: str, digits: str, exp: int) -> str:
    """strconv's ``'f'`` form with the shortest digits: ``0.0001``, ``1500``, ``2.5``."""
    if exp < 0:
        return f"{sign}0.{'0' * (-exp - 1)}{digits}"
    if len(digits) <= exp + 1:
        return f"{sign}{digits}{'0' * (exp + 1 - len(digits))}"
    return f"{sign}{digits[:exp + 1]}.{digits[exp + 1:]}"


def _json(value: float, exponent: bool) -> str:
    """``encoding/json``'s text of a finite value already at its precision: the
    ``'e'`` form when ``exponent``, else the ``'f'`` form; ``e-07`` is cut to ``e-7``
    as Go's encoder does."""
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, exp = _digits(value)
    if exponent:
        text = _exponent_form(sign, digits, exp)
        if text[-4] == "e" and text[-3] == "-" and text[-2] == "0":
            text = text[:-2] + text[-1]
        return text
    return _plain_form(sign, digits, exp)


_SMALL32 = round32(1e-6)
_LARGE32 = round32(1e21)


def json32(value: float) -> str:
    """A ``float32`` as Go's ``encoding/json`` writes it (``0.1``, ``1e-7``). Go refuses
    to encode infinities and NaN; they are written as Python does (``inf``), to stay
    visible in a hash payload."""
    f32 = round32(value)
    if not math.isfinite(f32):
        return repr(value)
    magnitude = abs(f32)
    return _json(shortest32(f32), magnitude != 0 and (
        magnitude < _SMALL32 or magnitude >= _LARGE32))


def json64(value: float) -> str:
    """A ``float64`` as Go's ``encoding/json`` writes it (``50``, ``0.00001``, ``1e+21``).
    Raises ``ValueError`` for infinities and NaN, which JSON cannot hold."""
    if not math.isfinite(value):
        raise ValueError(f"json: unsupported value: {sprint(value)}")
    magnitude = abs(value)
    return _json(value, magnitude != 0 and (magnitude < 1e-6 or magnitude >= 1e21))


def sprint(value: float) -> str:
    """``fmt.Sprint(value)`` (``%v``) of a ``float64``: the shortest digits, in
    exponent form when the exponent is below -4 or from 6 on (``1e+06``,
    ``123456``, ``0.0001``, ``1e-05``), ``+Inf`` and ``NaN`` spelled as Go does."""
    if value != value:
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == 0:
        return "-0" if math.copysign(1.0, value) < 0 else "0"
    sign = "-" if value < 0 else ""
    digits, exp = _digits(value)
    if exp < -4 or exp >= 6:
        return _exponent_form(sign, digits, exp)
    return _plain_form(sign, digits, exp)


def yaml64(value: float) -> str:
    """A float as Go's yaml.v3 writes it: ``strconv.FormatFloat(f, 'g', -1, 64)`` (what
    :func:`sprint` gives), infinities and NaN as ``.inf``, ``-.inf``, ``.nan``."""
    if value != value:
        return ".nan"
    if math.isinf(value):
        return ".inf" if value > 0 else "-.inf"
    return sprint(value)


def format_g(value: float, precision: int) -> str:
    """Go's ``%.<precision>g`` of a ``float64`` (``1.5``, ``1e+03``)."""
    text = f"{value:.{precision}g}"
    if "e" in text:
        mantissa, exp = text.split("e")
        text = f"{mantissa}e{exp[0]}{exp[1:].lstrip('0').rjust(2, '0')}"
    return text
