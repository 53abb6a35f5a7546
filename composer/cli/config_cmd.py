"""``composer config``: print the normalised project."""

from __future__ import annotations

import argparse
import sys
from typing import Any


def register(sub: Any) -> None:
    p = sub.add_parser("config", help="parse, resolve and render the compose file(s)")
    p.add_argument("services", nargs="*", metavar="SERVICE")
    # Free text, as v2: the project prints as yaml or json, --variables also as a
    # table (its default); anything else is refused once the project is loaded.
    p.add_argument("--format", metavar="FORMAT",
                   help="yaml (default) or json; with --variables: table (default), "
                        "yaml or json")
    p.add_argument("-q", "--quiet", action="store_true", help="only validate")
    p.add_argument("--services", dest="list_services", action="store_true")
    p.add_argument("--volumes", dest="list_volumes", action="store_true")
    p.add_argument("--networks", dest="list_networks", action="store_true")
    p.add_argument("--models", dest="list_models", action="store_true",
                   help="print the model names, one per line")
    p.add_argument("--profiles", dest="list_profiles", action="store_true")
    p.add_argument("--images", dest="list_images", action="store_true")
    p.add_argument("--hash", dest="hash", metavar="SERVICES",
                   help="print the config hash of services ('*' for all)")
    p.add_argument("--variables", dest="list_variables", action="store_true",
                   help="print the model's variables and their default values")
    p.add_argument("--environment", dest="list_environment", action="store_true",
                   help="print the environment used for interpolation")
    p.add_argument("--no-interpolate", action="store_true")
    p.add_argument("--no-normalize", action="store_true")
    p.add_argument("--no-path-resolution", action="store_true",
                   help="don't resolve file paths")
    # v2.40.3 reads env_file entries while loading either way: accepted, no effect.
    p.add_argument("--no-env-resolution", action="store_true",
                   help="don't resolve service env files (no effect, as in v2.40.3)")
    p.add_argument("--no-consistency", action="store_true",
                   help="don't check model consistency (undefined networks, volumes, ...)")
    p.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS,
                   help="execute command in dry run mode (config changes nothing anyway)")
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
        return yamlout.dump_yaml(data, escape=True)
    return yamlout.dump_yaml(data, model=True)


def _prints_model(args: argparse.Namespace) -> bool:
    """v2 loads the untyped model for ``--no-interpolate`` output (and ``-q``), not for
    the listings."""
    listing = (args.list_services or args.list_volumes or args.list_networks
               or args.list_models or args.list_profiles or args.list_images
               or args.hash is not None or args.list_environment)
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
    options = dataclasses.replace(options, resolve_paths=not args.no_path_resolution,
                                  consistency=not args.no_consistency)
    _check_format(args)
    if _listing_before_variables(args):
        # v2 lists without reading env files (a missing one is no error there).
        options = dataclasses.replace(options, resolve_env_files=False)
    elif args.list_variables:
        # As v2: variables are read from the model, never interpolated.
        options = dataclasses.replace(options, model=True, interpolate=False)
        return _print_variables(load_project(options).data, args.format, quiet=args.quiet)
    if _prints_model(args):
        options = dataclasses.replace(options, model=True)
    project = load_project(options)
    data = project.data
    out: list[str] = []
    # The loader already kept only the named services and their dependencies.
    services: dict[str, Any] = data.get("services") or {}
    # v2 checks its flags in this order; the listings print even with -q (they
    # write to the terminal v2 held before -q redirected its standard output).
    if args.list_services:
        out = list(services)
    elif args.list_volumes:
        out = list(data.get("volumes") or {})
    elif args.list_networks:
        out = list(data.get("networks") or {})
    elif args.list_models:
        out = _models(data, project.declared)
    elif args.hash is not None:
        from composer.model.hash import service_config_hash

        wanted = list(services) if args.hash == "*" else [
            s for s in args.hash.split(",") if s]
        out = [f"{s} {service_config_hash(project.hash_view(s))}" for s in wanted
               if s in services]
    elif args.list_profiles:
        out = sorted({p for s in (project.all_services or {}).values()
                      for p in s.get("profiles") or []})
    elif args.list_images:
        from composer.model.naming import service_image

        out = [service_image(project.name, name, svc) for name, svc in services.items()]
    elif args.list_environment:
        if args.quiet:
            return 0
        # Sorted as whole ``NAME=value`` lines, as v2 sorts them.
        out = sorted(f"{k}={v}" for k, v in project.environment.items())
    else:
        fmt = args.format or "yaml"
        if not options.model and not args.no_consistency:
            _check_container_names(project)
        if args.quiet:
            return 0
        if fmt == "yaml" and not options.model:  # the model has them already
            data = _with_service_extensions(data, project.declared)
        text = render(data, fmt, interpolated=not args.no_interpolate)
        if args.output:
            with open(args.output, "w", encoding="utf-8") as fh:
                fh.write(text)
        else:
            sys.stdout.write(text)
        return 0
    sys.stdout.write("".join(line + "\n" for line in out))
    return 0


