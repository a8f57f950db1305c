"""A root filesystem as a list of entries, written as the tarball `docker import` takes.

Binaries bring the shared libraries `ldd` says they load (copied to the same paths, which are in the
dynamic loader's default search path), so the image needs no distribution underneath.
"""

from __future__ import annotations

import io
import os
import subprocess
import tarfile
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from tools.lattice.services.dockersetup.errors import SetupError

ELF_MAGIC = b"\x7fELF"


@dataclass(frozen=True)
class Entry:
    source: Path | None  # None: a directory, or a file given by `data`
    mode: int
    uid: int = 0
    gid: int = 0
    data: bytes | None = None


@dataclass
class RootFs:
    entries: dict[PurePosixPath, Entry] = field(default_factory=dict)

    def add_dir(self, dest: str, mode: int = 0o755, uid: int = 0, gid: int = 0) -> None:
        path = PurePosixPath(dest)
        for parent in reversed(path.parents):
            if str(parent) != "/" and parent not in self.entries:
                self.entries[parent] = Entry(None, 0o755)
        self.entries[path] = Entry(None, mode, uid, gid)

    def add_file(self, source: Path, dest: str, mode: int | None = None, uid: int = 0, gid: int = 0) -> None:
        path = PurePosixPath(dest)
        if path.parent not in self.entries and str(path.parent) != "/":
            self.add_dir(str(path.parent))
        real = source.resolve()
        self.entries[path] = Entry(real, mode if mode is not None else real.stat().st_mode & 0o7777, uid, gid)

    def add_text(self, dest: str, text: str, mode: int = 0o644) -> None:
        path = PurePosixPath(dest)
        if path.parent not in self.entries:
            self.add_dir(str(path.parent))
        self.entries[path] = Entry(None, mode, data=text.encode())

    def add_tree(
        self, source: Path, dest: str, *, skip: Iterable[str] = (), uid: int = 0, gid: int = 0
    ) -> list[Path]:
        """Copy a directory tree (files follow symlinks); returns the files added."""
        skipped = set(skip)
        added: list[Path] = []
        self.add_dir(dest, uid=uid, gid=gid)
        for parent, dirs, files in os.walk(source):
            dirs[:] = sorted(d for d in dirs if d not in skipped)
            relative = Path(parent).relative_to(source)
            here = PurePosixPath(dest) / relative.as_posix()
            if relative != Path("."):
                self.add_dir(str(here), mode=Path(parent).stat().st_mode & 0o7777, uid=uid, gid=gid)
            for name in sorted(files):
                if name in skipped:
                    continue
                file = Path(parent) / name
                self.add_file(file, str(here / name), uid=uid, gid=gid)
                added.append(file)
        return added

    def add_libraries_for(self, binaries: Iterable[Path], provided: Iterable[Path] = ()) -> None:
        """Add what `ldd` resolves for `binaries` outside the `provided` trees (already in the image)."""
        own = [p.resolve() for p in provided]
        for library in linked_libraries([b for b in binaries if is_elf(b)]):
            if any(library.resolve().is_relative_to(tree) for tree in own):
                continue
            self.add_file(library, str(library), mode=0o755)

    def size(self) -> int:
        return sum(
            (e.source.stat().st_size if e.source else len(e.data or b"")) for e in self.entries.values()
        )

    def write(self, tarball: Path) -> None:
        with tarfile.open(tarball, "w") as tar:
            for path, entry in sorted(self.entries.items()):
                info = tarfile.TarInfo(str(path).lstrip("/"))
                info.mode, info.uid, info.gid, info.mtime = entry.mode, entry.uid, entry.gid, 0
                if entry.source is None and entry.data is None:
                    info.type = tarfile.DIRTYPE
                    tar.addfile(info)
                elif entry.data is not None:
                    info.size = len(entry.data)
                    tar.addfile(info, io.BytesIO(entry.data))
                else:
                    assert entry.source is not None
                    info.size = entry.source.stat().st_size
                    with entry.source.open("rb") as content:
                        tar.addfile(info, content)


def is_elf(path: Path) -> bool:
    try:
        with path.open("rb") as file:
            return file.read(4) == ELF_MAGIC
    except OSError:
        return False


def linked_libraries(binaries: list[Path]) -> set[Path]:
    """Every library (and the dynamic loader) the binaries load, as `ldd` resolves them here."""
    found: set[Path] = set()
    for start in range(0, len(binaries), 64):
        batch = binaries[start : start + 64]
        done = subprocess.run(
            ["ldd", *map(str, batch)],
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "LC_ALL": "C"},
        )
        for line in done.stdout.splitlines():
            line = line.strip()
            if "=> not found" in line:
                raise SetupError(f"lattice: setup: a library is missing on this machine: {line}")
            if "=>" in line:
                target = line.split("=>", 1)[1].split("(")[0].strip()
            elif line.startswith("/") and "(" in line:
                target = line.split("(")[0].strip()  # the dynamic loader
            else:
                continue
            if target:
                found.add(Path(target))
    return found
