"""Normalisation: the merged project as Docker Compose v2 prints it (``config --format json``).

Two steps, after merging and profiles:

1. what v2 adds (compose-go's ``Normalize`` and the project resolutions
   ``docker compose config`` runs): the implicit ``default`` network and service
   attachments to it, ``pull_policy: if_not_present`` -> ``missing``, build
   defaults (context = project folder, ``Dockerfile``), build args and
   ``environment`` entries resolved from the project environment, ``env_file`` and
   ``label_file`` read and dropped, implicit ``depends_on`` from ``links``,
   ``volumes_from`` and ``service:`` namespaces, default secret targets, resource
   names (``{project}_{key}``; the key for external ones), and the resources no
   service uses dropped;
2. the typed rendering v2's Go structs give: unknown keys and ``x-`` extensions
   below the top level are dropped, empty values are omitted (``omitempty``),
   sizes become byte counts as strings (``"512m"`` -> ``"536870912"``), durations Go
   duration strings (``90s`` -> ``"1m30s"``), ``command``/``entrypoint`` lists
   (split like a shell, ``null`` when unset), scalars in mappings strings, maps
   sorted by key and struct fields in v2's order.

The result is plain JSON-able data; ``config --format json`` prints it as is
(after escaping ``$`` as ``$$``, which is the CLI's business).
"""

from __future__ import annotations

import math
import re
import struct
from collections.abc import Callable, Mapping
from typing import Any

from composer.config.canonical import clean_path, parse_port_spec
from composer.config.environment import (
    env_value,
    resolve_environment_entries,
    resolve_service_environment,
    resolve_service_labels,
)
from composer.errors import ConfigError

Path = tuple[str | int, ...]
Warn = Callable[[str], None]
Encoder = Callable[[Any, Path], Any]

# Returned by an encoder for a value v2 leaves out (Go's ``omitempty``).
_OMIT: Any = object()


def normalize_project(
    data: dict[str, Any],
    *,
    name: str,
    working_dir: str,
    environment: Mapping[str, str],
    warn: Warn | None = None,
    implicit: bool = True,
    resolve_env_files: bool = True,
    resolve_paths: bool = True,
    cwd: str | None = None,
) -> dict[str, Any]:
    """Return the canonical project (what ``config --format json`` prints).

    ``data`` is the merged document after profiles (not changed); ``environment``
    the project environment (process environment over ``.env``), used to resolve
    ``environment``/build ``args`` entries without a value and ``${VAR}`` in env
    files (``warn`` gets v2's warnings about unset ones there). Raises
    :class:`~composer.errors.EnvFileError` for a missing required
    env file and :class:`~composer.errors.ConfigError` for values v2 cannot read
    (a size ``12xb``, a duration ``soon``, an unbalanced quote in ``command``).

    ``implicit=False`` is ``config --no-normalize``: v2 then skips what its
    ``Normalize`` adds (the default network, resource names, ``pull_policy`` and build
    defaults but the build context, build args and implied ``depends_on``) but
    still reads env files, drops unused resources and renders the typed form.

    ``resolve_env_files=False`` keeps ``env_file`` entries unread (the form v2
    computes a service's config hash from).

    ``resolve_paths=False`` (``config --no-path-resolution``): a missing build
    context is ``.``, not the project folder, and the env and label files, left
    relative, are read from ``cwd`` (as v2 reads them from its current folder).
    """
    project = dict(data)
    project["name"] = name
    raw_services = project.get("services")
    services: dict[str, Any] = {}
    if isinstance(raw_services, dict):
        for svc_name, svc in raw_services.items():
            services[svc_name] = _prepare_service(
                svc if isinstance(svc, dict) else {}, environment, working_dir, warn, implicit,
                resolve_env_files, None if resolve_paths else ".",
                working_dir if resolve_paths or cwd is None else cwd,
            )
    project["services"] = services
    if implicit:
        _implicit_default_network(project)
        _name_resources(project, name)
    _drop_unused_resources(project)
    return _encode_project(project)


# -- step 1: what v2 adds -------------------------------------------------------------------


