"""The generated SDK: sdk/retrace-client is openapi-python-client's output for the committed document.

`python -m tools.lattice gen` generates into a temporary directory and fails (exit 1) when the committed
tree differs; `--update` replaces the committed tree. The generator is pinned (0.29) and configured by
openapi/sdk-config.yaml, so the same document always gives the same files. The package version is the
document's `info.version` (the config sets no `package_version_override`), and both commands say which SDK
functions and models a breaking change since the branch left main changes the shape of.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import os
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path
from typing import Any

from tools.lattice.chain.document import DOCUMENT_PATH, REPO_ROOT, shown

SDK_DIR = REPO_ROOT / "sdk" / "retrace-client"
CONFIG_PATH = REPO_ROOT / "openapi" / "sdk-config.yaml"
PACKAGE = "retrace_client"
GENERATOR_VERSION = "0.29"
# Generator and formatter by-products that are not part of the client.
_IGNORED = {".ruff_cache", "__pycache__", ".mypy_cache", ".pytest_cache"}
_DIFF_LINES = 80


class SdkError(Exception):
    """Generation failed or the committed client is stale; the message says which and how."""


def _generator() -> list[str]:
    """The openapi-python-client beside this interpreter (a venv's bin/ is not always on PATH)."""
    beside = Path(sys.executable).parent / "openapi-python-client"
    if beside.exists():
        return [str(beside)]
    found = shutil.which("openapi-python-client")
    if found is None:
        raise SdkError(
            f"openapi-python-client is not installed; install openapi-python-client=={GENERATOR_VERSION}.*"
        )
    return [found]


def _check_version() -> None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        installed = version("openapi-python-client")
    except PackageNotFoundError:
        raise SdkError("openapi-python-client is not installed (pyproject extra `gen`)") from None
    if not installed.startswith(GENERATOR_VERSION + "."):
        raise SdkError(f"openapi-python-client {installed} found, the SDK is pinned to {GENERATOR_VERSION}.*")


def generate(into: Path, document: Path = DOCUMENT_PATH, config: Path = CONFIG_PATH) -> Path:
    """Generate the client for `document` into the new directory `into` and return it."""
    _check_version()
    env = dict(os.environ)
    # The generator's post hooks call `ruff`: the one installed beside this interpreter.
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    command = [
        *_generator(),
        "generate",
        "--path",
        str(document),
        "--config",
        str(config),
        # A PEP 621 project (uv_build): the client installs as a package of its own, a workspace member.
        "--meta",
        "uv",
        "--output-path",
        str(into),
        # Expected warnings: the `*/*` wildcard bodies (any attachment type) have no typed form.
        "--no-fail-on-warning",
    ]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=into.parent, check=False)
    if done.returncode != 0 or not (into / PACKAGE).is_dir():
        tail = (done.stderr or done.stdout).strip().splitlines()[-5:]
        raise SdkError("openapi-python-client failed: " + " | ".join(tail))
    for junk in _IGNORED:
        for path in into.rglob(junk):
            shutil.rmtree(path, ignore_errors=True)
    return into


def _files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if p.is_file() and not (_IGNORED & set(p.relative_to(root).parts))
    }


def compare_trees(committed: Path, fresh: Path) -> list[str]:
    """Lines describing how `committed` differs from `fresh` (missing, extra, changed files, diffs)."""
    have, want = (_files(committed) if committed.is_dir() else set()), _files(fresh)
    report = [f"missing: {name}" for name in sorted(want - have)]
    report += [f"not generated (stale): {name}" for name in sorted(have - want)]
    for name in sorted(have & want):
        if filecmp.cmp(committed / name, fresh / name, shallow=False):
            continue
        diff = list(
            difflib.unified_diff(
                (committed / name).read_text(encoding="utf-8").splitlines(keepends=True),
                (fresh / name).read_text(encoding="utf-8").splitlines(keepends=True),
                fromfile=f"{name} (committed)",
                tofile=f"{name} (generated)",
            )
        )
        report.append(f"changed: {name}")
        report += [line.rstrip("\n") for line in diff[:_DIFF_LINES]]
        if len(diff) > _DIFF_LINES:
            report.append(f"... {len(diff) - _DIFF_LINES} more diff lines")
    return report


def check(target: Path = SDK_DIR) -> list[str]:
    with tempfile.TemporaryDirectory(prefix="retrace-sdk-") as tmp:
        fresh = generate(Path(tmp) / "retrace-client")
        return compare_trees(target, fresh)


def update(target: Path = SDK_DIR) -> bool:
    """Regenerate the committed client; True when anything changed."""
    with tempfile.TemporaryDirectory(prefix="retrace-sdk-") as tmp:
        fresh = generate(Path(tmp) / "retrace-client")
        if target.is_dir() and not compare_trees(target, fresh):
            return False
        if target.exists():
            shutil.rmtree(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(fresh, target)
    return True


def sdk_version(target: Path = SDK_DIR) -> str | None:
    """The version the committed client's pyproject.toml declares (its PEP 621 [project] table)."""
    pyproject = target / "pyproject.toml"
    if not pyproject.exists():
        return None
    version = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("version")
    return str(version) if version is not None else None


def shape_report(target: Path, since: str | None = None) -> list[str]:
    """The package version against info.version, and the SDK consequence of each breaking change."""
    from tools.lattice.chain.document import committed_document
    from tools.lattice.chain.specdiff.command import version_policy
    from tools.lattice.chain.specdiff.sdknames import consequences

    document = committed_document()
    version = str(document.get("info", {}).get("version"))
    lines = []
    if (have := sdk_version(target)) != version:
        lines.append(f"the package version is {have}, info.version is {version} (regenerate)")
    result = version_policy(document, since)
    if result.base is not None:
        shape = consequences(result.changes, result.base.document)
        if shape:
            lines.append(f"SDK shape changes since {result.base.label} (one per breaking change):")
            lines += [f"  {line}" for line in shape]
    return lines


def _run(args: argparse.Namespace) -> int:
    from tools.lattice.chain.specdiff.document import DiffInputError
    from tools.lattice.chain.specdiff.levels import LevelsError

    target = Path(args.path)
    try:
        for line in shape_report(target, args.since):
            print(f"gen: {line}")
    except (DiffInputError, LevelsError) as exc:
        print(f"gen: {exc}", file=sys.stderr)
        return 2
    try:
        if args.update:
            changed = update(target)
            print(f"gen: {shown(target)} {'regenerated' if changed else 'already up to date'}")
            return 0
        report = check(target)
    except SdkError as exc:
        print(f"gen: {exc}", file=sys.stderr)
        return 1
    if report:
        print("\n".join(report))
        print(
            f"gen: {shown(target)} is stale against {shown(DOCUMENT_PATH)} (details above); "
            "run `python -m tools.lattice gen --update` and commit it",
            file=sys.stderr,
        )
        return 1
    print(f"gen: {shown(target)} matches {shown(DOCUMENT_PATH)}")
    return 0


def add_gen_commands(subparsers: Any) -> None:
    parser = subparsers.add_parser("gen", help="check (or --update) the generated SDK in sdk/retrace-client")
    parser.add_argument("--update", action="store_true", help="regenerate the committed client")
    parser.add_argument("--path", default=str(SDK_DIR), help="the committed client's directory")
    parser.add_argument(
        "--since", default=None, help="git ref to report SDK shape changes against (as `spec --since`)"
    )
    parser.set_defaults(handler=_run)
