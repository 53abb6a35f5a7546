"""Watch: which ``develop.watch`` rule a changed file falls under, and what to do. Pure.

:func:`watch_rules` compiles the selected services' rules once, when the watch
starts, refusing bad ones (:class:`~composer.errors.ConfigError` naming the key
path; the api adds file and line). :func:`classify` sorts one batch of changed
paths (absolute, as the file watcher reports them) into what each service
needs, as Docker Compose v2's ``handleWatchBatch`` does: every path is tested
against every rule (so a file under two rules counts twice), a rule matches a
path at or under its ``path`` that its ``include`` patterns take (all, without
``include``) and that none of its ignores match. The ignores of a rule are, in
order: the ``.dockerignore`` of the service's build context (patterns relative
to the context), the editors' temporary files (v2's list), ``.git`` folders,
and the rule's own ``ignore`` (relative to the rule's ``path``).

:func:`plan_sync` turns a service's copies and deletions into one
:class:`~composer.plan.steps.SyncFiles` step per container.

Where composer departs from v2 (docs/architecture.md): a ``.git`` folder is
ignored wherever it is (v2's rule only matches ``/.git``); the files of a new
folder go through the rules one by one (v2 copies the folder whole, ignored
files included); a ``target`` must be absolute and a ``path`` inside the
project's folder (v2 takes ``target: app`` as ``/app`` and any path).
"""

from __future__ import annotations

import os
import posixpath
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from composer.backends.base import ContainerState
from composer.errors import ConfigError
from composer.frozen import frozen
from composer.model.project import Project, ServiceHook
from composer.plan.patterns import PatternMatcher, absolute_patterns
from composer.plan.plan import Plan
from composer.plan.steps import SyncFiles

__all__ = [
    "EPHEMERAL_PATTERNS",
    "REBUILD",
    "RESTART",
    "SYNC",
    "SYNC_EXEC",
    "SYNC_RESTART",
    "NoWatchError",
    "WatchBatch",
    "WatchRule",
    "classify",
    "plan_sync",
    "watch_rules",
]

SYNC = "sync"
REBUILD = "rebuild"
RESTART = "restart"
SYNC_RESTART = "sync+restart"
SYNC_EXEC = "sync+exec"
SYNCING = frozenset({SYNC, SYNC_RESTART, SYNC_EXEC})
RESTARTING = frozenset({RESTART, SYNC_RESTART})

#: Editors' temporary files, never a change (v2's ``EphemeralPathMatcher``).
EPHEMERAL_PATTERNS = (
    "**/*___jb_old___", "**/*___jb_tmp___", "**/.idea/**",  # GoLand
    "**/.#*", "**/#*#",  # Emacs
    "**/4913", "**/*~", "**/.*.swp", "**/.*.swx", "**/.*.swo", "**/.*.swn",  # Vim
    "**/.*.kate-swp",  # Kate
    "**/*-go-tmp-umask",  # Go
)
#: Version-control folders, wherever they are (v2 means to, see the module docstring).
VCS_PATTERNS = ("**/.git",)

NO_WATCH = ("none of the selected services is configured for watch, consider setting a "
            "'develop' section")


class NoWatchError(ConfigError):
    """No selected service has a ``develop.watch`` rule (v2's words, and its exit
    code 1)."""

    exit_code = 1


