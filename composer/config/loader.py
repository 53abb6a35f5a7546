"""The loader: runs the loading phases in order and returns a :class:`LoadedProject`.

Phases (each its own module, each pure):
discovery -> dotenv -> source (YAML) -> interpolation -> schema -> canonical ->
include -> extends -> paths -> merge -> profiles -> normalize -> validate.
"""

from __future__ import annotations

import gc
import os
import sys
import warnings
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from composer.config import (
    canonical,
    discovery,
    dotenv,
    extends,
    include,
    interpolation,
    merge,
    normalize,
    paths,
    profiles,
    schema,
    source,
    untyped,
    validate,
)
from composer.errors import ComposerWarning, ConfigError, EnvFileError, Mark
from composer.frozen import frozen

if TYPE_CHECKING:
    from composer.model.project import Project

Warn = Callable[[str], None]


@frozen
class LoadOptions:
    """How to find and read a project. Every field mirrors a CLI flag or variable."""

    files: Sequence[str] = ()
    project_directory: str | None = None
    project_name: str | None = None
    env_files: Sequence[str] = ()
    profiles: Sequence[str] = ()
    services: Sequence[str] = ()
    interpolate: bool = True
    normalize: bool = True
    environ: Mapping[str, str] | None = None
    cwd: str | None = None
    stdin: bytes | None = None
    # Called with each warning (v2's text, without its ``WARN[0000]`` prefix); by
    # default they go to Python's ``warnings`` as ComposerWarning.
    warn: Warn | None = None
    # The untyped model (what ``config --no-interpolate`` prints) instead of the
    # typed project: no profiles, no service selection, no consistency checks.
    model: bool = False
    # ``config --no-path-resolution``: relative paths stay as written (those of
    # included or extended files are only rebased onto the project folder).
    resolve_paths: bool = True
    # False for v2's listings (``config --services`` ...): ``env_file`` entries are
    # kept unread, so a missing one is no error.
    resolve_env_files: bool = True
    # ``config --no-consistency``: no check of references between services and
    # resources, nor of dependency cycles.
    consistency: bool = True


@dataclass
class LoadedProject:
    """A loaded project: its canonical data, its typed model and where it came from.

    ``data`` is the project exactly as ``docker compose config --format json``
    shows it; :attr:`model` is the same project as the frozen
    :class:`~composer.model.project.Project` every layer above the loader reads.
    The loader produces the dict (``config`` prints it as it is: fast, and byte
    for byte v2's) and the model is built from it once, on first use; both are
    shaped by compose-go's field table (:mod:`composer.model.fields`).
    """

    name: str
    working_dir: str
    config_files: list[str]
    environment: dict[str, str]
    data: dict[str, Any]
    sources: list[source.SourceMap] = field(default_factory=list)
    # Every service before profiles were applied (for ``config --profiles``).
    all_services: dict[str, Any] = field(default_factory=dict)
    # The merged project after profiles, before normalisation.
    declared: dict[str, Any] = field(default_factory=dict)
    # Loaded with LoadOptions(model=True): ``data`` is the untyped model.
    untyped: bool = False

    @cached_property
    def model(self) -> Project:
        """The typed project, built from ``data`` on first use: ``working_dir`` set,
        and each service's ``x-`` keys (``x-composer-ready``...), which v2's JSON
        leaves out, in its ``ServiceConfig.extensions``. Raises ``ValueError`` for
        an untyped load (``LoadOptions(model=True)``)."""
        if self.untyped:
            raise ValueError("an untyped load (LoadOptions(model=True)) has no typed model")
        from composer.model.project import Project

        # As while loading: the collector would walk the whole project for nothing.
        was_enabled = gc.isenabled()
        gc.disable()
        try:
            return Project.from_dict(self.data, working_dir=self.working_dir,
                                     extensions=self._service_extensions())
        finally:
            if was_enabled:
                gc.enable()

    def _service_extensions(self) -> dict[str, dict[str, Any]]:
        """Each service's ``x-`` keys, as declared (v2's JSON leaves them out)."""
        declared = self.declared.get("services")
        out: dict[str, dict[str, Any]] = {}
        if isinstance(declared, dict):
            for name in self.data.get("services") or ():
                service = declared.get(name)
                if isinstance(service, dict):
                    keys = {k: v for k, v in service.items()
                            if isinstance(k, str) and k.startswith("x-")}
                    if keys:
                        out[name] = keys
        return out

    def hash_view(self, service: str) -> dict[str, Any]:
        """The service as v2's ``config --hash`` hashes it: normalised, with
        ``env_file`` entries kept unread (``up`` hashes them read, as v2.40.3 does)."""
        declared = (self.declared.get("services") or {}).get(service)
        if not isinstance(declared, dict) or not declared.get("env_file"):
            return dict(self.data["services"][service])
        mini = {"services": {service: declared}}
        out = normalize.normalize_project(
            mini, name=self.name, working_dir=self.working_dir,
            environment=self.environment, resolve_env_files=False,
        )
        return dict(out["services"][service])

    def locate(self, path: tuple[str | int, ...]) -> Mark | None:
        """Where ``path`` of the merged project was written (last file wins)."""
        for src in reversed(self.sources):
            if path in src.marks:
                return src.marks[path]
        for src in reversed(self.sources):
            m = src.mark(path)
            if m is not None:
                return m
        return None


