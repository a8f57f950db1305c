"""Which provider serves a run: forced by LATTICE_PROVIDER, else external (the URLs, or
docker-compose.dev.yml's set when it is up) → containers → embedded."""

from __future__ import annotations

from collections.abc import Callable

from tools.lattice.config import PROVIDERS, LatticeConfigError, LatticeSettings, load_settings
from tools.lattice.services import compose, registry
from tools.lattice.services.base import Announce, ServiceSet, ServiceUnavailable, announce_to_stderr
from tools.lattice.services.containers import ImagesUnavailable, engine_missing, start_containers
from tools.lattice.services.embedded import start_embedded
from tools.lattice.services.external import configured, start_external
from tools.lattice.services.state import open_state_dir


def _settings(settings: LatticeSettings | None) -> LatticeSettings:
    if settings is not None:
        return settings
    try:
        return load_settings()
    except LatticeConfigError as exc:
        raise ServiceUnavailable(str(exc)) from None


def reap(
    settings: LatticeSettings | None = None, left: Callable[[registry.RunRecord, str], None] | None = None
) -> list[registry.RunRecord]:
    """Stop and remove what sets of dead owners left behind (servers, private dirs, records); a set
    that could not be removed is told to `left` with the reason."""
    return registry.reap(open_state_dir(_settings(settings).state_dir), left)


def start_services(
    provider: str | None = None,
    *,
    announce: Announce = announce_to_stderr,
    settings: LatticeSettings | None = None,
    detach: bool = False,
) -> ServiceSet:
    """Start (or attach to) a PostgreSQL + Redis pair; stop it with `.stop()` or a `with` block.

    `provider` overrides LATTICE_PROVIDER. `detach=True` leaves the servers running after this
    process exits (for `services up --detach`); otherwise they die with the calling *thread*
    (PR_SET_PDEATHSIG), so call this from a thread that lives as long as the set is needed.
    """
    settings = _settings(settings)
    chosen = provider or settings.provider
    if chosen is not None and chosen not in PROVIDERS:
        raise ServiceUnavailable(
            f"lattice: unknown provider {chosen!r}; choose one of {', '.join(PROVIDERS)}"
        )

    removed = reap(
        settings,
        left=lambda record, failure: announce(
            f"lattice: abandoned set {record.id} left for a later `services reap`: its Docker engine "
            f"does not answer ({failure})"
        ),
    )
    if removed:
        announce(f"lattice: reaped {len(removed)} abandoned set(s): {', '.join(r.id for r in removed)}")

    if chosen in ("external", None) and not configured(settings):
        found = compose.urls(settings)
        if found is not None:
            try:
                service_set = start_external(compose.with_compose_urls(settings, found))
            except ServiceUnavailable as exc:
                if chosen == "external":
                    raise
                announce(f"lattice: {compose.COMPOSE_FILE}'s set skipped: {exc}")
            else:
                where = f"{compose.HOST}:{settings.compose_postgres_port}, :{settings.compose_redis_port}"
                announce(f"lattice: external provider: {compose.COMPOSE_FILE}'s servers ({where})")
                return service_set
    if chosen == "external" or (chosen is None and configured(settings)):
        return start_external(settings)
    if chosen == "containers":
        if detach:
            raise ServiceUnavailable("lattice: --detach works with the embedded and external providers only")
        return start_containers(settings, announce)
    if chosen is None:
        reason = engine_missing(settings)
        if reason is None and not detach:
            try:
                return start_containers(settings, announce)
            except ImagesUnavailable as exc:
                # Detected, not asked for: a missing image is a reason to move on, said once.
                announce(f"lattice: containers tier skipped: {exc.reason}; using the embedded tier")
        elif reason is not None:
            announce(f"lattice: containers tier skipped: no Docker engine ({reason})")
    return start_embedded(settings, announce, detach=detach)