def _is_child(parent: str, path: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


@frozen(slots=True)
class WatchRule:
    """One compiled ``develop.watch`` rule of ``service`` (its ``index`` in the list)."""

    service: str
    index: int
    action: str
    path: str  # absolute, on this machine
    target: str = ""  # absolute, in the containers
    include: PatternMatcher | None = None
    ignore: tuple[PatternMatcher, ...] = ()
    exec: ServiceHook | None = None
    initial_sync: bool = False

    @property
    def key(self) -> tuple[str | int, ...]:
        """The rule's key path in the project (for a located error)."""
        return ("services", self.service, "develop", "watch", self.index)

    def ignored(self, path: str) -> bool:
        """Whether ``path`` (absolute) is left alone by this rule's ignores."""
        return any(m.matches(path) for m in self.ignore)

    def matches(self, path: str) -> bool:
        """Whether a change of ``path`` (absolute) concerns this rule."""
        if not _is_child(self.path, path):
            return False
        if self.include is not None and not self.include.matches(path):
            return False
        return not self.ignored(path)

    def container_path(self, path: str) -> str:
        """Where ``path`` (under :attr:`path`) goes in the containers."""
        rel = posixpath.relpath(path, self.path)
        return self.target if rel == "." else posixpath.join(self.target, rel)


def _strings(value: Sequence[str] | str | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)


def watch_rules(model: Project, services: Sequence[str] = (), *,
                dockerignore: Mapping[str, Sequence[str]] | None = None,
                project_dir: str | None = None) -> list[WatchRule]:
    """The ``develop.watch`` rules of ``services`` (all the project's when empty), in
    the project's order; ``dockerignore``: each service's build-context patterns.

    Raises :class:`NoWatchError` when none of them has a rule, and
    :class:`~composer.errors.ConfigError` (with its key path) for a rule composer
    cannot follow: a ``rebuild`` without ``build:``, a ``target`` that is not an
    absolute path, a ``path`` outside ``project_dir``.
    """
    chosen = list(services) or list(model.services)
    ignores = dockerignore or {}
    ephemeral = PatternMatcher(absolute_patterns("/", [*EPHEMERAL_PATTERNS, *VCS_PATTERNS]))
    # Both sides with every symbolic link resolved: the loader resolves a watch
    # path's first one (as v2), and the project folder may be reached through one.
    root = os.path.realpath(project_dir) if project_dir else None
    rules: list[WatchRule] = []
    for name in chosen:
        service = model.services.get(name)
        if service is None or service.develop is None or not service.develop.watch:
            continue
        context = service.build.context if service.build is not None else None
        for index, trigger in enumerate(service.develop.watch):
            key: tuple[str | int, ...] = ("services", name, "develop", "watch", index)
            action = trigger.action or ""
            path = posixpath.normpath(trigger.path or "")
            if action == REBUILD and service.build is None:
                raise ConfigError(f"can't watch service \"{name}\" with action rebuild "
                                  "without a build context", path=(*key, "action"))
            if root is not None and not _is_child(root, os.path.realpath(path)):
                raise ConfigError(f"watch path {trigger.path} is outside the project folder "
                                  f"{root}", path=(*key, "path"))
            target = trigger.target or ""
            if action in SYNCING and not target.startswith("/"):
                raise ConfigError(f"target {target!r} is not an absolute path in the "
                                  "container", path=(*key, "target"))
            matchers = []
            if context and ignores.get(name):
                matchers.append(PatternMatcher(absolute_patterns(context, ignores[name])))
            matchers.append(ephemeral)
            own = _strings(trigger.ignore)
            if own:
                matchers.append(PatternMatcher(absolute_patterns(path, own)))
            include = _strings(trigger.include)
            rules.append(WatchRule(
                service=name, index=index, action=action, path=path,
                target=posixpath.normpath(target) if target else "",
                include=PatternMatcher(absolute_patterns(path, include)) if include else None,
                ignore=tuple(matchers), exec=trigger.exec,
                initial_sync=bool(trigger.initial_sync)))
    if not rules:
        raise NoWatchError(NO_WATCH)
    return rules


@dataclass
class WatchBatch:
    """What one batch of changes asks for, per service (in the rules' order)."""

    rebuild: list[str] = field(default_factory=list)
    #: service -> [(path on this machine, path in the containers)], one per match
    sync: dict[str, list[tuple[str, str]]] = field(default_factory=dict)
    restart: list[str] = field(default_factory=list)
    #: service -> the rules whose ``exec`` runs after the sync (each once)
    exec: dict[str, list[WatchRule]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.rebuild or self.sync or self.restart or self.exec)


def classify(rules: Sequence[WatchRule], paths: Iterable[str]) -> WatchBatch:
    """Sort a batch of changed ``paths`` (absolute) by what their rules ask for."""
    batch = WatchBatch()
    ordered = sorted(set(paths))
    for rule in rules:
        hits = [p for p in ordered if rule.matches(p)]
        if not hits:
            continue
        if rule.action == REBUILD:
            if rule.service not in batch.rebuild:
                batch.rebuild.append(rule.service)
            continue
        if rule.action in SYNCING:
            batch.sync.setdefault(rule.service, []).extend(
                (p, rule.container_path(p)) for p in hits)
        if rule.action in RESTARTING and rule.service not in batch.restart:
            batch.restart.append(rule.service)
        if rule.action == SYNC_EXEC:
            hooks = batch.exec.setdefault(rule.service, [])
            if rule not in hooks:
                hooks.append(rule)
    # As v2: a service rebuilt in this batch still gets its syncs, restart and
    # hooks, in its new containers (the rebuild comes first).
    return batch


def plan_sync(project: str, service: str, containers: Sequence[ContainerState],
              copies: Sequence[tuple[str, str]], deletions: Sequence[str]) -> Plan:
    """One :class:`SyncFiles` step per container of ``service`` (one-off containers
    aside): ``copies`` ``(path here, path there)`` go in one archive, ``deletions``
    (paths there) are removed. Deletions need a running container; copies do not."""
    plan = Plan(project=project)
    for c in sorted(containers, key=lambda c: c.number):
        if c.oneoff or c.service != service:
            continue
        running = c.state in ("running", "restarting")
        plan.add(SyncFiles(container=c.id, service=service, copies=tuple(copies),
                           deletions=tuple(deletions) if running else (),
                           display=f"Container {c.name}", progress=("Syncing", "Synced")),
                 f"service:{service}:{c.number}",
                 f"{len(copies)} to copy, {len(deletions)} to delete")
    return plan