def _prepare_service(
    svc: dict[str, Any],
    environment: Mapping[str, str],
    working_dir: str,
    warn: Warn | None,
    implicit: bool,
    resolve_env_files: bool = True,
    default_context: str | None = None,
    files_dir: str | None = None,
) -> dict[str, Any]:
    out = dict(svc)
    context = working_dir if default_context is None else default_context
    files_dir = working_dir if files_dir is None else files_dir
    if implicit and out.get("pull_policy") == "if_not_present":
        out["pull_policy"] = "missing"

    build = out.get("build")
    if isinstance(build, str):
        build = {"context": build}
        out["build"] = build
    if implicit and isinstance(build, dict):
        build = dict(build)
        if build.get("context") in (None, "", "."):
            build["context"] = context
        if build.get("dockerfile") is None and build.get("dockerfile_inline") is None:
            build["dockerfile"] = "Dockerfile"
        if "args" in build:
            build["args"] = _resolve_args(build["args"], environment)
        out["build"] = build
    elif isinstance(build, dict) and build.get("context") is None:
        # Set before normalisation in v2 (its SetDefaultValues), so even without it.
        out["build"] = {**build, "context": context}

    if not resolve_env_files:
        # v2 hashes a service with its env_file entries, not their contents.
        if "environment" in out:
            out["environment"] = resolve_service_environment(
                {**out, "env_file": []}, environment, working_dir=files_dir, warn=warn
            )
    else:
        if "environment" in out or out.get("env_file"):
            out["environment"] = resolve_service_environment(
                out, environment, working_dir=files_dir, warn=warn
            )
        out.pop("env_file", None)
    if out.get("label_file"):
        labels = resolve_service_labels(out, working_dir=files_dir)
        if labels is not None:
            out["labels"] = labels
    out.pop("label_file", None)

    deps = out.get("depends_on")
    if isinstance(deps, dict):
        out["depends_on"] = {
            k: ({**v, "required": v.get("required", True)} if isinstance(v, dict) else v)
            for k, v in deps.items()
        }
    if implicit:
        _implicit_dependencies(out)

    secrets = out.get("secrets")
    if isinstance(secrets, list):
        out["secrets"] = [_default_secret_target(s) for s in secrets]
    return out


def _resolve_args(args: Any, environment: Mapping[str, str]) -> Any:
    """Build args without a value take the project environment's, or are dropped."""
    resolved = resolve_environment_entries(args, environment)
    return {k: v for k, v in resolved.items() if v is not None}


def _default_secret_target(secret: Any) -> Any:
    if isinstance(secret, str):
        secret = {"source": secret}
    if isinstance(secret, dict) and not secret.get("target"):
        secret = dict(secret)
        secret["target"] = f"/run/secrets/{secret.get('source', '')}"
    return secret


def _implicit_dependencies(svc: dict[str, Any]) -> None:
    """``links``, ``volumes_from`` and ``service:`` namespaces imply ``depends_on``."""
    deps = svc.get("depends_on")
    added: dict[str, dict[str, Any]] = {}

    def add(name: str, restart: bool) -> None:
        if name and name not in added and not (isinstance(deps, dict) and name in deps):
            added[name] = {"condition": "service_started", "restart": restart, "required": True}

    for link in svc.get("links") or []:
        parts = str(link).split(":")
        add(parts[0] if len(parts) == 2 else str(link), True)
    for key in ("network_mode", "ipc", "pid", "uts", "cgroup"):
        ref = svc.get(key)
        if isinstance(ref, str) and ref.startswith("service:"):
            add(ref[len("service:"):], True)
    for vol in svc.get("volumes_from") or []:
        vol = str(vol)
        if not vol.startswith("container:"):
            add(vol.split(":")[0], False)
    if added:
        merged = dict(deps) if isinstance(deps, dict) else {}
        merged.update(added)
        svc["depends_on"] = merged


def _implicit_default_network(project: dict[str, Any]) -> None:
    networks = project.get("networks")
    networks = dict(networks) if isinstance(networks, dict) else {}
    uses_default = False
    for svc in project["services"].values():
        if "network_mode" in svc or "provider" in svc:
            continue
        nets = svc.get("networks")
        if not nets:
            svc["networks"] = {"default": None}
            uses_default = True
        elif "default" in nets:
            uses_default = True
    if uses_default and "default" not in networks:
        networks["default"] = None
    if networks:
        project["networks"] = networks
    else:
        project.pop("networks", None)


def _name_resources(project: dict[str, Any], name: str) -> None:
    for kind in ("networks", "volumes", "configs", "secrets"):
        section = project.get(kind)
        if not isinstance(section, dict):
            continue
        named: dict[str, Any] = {}
        for key, res in section.items():
            res = dict(res) if isinstance(res, dict) else {}
            if res.get("name") is None:
                res["name"] = key if _parse_bool(res.get("external")) else f"{name}_{key}"
            named[key] = res
        project[kind] = named


def _drop_unused_resources(project: dict[str, Any]) -> None:
    used: dict[str, set[Any]] = {"networks": set(), "volumes": set(), "secrets": set(),
                                 "configs": set()}
    for svc in project["services"].values():
        used["networks"].update(svc.get("networks") or ())
        for vol in svc.get("volumes") or ():
            if isinstance(vol, dict) and vol.get("type") == "volume" and vol.get("source"):
                used["volumes"].add(vol["source"])
        for secret in svc.get("secrets") or ():
            if isinstance(secret, dict):
                used["secrets"].add(secret.get("source"))
        build = svc.get("build")
        if isinstance(build, dict):
            for secret in build.get("secrets") or ():
                used["secrets"].add(secret.get("source") if isinstance(secret, dict) else secret)
        for config in svc.get("configs") or ():
            if isinstance(config, dict):
                used["configs"].add(config.get("source"))
    for kind, names in used.items():
        section = project.get(kind)
        if isinstance(section, dict):
            project[kind] = {k: v for k, v in section.items() if k in names}


# -- step 2: v2's typed rendering -----------------------------------------------------------


