"""The image commands: ``build``, ``pull``, ``push`` (flags as Docker Compose v2's).

Each turns its flags into options and calls :class:`composer.api.Compose`;
build output and pull/push progress go to stderr through the session's
progress printer, under the service's name.
"""

from __future__ import annotations

import argparse
import re
from typing import Any

from composer.errors import UnsupportedError, UsageError

__all__ = ["IMAGE_COMMANDS", "parse_build_args", "parse_memory", "parse_ssh", "register"]

IMAGE_COMMANDS = ("build", "pull", "push")


def parse_build_args(values: list[str] | None) -> dict[str, str | None]:
    """``--build-arg KEY=VALUE`` (repeatable); a bare ``KEY`` takes the variable from
    the project's environment (None here)."""
    out: dict[str, str | None] = {}
    for value in values or ():
        key, sep, rest = value.partition("=")
        if not key:
            raise UsageError(f'invalid --build-arg "{value}": expected KEY=VALUE or KEY')
        out[key] = rest if sep else None
    return out


_SIZE_PREFIX = re.compile(r"^(\d+(?:\.\d+)*) ?(.*)$")


def parse_memory(value: str | None) -> int | None:
    """``-m/--memory`` in bytes, read as v2 reads it (go-units ``RAMInBytes``:
    ``512m``, ``1.5g``, ``1024``; binary units); None when not given. Raises
    :class:`UsageError` with v2's wording for anything else."""
    if value is None:
        return None
    from composer.model.units import parse_bytes

    try:
        return parse_bytes(value)
    except ValueError:
        found = _SIZE_PREFIX.match(value)
        why = (f"invalid suffix: '{found.group(2)}'" if found
               else f"invalid size: '{value}'")
        raise UsageError(f'invalid argument "{value}" for "-m, --memory" flag: {why}') from None


def parse_ssh(value: str | None) -> str | None:
    """``--ssh``: ``default`` or ``ID=PATH``; ``--ssh=`` means ``default``, as in v2.
    Raises :class:`UsageError` (v2: ``invalid ssh key "x"``) otherwise."""
    if value is None:
        return None
    if value == "":
        return "default"
    if "=" not in value and value != "default":
        raise UsageError(f'invalid ssh key "{value}"')
    return value


def _dry_run(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dry-run", dest="dry_run", action="store_true", default=argparse.SUPPRESS,
                   help="execute command in dry run mode")


