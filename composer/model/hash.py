"""The config hash kept in a container label, which decides recreation.

STUB: to be replaced by a hash that matches Docker Compose v2's.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any


def service_config_hash(service: dict[str, Any]) -> str:
    """sha256 hex digest of the service's canonical config, without fields that do
    not change the container (build, pull_policy, scale/replicas, depends_on, ...)."""
    data = {k: v for k, v in service.items()
            if k not in ("build", "pull_policy", "scale", "depends_on", "deploy")}
    return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()
