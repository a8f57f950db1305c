"""Owns: service sets (PostgreSQL and Redis: external, containers, embedded), their reaping, the Docker setup.
May import: tools.lattice.config.

Usage: ``with start_services() as services: ...`` then ``services.database_url`` and
``services.redis_url``; leaving the block stops whatever the provider started.
"""

from tools.lattice.services.base import ServiceSet, ServiceUnavailable
from tools.lattice.services.registry import RunRecord
from tools.lattice.services.tiers import reap, start_services

__all__ = ["RunRecord", "ServiceSet", "ServiceUnavailable", "reap", "start_services"]
