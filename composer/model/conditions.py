"""The ``depends_on`` condition names, compose-spec's words, in one place.

``RUNNING_OR_HEALTHY`` is not a compose-spec condition: it is what ``up --wait``
waits for (healthy when the service declares a healthcheck, else running), as
Docker Compose v2's ``--wait`` does.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "CONDITIONS",
    "RUNNING_OR_HEALTHY",
    "SERVICE_COMPLETED_SUCCESSFULLY",
    "SERVICE_HEALTHY",
    "SERVICE_STARTED",
]

SERVICE_STARTED: Final = "service_started"
SERVICE_HEALTHY: Final = "service_healthy"
SERVICE_COMPLETED_SUCCESSFULLY: Final = "service_completed_successfully"
#: The conditions a compose file may write under ``depends_on.<service>.condition``.
CONDITIONS: Final = (SERVICE_STARTED, SERVICE_HEALTHY, SERVICE_COMPLETED_SUCCESSFULLY)
RUNNING_OR_HEALTHY: Final = "running_or_healthy"
