"""Profiles: services that only exist when their profile is enabled; service selection.

As Docker Compose v2 (2.40.3), in its order:

1. a service is enabled when it declares no ``profiles``, or one of them is
   active, or ``"*"`` is active;
2. an enabled service may not need a disabled one: a required ``depends_on``,
   ``links``, ``volumes_from`` or ``network_mode``/``ipc``/``pid: service:x`` on a
   disabled service is an error worded as v2's (``service "web" depends on
   undefined service "db"``); a ``required: false`` dependency is kept as is;
3. a service named on the command line enables itself by activating its
   profiles (so other services of those profiles come along); its dependencies
   are not enabled for it: a required one still disabled gives v2's
   ``no such service: helper``;
4. :func:`select_services` then keeps only the named services (shell patterns,
   as v2) and their dependencies, dropping dependencies on the others.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Callable, Collection, Iterator, Mapping
from typing import Any

from composer.errors import Mark, ProfileError

Locator = Callable[[tuple[str | int, ...]], "Mark | None"]


def apply_profiles(
    data: dict[str, Any],
    profiles: Collection[str],
    services: Collection[str] = (),
    *,
    locate: Locator | None = None,
) -> dict[str, Any]:
    """Drop services that are not enabled.

    A service without ``profiles`` is always enabled; ``"*"`` enables all; a
    service named in ``services`` enables itself (its profiles are activated). An
    enabled service depending (required) on a disabled one raises
    :class:`composer.errors.ProfileError`; so does a named service that does not
    exist or needs a disabled one. ``locate`` gives errors a mark. The services
    are not restricted to ``services`` here: see :func:`select_services`.
    """
    all_services = data.get("services")
    if not isinstance(all_services, dict):
        return data
    active = set(profiles)
    enabled = {n for n, s in all_services.items() if _has_profile(s, active)}
    _check_dependencies(all_services, enabled, locate)

    if services:
        for name in services:
            if name in all_services and name not in enabled:
                active.update(_profiles_of(all_services[name]))
        enabled = {n for n, s in all_services.items() if _has_profile(s, active)}
        _closure({n: all_services[n] for n in all_services if n in enabled}, services)

    if len(enabled) == len(all_services):
        return data
    out = dict(data)
    out["services"] = {n: s for n, s in all_services.items() if n in enabled}
    return out


def select_services(data: dict[str, Any], services: Collection[str]) -> dict[str, Any]:
    """Keep only the services matching ``services`` (shell patterns) and, transitively,
    their dependencies; dependencies on services left out are dropped (v2's
    ``WithSelectedServices``). No names: ``data`` unchanged. A name matching no
    service, or a required dependency that is not there, raises ``ProfileError``
    (``no such service: x``)."""
    if not services:
        return data
    enabled = data.get("services")
    if not isinstance(enabled, dict):
        enabled = {}
    selected = _closure(enabled, services)
    out_services: dict[str, Any] = {}
    for name, svc in enabled.items():
        if name not in selected:
            continue
        deps = svc.get("depends_on") if isinstance(svc, dict) else None
        if isinstance(deps, dict) and any(d not in selected for d in deps):
            svc = dict(svc)
            svc["depends_on"] = {d: v for d, v in deps.items() if d in selected}
        out_services[name] = svc
    out = dict(data)
    out["services"] = out_services
    return out


def _closure(enabled: Mapping[str, Any], names: Collection[str]) -> set[str]:
    """Names matched by ``names`` plus their dependencies, as v2's ``withServices``."""
    seen: set[str] = set()

    def visit(patterns: Collection[str], required: Mapping[str, bool] | None) -> None:
        for pattern in patterns:
            matched = [n for n in enabled if fnmatch.fnmatchcase(n, pattern)]
            if not matched and (required is None or required.get(pattern, True)):
                raise ProfileError(f"no such service: {pattern}")
            for name in matched:
                if name in seen:
                    continue
                seen.add(name)
                deps: dict[str, bool] = {}
                for dep, req, _ in _dependencies(name, enabled[name]):
                    deps[dep] = deps.get(dep, False) or req
                if deps:
                    visit(list(deps), deps)

    visit(list(names), None)
    return seen


def _check_dependencies(
    all_services: Mapping[str, Any], enabled: set[str], locate: Locator | None
) -> None:
    for name, svc in all_services.items():
        if name not in enabled:
            continue
        for dep, required, path in _dependencies(name, svc):
            if dep in all_services and dep not in enabled and required:
                raise ProfileError(
                    f'service "{name}" depends on undefined service "{dep}"',
                    mark=locate(path) if locate is not None else None,
                    path=path,
                )


def _dependencies(name: str, svc: Any) -> Iterator[tuple[str, bool, tuple[str | int, ...]]]:
    """(service, required, key path) for each service ``svc`` needs, in written order."""
    if not isinstance(svc, dict):
        return
    base: tuple[str | int, ...] = ("services", name)
    for key, value in svc.items():
        if key == "depends_on":
            if isinstance(value, dict):
                for dep, spec in value.items():
                    required = not isinstance(spec, dict) or spec.get("required", True) is not False
                    yield str(dep), required, (*base, key, dep)
            elif isinstance(value, list):
                for i, dep in enumerate(value):
                    yield str(dep), True, (*base, key, i)
        elif key in ("links", "volumes_from") and isinstance(value, list):
            for i, item in enumerate(value):
                if not isinstance(item, str) or item.startswith("container:"):
                    continue
                yield item.split(":", 1)[0], True, (*base, key, i)
        elif key in ("network_mode", "ipc", "pid") and isinstance(value, str):
            if value.startswith("service:"):
                yield value[len("service:"):], True, (*base, key)


def _profiles_of(svc: Any) -> list[str]:
    profiles = svc.get("profiles") if isinstance(svc, dict) else None
    return [str(p) for p in profiles] if isinstance(profiles, list) else []


def _has_profile(svc: Any, active: Collection[str]) -> bool:
    own = _profiles_of(svc)
    if not own:
        return True
    return "*" in active or any(p in active for p in own)
