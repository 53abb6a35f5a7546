"""composer as an async library: bring a project up, use it, take it down.

    python samples/library/async_demo.py        # asyncio
    python samples/library/async_demo.py trio   # the same on trio
"""

import sys
import urllib.request
from pathlib import Path

import anyio

import composer
from composer import probes

HERE = Path(__file__).parent


async def main() -> None:
    # name=None: a unique project name; leaving the block runs `down -v`.
    async with composer.open([str(HERE / "compose.yaml")]) as project:
        await project.up()  # as `up --wait`: web is healthy, worker running
        web = project.service("web")
        await web.ready(probes.http(80, "/"))  # checked on the container's own address
        endpoint = await web.endpoint(80)
        body = await anyio.to_thread.run_sync(
            lambda: urllib.request.urlopen(endpoint.url("/"), timeout=10).read())
        print("GET", endpoint.url("/"), "->", body.decode().strip())

        result = await project.exec("web", ["sh", "-c", "echo out; echo err >&2; exit 3"])
        print("exec exit", result.exit_code, "stdout", repr(result.stdout),
              "stderr", repr(result.stderr))

        async for line in project.logs(["worker"], follow=True):
            print("log", line.service, line.stream, line.text)
            break  # the log readers stop here

        for row in await project.ps():
            print("ps", row.service, row.state, row.health or "-")
        print("graph", sorted(project.graph.edges(data="condition")))


if __name__ == "__main__":
    anyio.run(main, backend=sys.argv[1] if len(sys.argv) > 1 else "asyncio")
