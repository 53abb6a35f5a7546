"""The engine fixtures of the integration tests (``engine``, ``cleanup_project``)."""

from integration.conftest import cleanup_project, engine  # noqa: F401
