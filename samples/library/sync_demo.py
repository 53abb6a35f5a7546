"""composer as a plain (blocking) library: the same names, no async.

    python samples/library/sync_demo.py
"""

from pathlib import Path

import composer.sync
from composer import NotReadyError, probes

HERE = Path(__file__).parent

with composer.sync.open([str(HERE / "compose.yaml")]) as project:
    project.up(["web"])
    web = project.service("web")
    print("web at", web.endpoint(80).url("/"), "ips", len(web.ips()))
    print("exec", project.exec("web", "cat /www/index.html").stdout.strip())
    try:
        web.ready(probes.tcp(5432), timeout=2)  # nothing listens there
    except NotReadyError as error:
        print("not ready:", error.probe, "-", error.detail.split(" at ")[0])
    for line in project.logs(["web"]):
        print("log", line.text)
print("down")
