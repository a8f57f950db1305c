"""Real PostgreSQL and Redis on demand, for everything in the project that needs them.

Usage: ``with start_services() as services: ...`` then ``services.database_url`` and
``services.redis_url``; leaving the block stops whatever the provider started.
"""

from .base import ServiceSet, ServiceUnavailable
from .registry import RunRecord
from .tiers import reap, start_services

__all__ = ["RunRecord", "ServiceSet", "ServiceUnavailable", "reap", "start_services"]
