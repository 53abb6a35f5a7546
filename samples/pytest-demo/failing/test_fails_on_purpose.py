"""A test that fails on purpose, to show what a failing test's report carries:
`ps` and the logs of the project since the test began. Not part of the demo's
own run (pytest.ini's testpaths); the suite runs it in a subprocess."""

import pytest


@pytest.mark.compose(files=["../compose.yaml"], services=["web"], scope="function")
def test_the_web_page_says_hello(compose_project):
    compose_project.exec("web", ["sh", "-c", "echo about to check the page >&2"])
    result = compose_project.exec("web", ["cat", "/www/ping"])
    assert result.stdout == "hello\n"  # it says pong: this fails, on purpose