def _check_format(args: argparse.Namespace) -> None:
    """v2's messages for a ``--format`` it cannot print (it checks once loaded and
    exits 1; a usage error here, exit 2, before anything is read)."""
    from composer.errors import UsageError

    fmt = args.format
    if fmt is None or _listing_before_variables(args):
        return
    if args.list_variables:
        if fmt != "yaml" and fmt.lower() not in (*_TABLE_FORMATS, *_JSON_FORMATS):
            raise UsageError(f'format value "{fmt}" could not be parsed: parsing failed')
    elif not args.list_environment and fmt not in ("yaml", "json"):
        raise UsageError(f'unsupported format "{fmt}"')


def _listing_before_variables(args: argparse.Namespace) -> bool:
    return bool(args.list_services or args.list_volumes or args.list_networks
                or args.list_models or args.hash is not None or args.list_profiles
                or args.list_images)


def _models(data: dict[str, Any], declared: dict[str, Any]) -> list[str]:
    """The ``model`` of each top-level model a service uses (v2 drops the others)."""
    used = {name for svc in (data.get("services") or {}).values()
            for name in (svc.get("models") or {})}
    out = []
    for name, model in (declared.get("models") or {}).items():
        if name in used and isinstance(model, dict):
            out.append(str(model.get("model") or ""))
    return out


def _check_container_names(project: Any) -> None:
    """Two services with one ``container_name`` (v2 checks it before printing)."""
    from composer.errors import ValidationError

    seen: dict[str, str] = {}
    for name, svc in (project.data.get("services") or {}).items():
        cname = svc.get("container_name")
        if not cname:
            continue
        if cname in seen:
            path = ("services", name, "container_name")
            raise ValidationError(
                f'container name "{cname}" is already in use by service {seen[cname]}',
                path=path, mark=project.locate(path),
            )
        seen[cname] = name


_TABLE_FORMATS = ("", "table", "pretty")
_JSON_FORMATS = ("json", "{{json.}}")


def _print_variables(model: dict[str, Any], fmt: str | None, *, quiet: bool) -> int:
    """``config --variables``: a table (default), ``yaml`` or ``json``, as v2 prints them.

    v2 walks Go maps, so its table rows come in random order: ours are sorted."""
    from composer.config.variables import extract_variables
    from composer.errors import UsageError

    variables = extract_variables(model)
    ordered = sorted(variables.values(), key=lambda v: v.name)
    fmt = fmt or ""
    if fmt == "yaml":
        if quiet:  # v2 prints this one through the standard output -q closed
            return 0
        from functools import cmp_to_key

        from composer.config import yamlout

        yaml_order = cmp_to_key(yamlout.yaml_v3_compare)
        doc = {v.name: {"name": v.name, "defaultvalue": v.default,
                        "presencevalue": v.presence, "required": v.required}
               for v in sorted(ordered, key=lambda v: yaml_order(v.name))}
        # A ``${`` that opens nothing valid counts as a variable named "": yaml.v3
        # writes that key plainly (PyYAML would make it a complex ``? ""`` key).
        empty = doc.pop("", None)
        text = yamlout.dump_yaml(doc, model=True, indent=4) if doc else ""
        if empty is not None:
            text = ('"":\n    name: ""\n    defaultvalue: ""\n    presencevalue: ""\n'
                    "    required: false\n") + text
        sys.stdout.write(text or "{}\n")
        return 0
    lowered = fmt.lower()
    if lowered in _TABLE_FORMATS:
        rows: list[tuple[str, ...]] = [("NAME", "REQUIRED", "DEFAULT VALUE", "ALTERNATE VALUE")]
        rows += [(v.name, "true" if v.required else "false", v.default, v.presence)
                 for v in ordered]
        sys.stdout.write(_tabwriter(rows))
        return 0
    if lowered in _JSON_FORMATS:
        doc = {v.name: {"Name": v.name, "DefaultValue": v.default,
                        "PresenceValue": v.presence, "Required": v.required}
               for v in ordered}
        sys.stdout.write(_go_json(doc) + "\n")
        return 0
    raise UsageError(f'format value "{fmt}" could not be parsed: parsing failed')


