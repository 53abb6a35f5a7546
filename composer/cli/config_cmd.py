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
    """The project as JSON or YAML, as v2 prints it (``$`` doubled when interpolated)."""
    from composer.config import yamlout

    if fmt == "json":
        return yamlout.dump_json(data, escape=interpolated)
    if interpolated:
        data = yamlout.escape_dollars(data)
    return yamlout.dump_yaml(data)


def run(args: argparse.Namespace) -> int:
    from composer.cli.options import load_options
    from composer.config.loader import load_project

    project = load_project(
        load_options(args, services=args.services, interpolate=not args.no_interpolate,
                     normalize=not args.no_normalize)
    )
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
        text = render(data, args.format, interpolated=not args.no_interpolate)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        return 0
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0
