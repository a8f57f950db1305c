"""Layout of the lattice's state dir: run records, the binaries copy and the template cache."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path

from tools.lattice.services.base import ServiceUnavailable


@dataclass(frozen=True)
class StateDir:
    root: Path

    @property
    def runs(self) -> Path:
        return self.root / "runs"

    @property
    def binaries(self) -> Path:
        return self.root / "bin"

    @property
    def templates(self) -> Path:
        return self.root / "templates"


def open_state_dir(root: Path) -> StateDir:
    """Create (or check) the state dir; it must be ours, since we run what is cached in it."""
    for path in (root, root / "runs", root / "bin", root / "templates"):
        try:
            path.mkdir(mode=0o755, exist_ok=True)
        except OSError as exc:
            raise ServiceUnavailable(f"lattice: cannot create state dir {path}: {exc.strerror}") from None
    info = root.lstat()
    # A shared temp dir lets anyone pre-create our path; refuse a dir we do not own or a symlink.
    if stat.S_ISLNK(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o022:
        raise ServiceUnavailable(
            f"lattice: state dir {root} is a symlink, not owned by uid {os.geteuid()} or writable by others; "
            "remove it or set LATTICE_STATE_DIR"
        )
    return StateDir(root)
