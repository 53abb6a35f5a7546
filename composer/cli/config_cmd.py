"""``composer config``: print the normalised project."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="parse, resolve and render the compose file(s)")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--format", choices=("yaml", "json"), default="yaml")
    p.add_argument("-q", "--quiet", action="store_true", help="only validate")
    p.add_argument("--services", dest="list_services", action="store_true")
    p.add_argument("--volumes", dest="list_volumes", action="store_true")
    p.add_argument("--networks", dest="list_networks", action="store_true")
    p.add_argument("--profiles", dest="list_profiles", action="store_true")
    p.add_argument("--images", dest="list_images", action="store_true")
    p.add_argument("--hash", dest="hash", metavar="SERVICES",
                   help="print the config hash of services ('*' for all)")
    p.add_argument("--no-interpolate", action="store_true")
    p.add_argument("--no-normalize", action="store_true")
    p.add_argument("-o", "--output", metavar="FILE")
    p.set_defaults(func=run)


def render(data: dict[str, Any], fmt: str, *, interpolated: bool = True) -> str:
    """The project as JSON or YAML, as v2 prints it (``$`` doubled when interpolated).

    Not interpolated, ``data`` is the untyped model (``LoadOptions(model=True)``),
    printed as v2 prints a Go map: every key sorted, nothing left out."""
    from composer.config import yamlout

    if fmt == "json":
        return yamlout.dump_json(data, escape=interpolated)
    if interpolated:
        return yamlout.dump_yaml(yamlout.escape_dollars(data))
    return yamlout.dump_yaml(data, model=True)


def _prints_model(args: argparse.Namespace) -> bool:
    """v2 loads the untyped model for ``--no-interpolate`` output (and ``-q``), not for
    the listings."""
    listing = (args.list_services or args.list_volumes or args.list_networks
               or args.list_profiles or args.list_images or args.hash is not None)
    return bool(args.no_interpolate) and not listing


def run(args: argparse.Namespace) -> int:
    import gc

    # A one-shot command: the project stays alive until exit, so a collection
    # while rendering it would only walk it for nothing (see load_project).
    gc.disable()
    import dataclasses

    from composer.cli.options import load_options
    from composer.config.loader import load_project

    options = load_options(args, services=args.services, interpolate=not args.no_interpolate,
                           normalize=not args.no_normalize)
    if _prints_model(args):
        options = dataclasses.replace(options, model=True)
    project = load_project(options)
    data = project.data
    out: list[str] = []
    # The loader already kept only the named services and their dependencies.
    services: dict[str, Any] = data.get("services") or {}
    if args.quiet:
        return 0
    if args.list_services:
        out = list(services)
    elif args.list_volumes:
        out = list(data.get("volumes") or {})
    elif args.list_networks:
        out = list(data.get("networks") or {})
    elif args.list_profiles:
        from composer.config.loader import LoadOptions  # noqa: F401

        out = sorted({p for s in (project.all_services or {}).values()
                      for p in s.get("profiles") or []})
    elif args.list_images:
        from composer.model.naming import service_image

        out = [service_image(project.name, name, svc) for name, svc in services.items()]
    elif args.hash is not None:
        from composer.model.hash import service_config_hash

        wanted = list(services) if args.hash == "*" else [
            s for s in args.hash.split(",") if s]
        out = [f"{s} {service_config_hash(project.hash_view(s))}" for s in wanted
               if s in services]
    else:
        if args.format == "yaml" and not options.model:  # the model has them already
            data = _with_service_extensions(data, project.declared)
        text = render(data, args.format, interpolated=not args.no_interpolate)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        return 0
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


def _with_service_extensions(data: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """v2's YAML keeps a service's ``x-`` keys (its JSON leaves them out)."""
    services = data.get("services")
    source = declared.get("services")
    if not isinstance(services, dict) or not isinstance(source, dict):
        return data
    out_services = {}
    for name, svc in services.items():
        ext = {k: v for k, v in (source.get(name) or {}).items()
               if isinstance(k, str) and k.startswith("x-")}
        out_services[name] = {**svc, **ext} if ext else svc
    return {**data, "services": out_services}
