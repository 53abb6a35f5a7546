"""File changes on this machine, in batches: what a watch reacts to.

The events come from the operating system (inotify on Linux, FSEvents on macOS)
through ``watchfiles``, whose Rust core (the ``notify`` crate) watches folders
recursively and groups events: a batch is handed over once no new event came
for ``quiet`` seconds (and after ``longest`` seconds of continuous changes at
the latest), so saving ten files, or a ``git checkout``, is one batch. Docker
Compose v2 waits out a 500 ms quiet period; composer's default is 50 ms
(checked every 50 ms: a batch goes 50 to 100 ms after its last change), which
still groups what an editor or git writes at once, and answers sooner.

A path that does not exist yet is watched through its nearest existing parent
folder (v2 does the same), so a rule may name a folder created later; a file
through its folder, so an editor that saves by renaming a new file over it is
still seen.
"""

from __future__ import annotations

import os
from collections.abc import AsyncGenerator, Iterable

import anyio

__all__ = ["QUIET", "batches", "watched_roots"]

#: Seconds without a new event that end a batch.
QUIET = 0.05
#: Seconds of continuous events after which a batch is handed over anyway.
LONGEST = 10.0


def watched_roots(paths: Iterable[str]) -> list[str]:
    """The folders to watch for ``paths`` (absolute): each folder, or the nearest
    existing folder above a file or a missing path, without those already under
    another one."""
    roots: set[str] = set()
    for path in paths:
        here = os.path.normpath(path)
        # A file is watched through its folder: an editor that saves by replacing it
        # (a new file renamed over it) leaves a watch on the file itself blind.
        while not os.path.isdir(here) and os.path.dirname(here) != here:
            here = os.path.dirname(here)
        roots.add(here)
    kept: list[str] = []
    for root in sorted(roots):
        if any(root == k or root.startswith(k.rstrip("/") + "/") for k in kept):
            continue
        kept.append(root)
    return kept


async def batches(paths: Iterable[str], *, quiet: float = QUIET, longest: float = LONGEST,
                  ready: anyio.Event | None = None) -> AsyncGenerator[set[str], None]:
    """Each batch of changed paths (absolute; created, modified or deleted) under
    ``paths``, until the caller stops iterating or is cancelled; ``ready`` is set
    once the operating system watches them (a change made after that is seen)."""
    from watchfiles import awatch

    roots = watched_roots(paths)
    stop = anyio.Event()
    # watchfiles' own filter is off: the watch's rules decide what is ignored.
    changes = awatch(*roots, watch_filter=None, step=max(1, int(quiet * 1000)),
                     debounce=max(1, int(longest * 1000)), stop_event=stop,
                     rust_timeout=500, yield_on_timeout=True, recursive=True)
    try:
        first = True
        async for raw in changes:
            # With yield_on_timeout, the first (empty) batch says the watch is on.
            if first:
                first = False
                if ready is not None:
                    ready.set()
            found = {path for _, path in raw}
            if found:
                yield found
    finally:
        stop.set()
        await changes.aclose()