def _default_warn(message: str) -> None:
    # The library never prints: the CLI passes its own callback (v2's WARN lines).
    warnings.warn(message, ComposerWarning, stacklevel=4)


class _Session:
    """State shared by one load: caches, the warn-once set, collected source maps."""

    def __init__(
        self, warn: Warn, stdin: bytes | None, do_interpolate: bool, model: bool = False,
        resolve_paths: bool = True,
    ) -> None:
        self.model = model
        self.resolve_paths = resolve_paths
        self.warn_raw = warn
        self.warned: set[str] = set()
        self.stdin = stdin
        self.do_interpolate = do_interpolate
        self.sources: list[source.SourceMap] = []
        self.parsed: dict[str, list[source.Document]] = {}
        # Whether any file used !reset/!override: only then is the merged tree
        # walked once more to resolve them (a full copy of a large project).
        self.markers = False
        self.home: str | None = None

    def warn(self, message: str) -> None:
        if message not in self.warned:
            self.warned.add(message)
            self.warn_raw(message)

    def parse(self, path: str) -> list[source.Document]:
        """Parse a file once per load (stdin can only be read once anyway)."""
        docs = self.parsed.get(path)
        if docs is None:
            if path == discovery.STDIN:
                raw = self.stdin if self.stdin is not None else sys.stdin.buffer.read()
                docs = source.parse_yaml(raw, "-")
                self.markers = self.markers or _has_marker_tag(raw)
            else:
                docs = source.load_yaml_file(path)
                self.markers = self.markers or _file_has_marker_tag(path)
            self.parsed[path] = docs
            self.sources.extend(doc.source for doc in docs)
        return docs

    def declared_name(self, files: Sequence[str], environment: Mapping[str, str]) -> str | None:
        """The top-level ``name:`` (interpolated; the last file that sets it wins)."""
        name: str | None = None
        for path in files:
            for doc in self.parse(path):
                value = doc.data.get("name")
                if isinstance(value, str):
                    if self.do_interpolate:
                        value = interpolation.substitute(
                            value, environment.get, path=("name",), source=doc.source,
                            warn=self.warn,
                        )
                    name = value
        return name

    def read_file(
        self, path: str, environment: Mapping[str, str], base: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Parse, interpolate and validate one file; documents are merged in order.

        ``base`` is what earlier files of the layer merged to: as in v2, the schema
        is checked on each document merged onto what came before it."""
        docs = self.parse(path)
        earlier = list(self.sources)
        result: dict[str, Any] | None = None
        for doc in docs:
            data = doc.data
            if self.do_interpolate:
                data = interpolation.interpolate(
                    data, environment.get, source=doc.source, warn=self.warn
                )
            if not schema.is_valid(data):
                # v2 checks the document with its extends resolved and merged onto
                # the earlier ones: what only that result satisfies is accepted.
                before = base if not result else merge.merge_documents(base or {}, result)
                candidate = schema.merge_shapes(data)
                try:
                    candidate = extends.resolve_extends(
                        candidate, file=path, source=doc.source, home=self.home,
                        load_file=lambda other: self.read_file(other, environment),
                    )
                except ConfigError:
                    pass  # reported where extends is resolved, if the schema allows
                schema.validate_merged_schema(candidate, doc.source, before or {}, earlier)
            earlier.append(doc.source)
            data = canonical.canonicalize(
                data, doc.source, warn=self.warn, lenient=not self.do_interpolate,
                model=self.model,
            )
            result = merge.merge_documents(result or {}, data, file=path, model=self.model)
        return result or {}

    def load_layer(
        self,
        files: Sequence[str],
        working_dir: str,
        environment: Mapping[str, str],
        chain: Sequence[str],
        model_env: Mapping[str, str] | None = None,
        parent_dir: str | None = None,
    ) -> dict[str, Any]:
        """Files -> one merged document with includes and extends resolved.

        In model mode ``model_env`` holds the variables v2 resolves the layer's
        ``environment: [FOO]`` entries with (none for the project itself).
        ``parent_dir`` is the including layer's folder (None for the project)."""
        merged: dict[str, Any] | None = None
        file_cache: dict[str, dict[str, Any]] = {}

        def load_other(path: str) -> dict[str, Any]:
            if path not in file_cache:
                file_cache[path] = self.read_file(path, environment)
            return file_cache[path]

        def load_sub(req: include.IncludeRequest, sub_chain: Sequence[str]) -> dict[str, Any]:
            return self.load_subproject(req, environment, sub_chain, working_dir)

        # Without path resolution, v2 still rebases an included layer's paths onto
        # the including one's folder (``inc/ctx``); the project's own stay as written.
        base_dir: str | None = working_dir
        if not self.resolve_paths:
            base_dir = None if parent_dir is None else os.path.relpath(working_dir, parent_dir)

        for i, path in enumerate(files):
            data = self.read_file(path, environment, merged)
            docs = self.parse(path)
            src = docs[0].source if len(docs) == 1 else None
            # v2 resolves extends before include: included services cannot be extended.
            data = extends.resolve_extends(
                data, file=path, load_file=load_other, working_dir=working_dir,
                source=src, home=self.home, model=self.model,
                resolve_paths=self.resolve_paths,
            )
            if "include" in data:
                data = include.resolve_include(
                    data, file=path, working_dir=working_dir, load_subproject=load_sub,
                    chain=[*chain, path], source=src, home=self.home,
                )
            # Relative paths of every -f file are taken from the project folder
            # (the first file's folder unless --project-directory), as Compose does.
            if base_dir is not None:
                data = paths.resolve_relative_paths(data, base_dir, home=self.home)
            merged = (
                data if i == 0 or merged is None
                else merge.merge_documents(merged, data, file=path, model=self.model)
            )
        if self.model and merged:
            merged = untyped.set_model_defaults(
                merge.strip_markers(merged), working_dir if self.resolve_paths else "."
            )
            merged = untyped.resolve_model_environment(merged, model_env or {})
        return merged or {}

    def load_subproject(
        self, req: include.IncludeRequest, parent_env: Mapping[str, str], chain: Sequence[str],
        parent_dir: str | None = None,
    ) -> dict[str, Any]:
        env: dict[str, str] = {}
        for env_file in req.env_files:
            if not os.path.exists(env_file) and not req.env_files_required:
                continue
            for k, v in dotenv.load_dotenv_file(env_file, parent_env.get).items():
                if v is not None:
                    env[k] = v
        own = dict(env)
        env.update(parent_env)
        return self.load_layer(req.paths, req.project_directory, env, chain, model_env=own,
                               parent_dir=parent_dir)


def getwd() -> str:
    """The current folder as v2 (Go's ``os.Getwd``) sees it: ``$PWD`` when it names
    this folder, so a path through a symbolic link stays as the user typed it (and
    so do the paths printed from it); otherwise the resolved path."""
    pwd = os.environ.get("PWD")
    if pwd and pwd.startswith("/"):
        try:
            if os.path.samestat(os.stat(pwd), os.stat(".")):
                return pwd
        except OSError:
            pass
    return os.getcwd()


def _as_v2_process(environ: dict[str, str]) -> None:
    """The process environment as v2's own: ``PWD`` is set (to the current folder)
    when the shell did not, and the ``LC_CTYPE`` Python adds when the locale is C
    (PEP 538 coercion) was never the user's."""
    if "PWD" not in environ:
        environ["PWD"] = os.getcwd()
    if (environ.get("LC_CTYPE") == "C.UTF-8" and "LC_ALL" not in environ
            and environ.get("LANG", "C") in ("", "C", "POSIX")):
        del environ["LC_CTYPE"]


def resolve_environment(
    working_dir: str, env_files: Sequence[str], environ: Mapping[str, str]
) -> dict[str, str]:
    """The interpolation environment: env files under the process environment."""
    result: dict[str, str] = {}
    files = list(env_files)
    if not files:
        default = os.path.join(working_dir, ".env")
        if os.path.isfile(default):
            files = [default]
    for f in files:
        def lookup(name: str) -> str | None:
            return environ.get(name, result.get(name))

        if not os.path.exists(f):
            raise EnvFileError(f"couldn't find env file: {f}")
        for k, v in dotenv.load_dotenv_file(f, lookup).items():
            if v is not None:
                result[k] = v
    result.update(environ)
    return result


def load_project(options: LoadOptions | None = None) -> LoadedProject:
    """Find, read, merge, normalise and validate a project. Raises ``ComposerError``."""
    # Loading allocates hundreds of thousands of small objects and frees almost
    # none: the cyclic collector's passes over them found nothing and cost a
    # quarter of the time on 1,000 services. Paused here, restored as it was.
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        return _load_project(options)
    finally:
        if was_enabled:
            gc.enable()


def _load_project(options: LoadOptions | None) -> LoadedProject:
    opts = options or LoadOptions()
    environ = dict(os.environ if opts.environ is None else opts.environ)
    cwd = os.path.abspath(opts.cwd or getwd())
    if opts.environ is None:
        _as_v2_process(environ)
    session = _Session(opts.warn or _default_warn, opts.stdin, opts.interpolate, opts.model,
                       opts.resolve_paths)
    session.home = environ.get("HOME")

    project_dir = (
        os.path.abspath(os.path.join(cwd, opts.project_directory))
        if opts.project_directory
        else None
    )
    env_files = [os.path.abspath(os.path.join(cwd, f)) for f in opts.env_files]
    # As v2, the .env is read twice: first from the folder known before discovery (the
    # project directory, the first -f file's, else the current one), where COMPOSE_FILE,
    # COMPOSE_PROFILES and friends may be set; then from the project's folder, for the
    # variables still unset (the process environment always wins).
    named = next((f for f in opts.files if f != discovery.STDIN), None)
    first_dir = project_dir or (
        os.path.dirname(os.path.abspath(os.path.join(cwd, named))) if named else cwd
    )
    pre_env = resolve_environment(first_dir, env_files, environ)
    files = discovery.resolve_config_files(opts.files, pre_env, cwd, project_dir)
    first = next((f for f in files if f != discovery.STDIN), None)
    working_dir = project_dir or (os.path.dirname(first) if first else cwd)
    environment = resolve_environment(working_dir, env_files, pre_env)

    # The name comes first: COMPOSE_PROJECT_NAME is visible to interpolation.
    name = discovery.choose_project_name(
        flag=opts.project_name,
        environ=environment,
        declared=None
        if opts.project_name or environment.get("COMPOSE_PROJECT_NAME")
        else session.declared_name(files, environment),
        working_dir=working_dir,
    )
    environment["COMPOSE_PROJECT_NAME"] = name

    data = session.load_layer(files, working_dir, environment, chain=[])
    if session.markers:
        data = merge.strip_markers(data)
    _refuse_empty(data, files)
    if opts.model:
        return LoadedProject(
            name=name,
            working_dir=working_dir,
            config_files=list(files),
            environment=environment,
            data=untyped.normalize_model(data, name=name, implicit=opts.normalize),
            sources=session.sources,
            all_services=dict(data.get("services") or {}),
            declared=data,
            untyped=True,
        )

    data = {"name": name, **{k: v for k, v in data.items() if k != "name"}}
    active_profiles = list(opts.profiles)
    if not active_profiles and environment.get("COMPOSE_PROFILES"):
        active_profiles = [p for p in environment["COMPOSE_PROFILES"].split(",") if p]
    all_services = dict(data.get("services") or {})
    data = profiles.apply_profiles(data, active_profiles, opts.services)
    data = profiles.select_services(data, opts.services)

    project = LoadedProject(
        name=name,
        working_dir=working_dir,
        config_files=list(files),
        environment=environment,
        data=data,
        sources=session.sources,
        all_services=all_services,
        declared=data,
    )
    try:
        project.data = normalize.normalize_project(
            data, name=name, working_dir=working_dir, environment=environment,
            warn=session.warn, implicit=opts.normalize, resolve_paths=opts.resolve_paths,
            resolve_env_files=opts.resolve_env_files, cwd=cwd,
        )
        # v2 checks consistency with --no-normalize too (on what it did not add).
        validate.validate_project(
            project.data, project.locate, all_services=all_services, declared=data,
            consistency=opts.consistency,
        )
    except ConfigError as exc:
        if exc.mark is None and exc.path:
            exc.mark = project.locate(exc.path)
            exc.file = exc.mark.file if exc.mark else exc.file
        raise
    return project


def _refuse_empty(data: dict[str, Any], files: Sequence[str]) -> None:
    """v2's ``empty compose file``: the files, merged (includes resolved, the
    obsolete ``version`` dropped), hold no key at all. A zero-byte file, one of
    comments only, ``{}`` or ``version: "3"`` alone; ``services: {}`` or ``name:``
    alone are a project (with no service)."""
    if any(key != "version" for key in data):
        return
    raise ConfigError("empty compose file", file=", ".join(files))


def _has_marker_tag(raw: bytes | str) -> bool:
    text = raw.encode("utf-8", "replace") if isinstance(raw, str) else raw
    return b"!reset" in text or b"!override" in text


def _file_has_marker_tag(path: str) -> bool:
    try:
        with open(path, "rb") as fh:
            return _has_marker_tag(fh.read())
    except OSError:
        return True