def _encode_project(project: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key in sorted(project):
        value = project[key]
        if key == "name":
            out[key] = _to_str(value)
        elif key == "services":
            out[key] = {
                name: _SERVICE(svc, ("services", name)) for name, svc in sorted(value.items())
            }
        elif key in _TOP_LEVEL:
            encoded = _TOP_LEVEL[key](value, (key,))
            if encoded is not _OMIT:
                out[key] = encoded
        elif key.startswith("x-"):
            out[key] = _extension(value)
    return out


def _extension(value: Any) -> Any:
    """An ``x-`` value as Go's JSON writes what YAML gave it: keys sorted, ``1.0`` -> ``1``."""
    if isinstance(value, float):
        return int(value) if value.is_integer() and abs(value) < 1e21 else value
    if isinstance(value, dict):
        return {str(k): _extension(v) for k, v in sorted(value.items(), key=lambda i: str(i[0]))}
    if isinstance(value, list):
        return [_extension(v) for v in value]
    return value


def _bad(path: Path, message: str) -> ConfigError:
    return ConfigError(message, path=path)


# scalar conversions ------------------------------------------------------------------------


def _to_str(value: Any) -> str:
    text = env_value(value)
    return "" if text is None else text


def _to_int(value: Any, path: Path) -> int:
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip(), 10)
        except ValueError:
            pass
    raise _bad(path, f"expected an integer, got {value!r}")


def _to_bool(value: Any, path: Path) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str):
        low = value.strip().lower()
        if low in ("1", "t", "true", "y", "yes", "on"):
            return True
        if low in ("0", "f", "false", "n", "no", "off", ""):
            return False
    if isinstance(value, (int, float)):
        return bool(value)
    raise _bad(path, f"expected a boolean, got {value!r}")


def _parse_bool(value: Any) -> bool:
    """Go's ``strconv.ParseBool(fmt.Sprint(value))``, false when unparsable."""
    return _to_str(value) in ("1", "t", "T", "TRUE", "true", "True")


def float32(value: float) -> float | int:
    """``value`` rounded to float32 and written with the fewest digits that identify
    it, as Go's JSON encoder writes a ``float32`` (``0.1`` stays ``0.1``, ``1.0`` is
    ``1``)."""
    f32 = struct.unpack("f", struct.pack("f", value))[0]
    if math.isinf(f32) or math.isnan(f32):
        return float(f32)
    result = float(f32)
    for digits in range(1, 10):
        candidate = float(f"{f32:.{digits}g}")
        if struct.unpack("f", struct.pack("f", candidate))[0] == f32:
            result = candidate
            break
    if result.is_integer() and abs(result) < 1e21:
        return int(result)
    return result


def _to_float(value: Any, path: Path) -> float:
    if isinstance(value, bool):
        raise _bad(path, f"expected a number, got {value!r}")
    if isinstance(value, (int, float)):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise _bad(path, f"expected a number, got {value!r}")


_SIZE_UNITS = {"k": 1 << 10, "m": 1 << 20, "g": 1 << 30, "t": 1 << 40, "p": 1 << 50}


def parse_bytes(value: Any) -> int:
    """A size as v2 reads it (``RAMInBytes``): binary units, ``"1.5g"``, ``"512MiB"``,
    ``"10 kb"``, or a plain number of bytes. Raises ``ValueError``."""
    if isinstance(value, bool):
        raise ValueError(f"invalid size: '{value}'")
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    text = str(value)
    sep = max(text.rfind(c) for c in "0123456789. ")
    if sep < 0:
        raise ValueError(f"invalid size: '{text}'")
    if text[sep] == " ":
        num, suffix = text[:sep], text[sep + 1:]
    else:
        num, suffix = text[: sep + 1], text[sep + 1:]
    try:
        size = float(num)
    except ValueError:
        raise ValueError(f"invalid size: '{text}'") from None
    if size < 0 or not re.fullmatch(r"[0-9.eE+\-]+", num.strip()):
        raise ValueError(f"invalid size: '{text}'")
    if not suffix:
        return int(size)
    low = suffix.lower()
    if len(low) > 3:
        raise ValueError(f"invalid suffix: '{low}'")
    if low[0] == "b":
        if len(low) > 1:
            raise ValueError(f"invalid suffix: '{low}'")
        return int(size)
    mul = _SIZE_UNITS.get(low[0])
    if mul is None or (len(low) == 2 and low[1] != "b") or (len(low) == 3 and low[1:] != "ib"):
        raise ValueError(f"invalid suffix: '{low}'")
    return int(size * mul)


_DURATION_UNITS = {
    "ns": 1,
    "us": 1_000,
    "µs": 1_000,  # U+00B5
    "μs": 1_000,  # U+03BC
    "ms": 1_000_000,
    "s": 1_000_000_000,
    "m": 60_000_000_000,
    "h": 3_600_000_000_000,
    "d": 86_400_000_000_000,
    "w": 604_800_000_000_000,
}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)([a-zµμ]+)")