def register(sub: Any) -> None:
    """Add ``build``, ``pull`` and ``push`` to the ``composer`` subparsers."""
    p = sub.add_parser("build", help="Build or rebuild services",
                       description="Build or rebuild services")
    _dry_run(p)
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--build-arg", dest="build_args", action="append", default=[],
                   metavar="KEY=VALUE", help="set build-time variables for services")
    p.add_argument("--no-cache", action="store_true",
                   help="do not use cache when building the image")
    p.add_argument("--pull", action="store_true",
                   help="always attempt to pull a newer version of the image")
    p.add_argument("-q", "--quiet", action="store_true", help="suppress the build output")
    p.add_argument("--with-dependencies", action="store_true",
                   help="also build dependencies (transitively)")
    p.add_argument("--push", action="store_true",
                   help="push service images (those with an image: name) after building")
    p.add_argument("-m", "--memory", default=None, metavar="BYTES",
                   help="set memory limit for the build container (512m, 1g, ...)")
    # BuildKit/Bake flags: with the classic builder v2 accepts and ignores them (checked
    # with DOCKER_BUILDKIT=0), and so does composer; --print is refused (see build()).
    p.add_argument("--ssh", default=None, metavar="SSH",
                   help="SSH authentications ('default' or ID=PATH); checked, then ignored: "
                        "the classic builder has no SSH forwarding")
    p.add_argument("--builder", default=None, metavar="BUILDER",
                   help="set builder to use; ignored: composer builds with the engine's "
                        "classic builder")
    p.add_argument("--check", action="store_true",
                   help="check build configuration; ignored by the classic builder (builds)")
    p.add_argument("--provenance", default=None, metavar="VALUE",
                   help="add a provenance attestation; ignored by the classic builder")
    p.add_argument("--sbom", default=None, metavar="VALUE",
                   help="add a SBOM attestation; ignored by the classic builder")
    p.add_argument("--print", dest="print_bake", action="store_true",
                   help="print equivalent bake file; not supported (composer has no Bake "
                        "definition): exits non-zero")
    p.set_defaults(func=build)

    p = sub.add_parser("pull", help="Pull service images", description="Pull service images")
    _dry_run(p)
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--ignore-buildable", action="store_true",
                   help="ignore images that can be built")
    p.add_argument("--ignore-pull-failures", action="store_true",
                   help="pull what it can and ignores images with pull failures")
    p.add_argument("--include-deps", action="store_true",
                   help="also pull services declared as dependencies")
    p.add_argument("--policy", default=None, metavar="POLICY",
                   help='apply pull policy ("missing"|"always")')
    p.add_argument("-q", "--quiet", action="store_true",
                   help="pull without printing progress information")
    p.set_defaults(func=pull)

    p = sub.add_parser("push", help="Push service images", description="Push service images")
    _dry_run(p)
    p.add_argument("services", nargs="*", metavar="SERVICE")
    p.add_argument("--ignore-push-failures", action="store_true",
                   help="push what it can and ignores images with push failures")
    p.add_argument("--include-deps", action="store_true",
                   help="also push images of services declared as dependencies")
    p.add_argument("-q", "--quiet", action="store_true",
                   help="push without printing progress information")
    p.set_defaults(func=push)


def build(args: argparse.Namespace) -> int:
    """``build``: build (or rebuild) the services' images."""
    from composer.api import BuildOptions
    from composer.cli.engine_run import Session, resolve_target, run_engine

    memory = parse_memory(args.memory)
    parse_ssh(args.ssh)
    if args.print_bake:
        raise UnsupportedError(
            "build --print is not supported: composer builds with the engine's classic "
            "builder and has no Bake definition to print")
    options = BuildOptions(
        services=tuple(args.services), with_dependencies=args.with_dependencies,
        build_args=parse_build_args(args.build_args), no_cache=args.no_cache,
        pull=args.pull, quiet=args.quiet, dry_run=bool(getattr(args, "dry_run", False)),
        memory=memory or None, push=args.push)
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        assert target.loaded is not None
        return s.report(await s.compose.build(target.loaded, options))

    return run_engine(args, body)


def pull(args: argparse.Namespace) -> int:
    """``pull``: pull the services' images."""
    from composer.cli.engine_run import Session, resolve_target, run_engine
    from composer.runtime.images import PullOptions

    if args.policy not in (None, "missing", "always"):
        raise UsageError(f'invalid --policy option "{args.policy}": '
                         'expected "missing" or "always"')
    options = PullOptions(services=tuple(args.services), include_deps=args.include_deps,
                          ignore_failures=args.ignore_pull_failures,
                          ignore_buildable=args.ignore_buildable, quiet=args.quiet,
                          policy=args.policy,
                          dry_run=bool(getattr(args, "dry_run", False)))
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        assert target.loaded is not None
        return s.report(await s.compose.pull(target.loaded, options))

    return run_engine(args, body)


def push(args: argparse.Namespace) -> int:
    """``push``: push the images of services with ``build:`` and ``image:``."""
    from composer.cli.engine_run import Session, resolve_target, run_engine
    from composer.runtime.images import PushOptions

    options = PushOptions(services=tuple(args.services), include_deps=args.include_deps,
                          ignore_failures=args.ignore_push_failures, quiet=args.quiet,
                          dry_run=bool(getattr(args, "dry_run", False)))
    target = resolve_target(args, args.services)

    async def body(s: Session) -> int:
        assert target.loaded is not None
        return s.report(await s.compose.push(target.loaded, options))

    return run_engine(args, body)
