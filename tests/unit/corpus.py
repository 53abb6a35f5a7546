"""Where the shared reference corpus is, and the environment v2's outputs were made in.

Resolved: v2 prints some paths with symbolic links resolved (develop.watch) and runs
from the resolved folder when $PWD is not that folder, so "@DIR@" must be the real
path even when ../shared is reached through a symbolic link. Tests that read it skip
when the folder is absent.
"""

from __future__ import annotations

from pathlib import Path

CORPUS = (Path(__file__).resolve().parents[2].parent / "shared" / "corpus").resolve()

# The environment the corpus README gives v2 (PATH is whatever the test runs with).
CORPUS_ENVIRON = {
    "HOME": "/home/user",
    "HOSTNAME_VALUE": "myhost",
    "HOST_PORT": "8001",
    "LABEL_VALUE": "myvalue",
    "IMAGE": "busybox",
    "VOLUME_NAME": "vol",
    "BAR": "bar",
    "FOO": "foo",
}