def parse_duration(value: Any) -> int:
    """A duration in nanoseconds, as v2 reads it (Go's syntax plus ``d`` and ``w``:
    ``"1h30m"``, ``"1.5s"``, ``"2d"``). Raises ``ValueError``."""
    text = str(value)
    orig = text
    sign = 1
    if text[:1] in "+-" and text:
        sign = -1 if text[0] == "-" else 1
        text = text[1:]
    if text == "0":
        return 0
    if not text:
        raise ValueError(f'time: invalid duration "{orig}"')
    total = 0
    pos = 0
    while pos < len(text):
        m = _DURATION_PART.match(text, pos)
        if not m or m.group(1) in ("", "."):
            if m is None and re.fullmatch(r"[0-9.]+", text[pos:]):
                raise ValueError(f'time: missing unit in duration "{orig}"')
            raise ValueError(f'time: invalid duration "{orig}"')
        number, unit = m.group(1), m.group(2)
        scale = _DURATION_UNITS.get(unit)
        if scale is None:
            raise ValueError(f'time: unknown unit "{unit}" in duration "{orig}"')
        whole, _, frac = number.partition(".")
        total += int(whole or "0") * scale
        if frac:
            total += int(float("0." + frac) * scale)
        pos = m.end()
    return sign * total


def format_duration(ns: int) -> str:
    """Go's ``time.Duration.String``: ``90s`` -> ``"1m30s"``, ``1h`` -> ``"1h0m0s"``."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)
    if u < 1_000_000_000:
        for unit, size in (("ns", 1), ("µs", 1_000), ("ms", 1_000_000)):
            if u < size * 1000:
                return sign + _frac(u, size) + unit
    seconds, frac_ns = divmod(u, 1_000_000_000)
    text = str(seconds % 60)
    if frac_ns:
        text += "." + f"{frac_ns:09d}".rstrip("0")
    text += "s"
    minutes = seconds // 60
    if minutes:
        text = f"{minutes % 60}m" + text
        hours = minutes // 60
        if hours:
            text = f"{hours}h" + text
    return sign + text


def _frac(value: int, size: int) -> str:
    whole, rest = divmod(value, size)
    if not rest:
        return str(whole)
    width = len(str(size)) - 1
    return f"{whole}." + f"{rest:0{width}d}".rstrip("0")


def split_command(text: str) -> list[str]:
    """Split a command string the way v2 does (go-shellwords, no expansion).

    Quotes group words; a backslash escapes the next character except inside single
    quotes; parsing stops at an unquoted ``;``, ``&``, ``|``, ``<`` or ``>`` (a
    ``2>`` redirect drops its digits). Raises ``ValueError`` on unbalanced quotes.
    """
    args: list[str] = []
    buf: list[str] = []
    escaped = double = single = back = dollar = False
    got = 0  # 0: no argument yet, 1: plain characters, 2: quoted (may be empty)
    for ch in text:
        if escaped:
            buf.append(ch)
            escaped = False
            got = 1
            continue
        if ch == "\\":
            if single:
                buf.append(ch)
            else:
                escaped = True
            continue
        if ch in " \t\r\n":
            if single or double or back or dollar:
                buf.append(ch)
            elif got:
                args.append("".join(buf))
                buf = []
                got = 0
            continue
        if ch == "`":
            if not single and not double and not dollar:
                back = not back
        elif ch == ")":
            if not single and not double and not back:
                dollar = not dollar
        elif ch == "(":
            if not single and not double and not back:
                if not dollar and buf and buf[-1] == "$":
                    dollar = True
                    buf.append(ch)
                    continue
                raise ValueError("invalid command line string")
        elif ch == '"':
            if not single and not dollar:
                if double:
                    got = 2
                double = not double
                continue
        elif ch == "'":
            if not double and not dollar:
                if single:
                    got = 2
                single = not single
                continue
        elif ch in ";&|<>":
            if not (single or double or back or dollar):
                if ch == ">" and buf and all(c.isdigit() for c in buf):
                    got = 0
                break
        got = 1
        buf.append(ch)
    if got:
        args.append("".join(buf))
    if escaped or single or double or back or dollar:
        raise ValueError("invalid command line string")
    return args


# encoders ------------------------------------------------------------------------------------
# Each encoder takes the value (None when absent) and its path, and returns the JSON
# value or _OMIT. They mirror the Go struct fields and their ``json`` tags.


def _string(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    text = _to_str(value)
    return text if text else _OMIT


def _string_always(value: Any, path: Path) -> Any:
    return "" if value is None else _to_str(value)


def _bool(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    return True if _to_bool(value, path) else _OMIT


def _bool_always(value: Any, path: Path) -> Any:
    return False if value is None else _to_bool(value, path)


def _bool_ptr(value: Any, path: Path) -> Any:
    return _OMIT if value is None else _to_bool(value, path)


def _int(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    number = _to_int(value, path)
    return number if number else _OMIT


def _int_always(value: Any, path: Path) -> Any:
    return 0 if value is None else _to_int(value, path)


def _int_ptr(value: Any, path: Path) -> Any:
    return _OMIT if value is None else _to_int(value, path)


def _float32(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    number = _to_float(value, path)
    return float32(number) if number else _OMIT


def _bytes(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    try:
        size = parse_bytes(value)
    except ValueError as exc:
        raise _bad(path, str(exc)) from None
    return str(size) if size else _OMIT


def _bytes_always(value: Any, path: Path) -> Any:
    if value is None:
        return "0"
    try:
        return str(parse_bytes(value))
    except ValueError as exc:
        raise _bad(path, str(exc)) from None


def _duration_ns(value: Any, path: Path) -> int:
    try:
        return parse_duration(value)
    except ValueError as exc:
        raise _bad(path, str(exc)) from None


def _duration(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    ns = _duration_ns(value, path)
    return format_duration(ns) if ns else _OMIT


def _duration_ptr(value: Any, path: Path) -> Any:
    return _OMIT if value is None else format_duration(_duration_ns(value, path))


def _command(value: Any, path: Path) -> Any:
    """``ShellCommand``: never omitted (``null`` when unset), strings split."""
    if value is None:
        return None
    if isinstance(value, str):
        try:
            return split_command(value)
        except ValueError as exc:
            raise _bad(path, str(exc)) from None
    if isinstance(value, list):
        return [_to_str(v) for v in value]
    return [_to_str(value)]


def _env_files(value: Any, path: Path) -> Any:
    return [dict(v) for v in value] if isinstance(value, list) and value else _OMIT


def _string_list(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    if isinstance(value, (str, int, float)) and not isinstance(value, bool):
        value = [value]
    if not isinstance(value, list) or not value:
        return _OMIT
    return [_to_str(v) for v in value]


def _mapping_pairs(value: Any) -> list[tuple[str, Any]]:
    if isinstance(value, dict):
        return [(str(k), v) for k, v in value.items()]
    if isinstance(value, list):
        pairs: list[tuple[str, Any]] = []
        for item in value:
            key, sep, val = _to_str(item).partition("=")
            pairs.append((key, val if sep else None))
        return pairs
    return []


def _mapping(value: Any, path: Path) -> Any:
    """``map[string]string``: sorted, values as strings (``None`` -> ``""``)."""
    pairs = _mapping_pairs(value)
    if not pairs:
        return _OMIT
    return {k: _to_str(v) for k, v in sorted(pairs)}


def _mapping_with_equals(value: Any, path: Path) -> Any:
    """``map[string]*string``: sorted, values as strings, ``None`` kept."""
    pairs = _mapping_pairs(value)
    if not pairs:
        return _OMIT
    return {k: env_value(v) for k, v in sorted(pairs)}


def _multi_options(value: Any, path: Path) -> Any:
    if not isinstance(value, dict) or not value:
        return _OMIT
    return {
        str(k): [_to_str(x) for x in v] if isinstance(v, list) else [_to_str(v)]
        for k, v in sorted(value.items())
    }


def _hosts(value: Any, path: Path) -> Any:
    entries: list[str] = []
    if isinstance(value, dict):
        for host, ips in value.items():
            for ip in ips if isinstance(ips, list) else [ips]:
                entries.append(f"{host}={_to_str(ip)}")
    elif isinstance(value, list):
        for item in value:
            text = _to_str(item)
            if "=" not in text and ":" in text:
                host, _, ip = text.partition(":")
                text = f"{host}={ip}"
            entries.append(text)
    if not entries:
        return _OMIT
    return sorted(entries)


def _file_mode(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    if isinstance(value, str):
        try:
            mode = int(value, 8)
        except ValueError:
            raise _bad(path, f'strconv.ParseInt: parsing "{value}": invalid syntax') from None
    else:
        mode = _to_int(value, path)
    return f"0{mode:o}"


def _device_count(value: Any, path: Path) -> Any:
    if value is None:
        return _OMIT
    if isinstance(value, str) and value.strip().lower() == "all":
        return -1
    count = _to_int(value, path)
    return count if count else _OMIT


def _ulimit(value: Any, path: Path) -> Any:
    if isinstance(value, dict):
        out: dict[str, Any] = {}
        for key in ("soft", "hard"):
            number = _to_int(value[key], (*path, key)) if value.get(key) is not None else 0
            if number:
                out[key] = number
        return out
    if value is None:
        return {}
    single = _to_int(value, path)
    return single if single else {}


def _ssh(value: Any, path: Path) -> Any:
    """``id`` alone, or ``id=path``. (v2 2.40 fails to encode a key with a path.)"""
    if isinstance(value, dict):
        items = [k if v is None else f"{k}={v}" for k, v in value.items()]
    elif isinstance(value, list):
        items = [_to_str(v) for v in value]
    elif isinstance(value, str):
        items = [value]
    else:
        return _OMIT
    return items or _OMIT


def _port(value: Any, path: Path) -> Any:
    if isinstance(value, str):
        try:
            ports = parse_port_spec(value)
        except ValueError:
            # Only reachable with --no-interpolate (canonical is lenient then):
            # v2 prints such a port as written.
            return value
        return ports[0] if ports else _OMIT
    if isinstance(value, int) and not isinstance(value, bool):
        value = {"target": value}
    if not isinstance(value, dict):
        return value
    defaults = dict(value)
    if not defaults.get("protocol"):
        defaults["protocol"] = "tcp"
    if not defaults.get("mode"):
        defaults["mode"] = "ingress"
    return _PORT_STRUCT(defaults, path)


def _service_volume(value: Any, path: Path) -> Any:
    if isinstance(value, dict) and value.get("target"):
        value = dict(value)
        value["target"] = clean_path(_to_str(value["target"]))
    return _SERVICE_VOLUME_STRUCT(value, path)


_PRINTED_WHEN_ABSENT: set[Encoder] = set()


_PRINTED_WHEN_ABSENT.update(
    {_command, _string_always, _bool_always, _int_always, _bytes_always}
)


def _struct(fields: list[tuple[str, Encoder]], *, pointer: bool = True) -> Encoder:
    """A Go struct: fields in order, unknown keys and ``x-`` extensions dropped.

    A pointer struct (``*T``) is left out when unset; a value struct is always
    written, ``{}`` when unset.
    """

    # Only these fields can print something for an absent value; skipping the others
    # when absent keeps a 1,000-service project fast.
    on_absent = frozenset(key for key, enc in fields if enc in _PRINTED_WHEN_ABSENT)

    def encode(value: Any, path: Path) -> Any:
        if value is None:
            if pointer:
                return _OMIT
            value = {}
        if not isinstance(value, dict):
            return value
        out: dict[str, Any] = {}
        get = value.get
        for key, enc in fields:
            item = get(key)
            if item is None and key not in on_absent:
                continue
            encoded = enc(item, (*path, key))
            if encoded is not _OMIT:
                out[key] = encoded
        return out

    if not pointer:
        _PRINTED_WHEN_ABSENT.add(encode)
    return encode


def _nullable(enc: Encoder) -> Encoder:
    """A ``*T`` inside a map: ``null`` stays ``null``."""

    def encode(value: Any, path: Path) -> Any:
        if value is None:
            return None
        encoded = enc(value, path)
        return None if encoded is _OMIT else encoded

    return encode


def _list(enc: Encoder) -> Encoder:
    def encode(value: Any, path: Path) -> Any:
        if not isinstance(value, list) or not value:
            return _OMIT
        out = []
        for i, item in enumerate(value):
            encoded = enc(item, (*path, i))
            out.append({} if encoded is _OMIT else encoded)
        return out

    return encode


def _map(enc: Encoder) -> Encoder:
    def encode(value: Any, path: Path) -> Any:
        if not isinstance(value, dict) or not value:
            return _OMIT
        out: dict[str, Any] = {}
        for key in sorted(value, key=str):
            encoded = enc(value[key], (*path, key))
            out[str(key)] = {} if encoded is _OMIT else encoded
        return out

    return encode


_S, _B, _I = _string, _bool, _int

_HOOK = _struct(
    [
        ("command", _command),
        ("user", _S),
        ("privileged", _B),
        ("working_dir", _S),
        ("environment", _mapping_with_equals),
    ],
    pointer=False,
)

_FILE_REFERENCE = _struct(
    [("source", _S), ("target", _S), ("uid", _S), ("gid", _S), ("mode", _file_mode)]
)

_DEVICE_REQUEST_STRUCT = _struct(
    [
        ("capabilities", _string_list),
        ("driver", _S),
        ("count", _device_count),
        ("device_ids", _string_list),
        ("options", _mapping),
    ]
)


def _device_request(value: Any, path: Path) -> Any:
    # Neither a count nor device ids: v2 asks for all devices.
    if isinstance(value, dict) and value.get("count") is None and not value.get("device_ids"):
        value = {**value, "count": "all"}
    return _DEVICE_REQUEST_STRUCT(value, path)


_DEVICE_REQUEST = _device_request

_WEIGHT_DEVICE = _struct([("Path", _string_always), ("Weight", _int_always)])
_THROTTLE_DEVICE = _struct([("Path", _string_always), ("Rate", _bytes_always)])


def _capitalised(enc: Encoder) -> Encoder:
    """blkio devices: written with the Go field names (``Path``), read as ``path``."""

    def encode(value: Any, path: Path) -> Any:
        if isinstance(value, dict):
            value = {k[:1].upper() + k[1:]: v for k, v in value.items()}
        return enc(value, path)

    return encode


_UPDATE_CONFIG = _struct(
    [
        ("parallelism", _int_ptr),
        ("delay", _duration),
        ("failure_action", _S),
        ("monitor", _duration),
        ("max_failure_ratio", _float32),
        ("order", _S),
    ]
)

_RESOURCE = _struct(
    [
        ("cpus", _float32),
        ("memory", _bytes),
        ("pids", _I),
        ("devices", _list(_DEVICE_REQUEST)),
        (
            "generic_resources",
            _list(
                _struct(
                    [
                        (
                            "discrete_resource_spec",
                            _struct([("kind", _string_always), ("value", _int_always)]),
                        )
                    ]
                )
            ),
        ),
    ]
)

_DEPLOY = _struct(
    [
        ("mode", _S),
        ("replicas", _int_ptr),
        ("labels", _mapping),
        ("update_config", _UPDATE_CONFIG),
        ("rollback_config", _UPDATE_CONFIG),
        (
            "resources",
            _struct([("limits", _RESOURCE), ("reservations", _RESOURCE)], pointer=False),
        ),
        (
            "restart_policy",
            _struct(
                [
                    ("condition", _S),
                    ("delay", _duration_ptr),
                    ("max_attempts", _int_ptr),
                    ("window", _duration_ptr),
                ]
            ),
        ),
        (
            "placement",
            _struct(
                [
                    ("constraints", _string_list),
                    ("preferences", _list(_struct([("spread", _S)]))),
                    ("max_replicas_per_node", _I),
                ],
                pointer=False,
            ),
        ),
        ("endpoint_mode", _S),
    ]
)

_BUILD = _struct(
    [
        ("context", _S),
        ("dockerfile", _S),
        ("dockerfile_inline", _S),
        ("entitlements", _string_list),
        ("args", _mapping_with_equals),
        ("provenance", _S),
        ("sbom", _S),
        ("ssh", _ssh),
        ("labels", _mapping),
        ("cache_from", _string_list),
        ("cache_to", _string_list),
        ("no_cache", _B),
        ("additional_contexts", _mapping),
        ("pull", _B),
        ("extra_hosts", _hosts),
        ("isolation", _S),
        ("network", _S),
        ("target", _S),
        ("secrets", _list(_FILE_REFERENCE)),
        ("shm_size", _bytes),
        ("tags", _string_list),
        ("ulimits", _map(_ulimit)),
        ("platforms", _string_list),
        ("privileged", _B),
    ]
)

_TRIGGER = _struct(
    [
        ("path", _string_always),
        ("action", _string_always),
        ("target", _S),
        ("exec", _HOOK),
        ("ignore", _string_list),
        ("include", _string_list),
        ("initial_sync", _B),
    ]
)

_PORT_STRUCT = _struct(
    [
        ("name", _S),
        ("mode", _S),
        ("host_ip", _S),
        ("target", _I),
        ("published", _S),
        ("protocol", _S),
        ("app_protocol", _S),
    ]
)

_SERVICE_VOLUME_STRUCT = _struct(
    [
        ("type", _S),
        ("source", _S),
        ("target", _S),
        ("read_only", _B),
        ("consistency", _S),
        (
            "bind",
            _struct(
                [
                    ("selinux", _S),
                    ("propagation", _S),
                    ("create_host_path", _B),
                    ("recursive", _S),
                ]
            ),
        ),
        ("volume", _struct([("labels", _mapping), ("nocopy", _B), ("subpath", _S)])),
        ("tmpfs", _struct([("size", _bytes), ("mode", _I)])),
        ("image", _struct([("subpath", _S)])),
    ]
)

_SERVICE_NETWORK = _struct(
    [
        ("aliases", _string_list),
        ("driver_opts", _mapping),
        ("gw_priority", _I),
        ("interface_name", _S),
        ("ipv4_address", _S),
        ("ipv6_address", _S),
        ("link_local_ips", _string_list),
        ("mac_address", _S),
        ("priority", _I),
    ]
)


def _healthcheck_test(value: Any, path: Path) -> Any:
    if isinstance(value, str):
        return ["CMD-SHELL", value]
    return _string_list(value, path)


_HEALTHCHECK = _struct(
    [
        ("test", _healthcheck_test),
        ("timeout", _duration_ptr),
        ("interval", _duration_ptr),
        ("retries", _int_ptr),
        ("start_period", _duration_ptr),
        ("start_interval", _duration_ptr),
        ("disable", _B),
    ]
)

_SERVICE = _struct(
    [
        ("profiles", _string_list),
        ("annotations", _mapping),
        ("attach", _bool_ptr),
        ("build", _BUILD),
        ("develop", _struct([("watch", _list(_TRIGGER))])),
        (
            "blkio_config",
            _struct(
                [
                    ("weight", _I),
                    ("weight_device", _list(_capitalised(_WEIGHT_DEVICE))),
                    ("device_read_bps", _list(_capitalised(_THROTTLE_DEVICE))),
                    ("device_read_iops", _list(_capitalised(_THROTTLE_DEVICE))),
                    ("device_write_bps", _list(_capitalised(_THROTTLE_DEVICE))),
                    ("device_write_iops", _list(_capitalised(_THROTTLE_DEVICE))),
                ]
            ),
        ),
        ("cap_add", _string_list),
        ("cap_drop", _string_list),
        ("cgroup_parent", _S),
        ("cgroup", _S),
        ("cpu_count", _I),
        ("cpu_percent", _float32),
        ("cpu_period", _I),
        ("cpu_quota", _I),
        ("cpu_rt_period", _I),
        ("cpu_rt_runtime", _I),
        ("cpus", _float32),
        ("cpuset", _S),
        ("cpu_shares", _I),
        ("command", _command),
        ("configs", _list(_FILE_REFERENCE)),
        ("container_name", _S),
        ("credential_spec", _struct([("config", _S), ("file", _S), ("registry", _S)])),
        (
            "depends_on",
            _map(
                _struct(
                    [("condition", _S), ("restart", _B), ("required", _bool_always)],
                    pointer=False,
                )
            ),
        ),
        ("deploy", _DEPLOY),
        ("device_cgroup_rules", _string_list),
        ("devices", _list(_struct([("source", _S), ("target", _S), ("permissions", _S)]))),
        ("dns", _string_list),
        ("dns_opt", _string_list),
        ("dns_search", _string_list),
        ("dockerfile", _S),
        ("domainname", _S),
        ("entrypoint", _command),
        ("provider", _struct([("type", _S), ("options", _multi_options)])),
        ("environment", _mapping_with_equals),
        # Only present when env files were left unresolved (the config-hash view).
        ("env_file", _env_files),
        ("expose", _string_list),
        ("extends", _struct([("file", _S), ("service", _S)])),
        ("external_links", _string_list),
        ("extra_hosts", _hosts),
        ("group_add", _string_list),
        ("gpus", _list(_DEVICE_REQUEST)),
        ("hostname", _S),
        ("healthcheck", _HEALTHCHECK),
        ("image", _S),
        ("init", _bool_ptr),
        ("ipc", _S),
        ("isolation", _S),
        ("labels", _mapping),
        ("links", _string_list),
        ("logging", _struct([("driver", _S), ("options", _mapping)])),
        ("log_driver", _S),
        ("log_opt", _mapping),
        ("mem_limit", _bytes),
        ("mem_reservation", _bytes),
        ("memswap_limit", _bytes),
        ("mem_swappiness", _bytes),
        ("mac_address", _S),
        (
            "models",
            _map(_nullable(_struct([("endpoint_var", _S), ("model_var", _S)]))),
        ),
        ("net", _S),
        ("network_mode", _S),
        ("networks", _map(_nullable(_SERVICE_NETWORK))),
        ("oom_kill_disable", _B),
        ("oom_score_adj", _I),
        ("pid", _S),
        ("pids_limit", _I),
        ("platform", _S),
        ("ports", _list(_port)),
        ("privileged", _B),
        ("pull_policy", _S),
        ("read_only", _B),
        ("restart", _S),
        ("runtime", _S),
        ("scale", _int_ptr),
        ("secrets", _list(_FILE_REFERENCE)),
        ("security_opt", _string_list),
        ("shm_size", _bytes),
        ("stdin_open", _B),
        ("stop_grace_period", _duration_ptr),
        ("stop_signal", _S),
        ("storage_opt", _mapping),
        ("sysctls", _mapping),
        ("tmpfs", _string_list),
        ("tty", _B),
        ("ulimits", _map(_ulimit)),
        ("use_api_socket", _B),
        ("user", _S),
        ("userns_mode", _S),
        ("uts", _S),
        ("volume_driver", _S),
        ("volumes", _list(_service_volume)),
        ("volumes_from", _string_list),
        ("working_dir", _S),
        ("post_start", _list(_HOOK)),
        ("pre_stop", _list(_HOOK)),
    ],
    pointer=False,
)

_NETWORK = _struct(
    [
        ("name", _S),
        ("driver", _S),
        ("driver_opts", _mapping),
        (
            "ipam",
            _struct(
                [
                    ("driver", _S),
                    (
                        "config",
                        _list(
                            _struct(
                                [
                                    ("subnet", _S),
                                    ("gateway", _S),
                                    ("ip_range", _S),
                                    ("aux_addresses", _mapping),
                                ]
                            )
                        ),
                    ),
                ],
                pointer=False,
            ),
        ),
        ("external", _B),
        ("internal", _B),
        ("attachable", _B),
        ("labels", _mapping),
        ("enable_ipv4", _bool_ptr),
        ("enable_ipv6", _bool_ptr),
    ],
    pointer=False,
)

_VOLUME = _struct(
    [
        ("name", _S),
        ("driver", _S),
        ("driver_opts", _mapping),
        ("external", _B),
        ("labels", _mapping),
    ],
    pointer=False,
)

_FILE_OBJECT_FIELDS: list[tuple[str, Encoder]] = [
    ("name", _S),
    ("file", _S),
    ("environment", _S),
    ("content", _S),
    ("external", _B),
    ("labels", _mapping),
    ("driver", _S),
    ("driver_opts", _mapping),
    ("template_driver", _S),
]
_FILE_OBJECT = _struct(_FILE_OBJECT_FIELDS, pointer=False)


def _secret(value: Any, path: Path) -> Any:
    # v2 never prints a secret's content.
    out = _FILE_OBJECT(value, path)
    if isinstance(out, dict):
        out.pop("content", None)
    return out


def _config(value: Any, path: Path) -> Any:
    # A config read from the environment prints where it came from, not the value.
    out = _FILE_OBJECT(value, path)
    if isinstance(out, dict) and out.get("environment"):
        out.pop("content", None)
    return out


_TOP_LEVEL: dict[str, Encoder] = {
    "networks": _map(_NETWORK),
    "volumes": _map(_VOLUME),
    "secrets": _map(_secret),
    "configs": _map(_config),
}