def _tabwriter(rows: list[tuple[str, ...]]) -> str:
    """Go's ``tabwriter.NewWriter(out, 20, 1, 3, ' ', 0)`` as v2's tables use it: every
    cell but the last padded to its column's widest cell plus 3, at least 20."""
    widths = [max(20, *(len(r[i]) + 3 for r in rows)) for i in range(len(rows[0]) - 1)]
    lines = []
    for row in rows:
        cells = [cell.ljust(width) for cell, width in zip(row, widths, strict=False)]
        lines.append("".join(cells) + row[-1] + "\n")
    return "".join(lines)


def _go_json(doc: Any) -> str:
    """Go's json encoder with 4-space indents and HTML escaping off (v2's formatter),
    followed by the newline its Encode writes."""
    import json

    text = json.dumps(doc, indent=4, ensure_ascii=False)
    return text.replace("\u2028", "\\u2028").replace("\u2029", "\\u2029") + "\n"


def _with_service_extensions(data: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    """What v2's YAML has and its JSON leaves out: a service's ``x-`` keys and the
    top-level models the services use; and ``build.ssh`` keys as ``id: path``."""
    services = data.get("services")
    source = declared.get("services")
    if not isinstance(services, dict) or not isinstance(source, dict):
        return data
    out_services = {}
    for name, svc in services.items():
        declared_svc = source.get(name) or {}
        ext = _extensions(declared_svc)
        build = svc.get("build")
        if isinstance(build, dict):
            build_ext = _extensions(declared_svc.get("build"))
            if build.get("ssh"):
                ssh = [key.replace("=", ": ", 1) if isinstance(key, str) else key
                       for key in build["ssh"]]
                build = {**build, "ssh": ssh}
            if build_ext or build is not svc["build"]:
                svc = {**svc, "build": {**build, **build_ext}}
        watch = (svc.get("develop") or {}).get("watch")
        declared_watch = (declared_svc.get("develop") or {}).get("watch")
        if isinstance(watch, list) and isinstance(declared_watch, list) and any(
                _extensions(t) for t in declared_watch):
            triggers = [{**t, **_extensions(d)} if isinstance(t, dict) else t
                        for t, d in zip(watch, declared_watch, strict=False)]
            svc = {**svc, "develop": {**svc["develop"], "watch": triggers}}
        out_services[name] = {**svc, **ext} if ext else svc
    out = {**data, "services": out_services}
    models = _used_models(data, declared)
    if models:
        out["models"] = models
    return out


def _extensions(value: Any) -> dict[str, Any]:
    """The ``x-`` keys of ``value``, as yaml.v3 writes a Go map: keys sorted, at every
    depth (the writer puts sorted keys in yaml.v3's order)."""
    if not isinstance(value, dict):
        return {}
    return {k: _sorted(value[k]) for k in sorted(value)
            if isinstance(k, str) and k.startswith("x-")}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value, key=str)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value




def _used_models(data: dict[str, Any], declared: dict[str, Any]) -> dict[str, Any]:
    from composer.model.fields import MODEL

    used = {name for svc in (data.get("services") or {}).values()
            for name in (svc.get("models") or {})}
    declared_models = declared.get("models") or {}
    out: dict[str, Any] = {}
    for name in sorted(used):
        model = declared_models.get(name)
        if isinstance(model, dict):
            # yaml.v3 writes types.ModelConfig's fields in their order.
            fields = {k: model[k] for k in MODEL.fields if model.get(k) not in (None, "", [])}
            fields.update((k, v) for k, v in model.items() if str(k).startswith("x-"))
            out[name] = fields
    return out
