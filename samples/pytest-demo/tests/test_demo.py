"""The demo project under test: composer's plugin brings it up once for this
module (compose_scope = module in pytest.ini), waits until web is healthy and
ready, and takes it down after the last test here."""

import urllib.request

import pytest

from composer import probes

pytestmark = pytest.mark.compose(probes={"web": probes.http(8000, "/ping")})


def test_web_answers_on_its_published_port(compose_project):
    endpoint = compose_project.service("web").endpoint(8000)
    with urllib.request.urlopen(endpoint.url("/ping"), timeout=10) as answer:
        assert answer.read() == b"pong\n"


def test_the_worker_reaches_web(compose_project):
    compose_project.service("worker").ready(probes.log("job done"), timeout=60)
    assert any(line.text == "worker started" for line in compose_project.logs(["worker"]))


def test_exec_keeps_the_streams_apart(compose_project):
    result = compose_project.exec("web", ["sh", "-c", "echo out; echo err >&2; exit 2"])
    assert (result.exit_code, result.stdout, result.stderr) == (2, "out\n", "err\n")


def test_both_services_run(compose_project):
    rows = {row.service: (row.state, row.health) for row in compose_project.ps()}
    assert rows == {"web": ("running", "healthy"), "worker": ("running", None)}
