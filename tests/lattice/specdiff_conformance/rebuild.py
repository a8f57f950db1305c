"""Rebuild the conformance cases of `spec diff` from the two tools' own test suites, at pinned commits.

    python tests/lattice/specdiff_conformance/rebuild.py oasdiff GIT_DIR
    python tests/lattice/specdiff_conformance/rebuild.py openapi-diff GIT_DIR

GIT_DIR is a clone (bare or not) of github.com/oasdiff/oasdiff or github.com/OpenAPITools/openapi-diff
holding the commit pinned below. The script reads the tests at that commit, keeps the pairs whose
verdict the test states, copies each pair's documents (and the project's LICENSE/NOTICE) beside this
file and writes `<tool>/cases.json`. Tests never run it: they read what it wrote.

A pair is kept when the test diffs two different, unmodified files and says what the result is:
- oasdiff: the check ids it asserts (their levels from checker/rules.go; a verdict is breaking when one
  is `ERR`; levels asserted with `GetLevel()` count too), or that the changes asserted are all there is
  (`require.Empty`, `requireSingleChange`, `require.Len` as long as the ids named, ...).
  When the test ran one check (`singleCheckConfig`) and found nothing breaking, the case carries that
  check's ids as its `scope`: the verdict compared is over the changes `spec diff` maps to those ids.
  Tests that edit a loaded spec in Go, set options, or loop over several pairs are left out: their
  pair is not in a file.
- openapi-diff: `assertSpec*`/`assertOpenApi*` helpers (TestUtils.java) with the verdict the tool gives
  in its default configuration (a property the test switches on that is off by default reads compatible),
  and a compared pair whose `isCompatible()`/`isIncompatible()` as a whole the test asserts.
A pair whose documents use an external `$ref` or are Swagger 2.0 is left out: `spec diff` reads local
refs of OpenAPI 3 only; the count of pairs left out, by reason, is printed.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PINS = {
    "oasdiff": ("oasdiff/oasdiff", "4553c69d3869ee555ee4f00831d8cca6e1c208ff"),
    "openapi-diff": ("OpenAPITools/openapi-diff", "6ca25f4f2cbde69744913006381f14173418db37"),
}


class Repo:
    def __init__(self, git_dir: str, commit: str) -> None:
        self.git_dir, self.commit = git_dir, commit

    def _git(self, *args: str) -> str:
        done = subprocess.run(
            ["git", "--git-dir", self.git_dir, *args], capture_output=True, text=True, check=False
        )
        if done.returncode != 0:
            raise SystemExit(f"rebuild: git {' '.join(args)} failed: {done.stderr.strip()}")
        return done.stdout

    def files(self, under: str) -> list[str]:
        return self._git("ls-tree", "-r", "--name-only", self.commit, "--", under).split()

    def read(self, path: str) -> str:
        return self._git("show", f"{self.commit}:{path}")

    def has(self, path: str) -> bool:
        return path in self._git("ls-tree", "-r", "--name-only", self.commit, "--", path).split()


def _excluded_reason(text: str) -> str | None:
    if re.search(r"^swagger:", text, re.M) or '"swagger"' in text[:200]:
        return "Swagger 2.0"
    for ref in re.findall(r"""\$ref['"]?\s*:\s*['"]?([^'"\s}]+)""", text):
        if not ref.startswith("#"):
            return "external $ref"
    return None


# oasdiff ---------------------------------------------------------------------------------------------

_GO_FUNC = re.compile(r"^func (Test\w+)\(t \*testing\.T\) \{\n(.*?)^\}", re.M | re.S)
_GO_OPEN = re.compile(
    r'open\(\s*(?:"([^"]+)"|(\w+)\("([^"]+)"\))|LoadFromFile\("([^"]+)"\)'
    r"|\bl\(t, (\d+)\)|\bd\(t, ([^,]+), (\d+), (\d+)\)"
)
_GO_ID = re.compile(r"checker\.(\w+Id)\b")
_GO_CONFIG = re.compile(r"checker\.CheckBackwardCompatibility(UntilLevel)?\((\w+)\(([^()]*)\)")


def _oasdiff_levels(repo: Repo) -> tuple[dict[str, str], dict[str, str], dict[str, list[str]]]:
    """(Go constant → check id, check id → ERR/WARN/INFO, check function → the ids it reports)."""
    ids: dict[str, str] = {}
    for path in repo.files("checker"):
        if path.endswith(".go") and not path.endswith("_test.go"):
            ids |= dict(re.findall(r'^\s*(\w+Id)\s*=\s*"([^"]+)"', repo.read(path), re.M))
    rules = re.findall(
        r"newBackwardCompatibilityRule\((\w+Id), (ERR|WARN|INFO), (\w+)", repo.read("checker/rules.go")
    )
    levels = {ids[const]: level for const, level, _ in rules if const in ids}
    handlers: dict[str, list[str]] = {}
    for const, _, handler in rules:
        if const in ids:
            handlers.setdefault(handler, []).append(ids[const])
    return ids, levels, handlers


def oasdiff_cases(repo: Repo) -> tuple[list[dict[str, Any]], dict[str, int], list[str]]:
    ids, levels, handlers = _oasdiff_levels(repo)
    helpers = repo.read("checker/helpers_test.go")
    file_fns = dict(re.findall(r'(\w+)\s*=\s*dataFileFn\("([^"]+)"\)', helpers))
    cases: list[dict[str, Any]] = []
    left_out: dict[str, int] = {}

    def skip(reason: str) -> None:
        left_out[reason] = left_out.get(reason, 0) + 1

    for path in sorted(p for p in repo.files("checker") if p.endswith("_test.go")):
        for name, body in _GO_FUNC.findall(repo.read(path)):
            if "t.Run(" in body or re.search(r"^\s*for ", body, re.M):
                skip("several pairs in one test")
                continue
            files: list[str] = []
            for m in _GO_OPEN.finditer(body):
                if m.group(1):
                    files.append(m.group(1))
                elif m.group(2):
                    if m.group(2) not in file_fns:
                        break
                    files.append(f"../data/{file_fns[m.group(2)]}/{m.group(3)}")
                elif m.group(4):
                    files.append(m.group(4))
                elif m.group(5):
                    files.append(f"../data/openapi-test{m.group(5)}.yaml")
                else:
                    if m.group(6).strip() != "diff.NewConfig()":
                        files = []
                        break
                    files += [
                        f"../data/openapi-test{m.group(7)}.yaml",
                        f"../data/openapi-test{m.group(8)}.yaml",
                    ]
            if len(files) != 2 or files[0] == files[1]:
                skip("not two different files")
                continue
            if re.search(r"\bs[12]\.(Spec|[A-Z])|\.Spec\.", body) or "WithSeverityLevels" in body:
                skip("a spec edited in Go")
                continue
            configs = _GO_CONFIG.findall(body)
            if "d(t," in body:
                configs = [("", "allChecksConfig", "")]
            if (
                len(configs) != 1
                or configs[0][2].count("(")
                or (configs[0][1] == "allChecksConfig" and configs[0][2])
            ):
                skip("options or several checker runs")
                continue
            single = configs[0][1] == "singleCheckConfig"
            if single and "," in configs[0][2]:
                skip("options or several checker runs")
                continue
            asserted = [ids[c] for c in _GO_ID.findall(body) if c in ids]
            asserted += [i for i in re.findall(r'"([a-z][a-z0-9-]+)"', body) if i in levels]  # ids as text
            named = len([a for a in asserted if a in levels])  # one a change, repeats included
            asserted = [a for a in dict.fromkeys(asserted) if a in levels]
            no_change = re.findall(r"requireNoChange\(t, \w+, checker\.(\w+Id)\)", body)
            asserted = [a for a in asserted if a not in {ids.get(c) for c in no_change}]
            empty = re.search(r"require\.Empty\(t, errs\)|require\.Len\(t, errs, 0\)", body) is not None
            lengths = [int(n) for n in re.findall(r"require\.Len\(t, errs, (\d+)\)", body)]
            complete = (
                empty
                or re.search(r"requireSingleChange|requireSingleApiChange|requireApiChanges", body)
                or (lengths and lengths[0] in (len(asserted), named))  # as many changes as ids named
            )
            if empty and asserted:
                skip("asserts both nothing and a change")
                continue
            stated = re.findall(
                r"require\.Equal\(t, checker\.(ERR|WARN|INFO), \w+(?:\[\d+\])?\.GetLevel\(\)", body
            )
            if any(levels[a] == "ERR" for a in asserted) or "ERR" in stated:
                expected = "breaking"
            elif complete or (stated and lengths and lengths[0] == len(stated)):  # all levels stated
                expected = "compatible"
            else:
                skip("verdict not stated")
                continue
            pair = [f.removeprefix("../data/") for f in files]
            cases.append(
                {
                    "name": f"{Path(path).stem}.{name}",
                    "base": pair[0],
                    "revision": pair[1],
                    "expected": expected,
                    "ids": {a: levels[a] for a in asserted},
                }
            )
            if single and expected == "compatible" and not stated:
                # One check ran: its silence speaks for the ids it reports, not for the whole pair.
                cases[-1]["scope"] = sorted(handlers.get(configs[0][2].removeprefix("checker."), []))
                if not cases[-1]["scope"]:
                    cases.pop()
                    skip("check function not found in rules.go")
    return cases, left_out, sorted(ids.values())


# openapi-diff ----------------------------------------------------------------------------------------

_JAVA_CONST = re.compile(r'String\s+(\w+)\s*=\s*"([^"]+)"\s*;')
_JAVA_METHOD = re.compile(r"public void (\w+)\(\)")
_JAVA_ASSERT = re.compile(
    r"\b(assertSpecUnchanged|assertSpecChangedButCompatible|assertSpecIncompatible|assertOpenApiAreEquals|"
    r"assertOpenApiBackwardCompatible|assertOpenApiBackwardIncompatible)\(\s*([\w\"./-]+)\s*,\s*([\w\"./-]+)"
)
_JAVA_COMPARE = re.compile(
    r"ChangedOpenApi\s+(\w+)\s*=\s*OpenApiCompare\.fromLocations\(\s*([\w\"./-]+)\s*,\s*([\w\"./-]+)\s*\)"
)
_COMPATIBLE = {
    "assertSpecUnchanged",
    "assertSpecChangedButCompatible",
    "assertOpenApiAreEquals",
    "assertOpenApiBackwardCompatible",
}
RESOURCES = "core/src/test/resources"


def openapi_diff_cases(repo: Repo) -> tuple[list[dict[str, Any]], dict[str, int]]:
    props = dict(
        re.findall(
            r"^\s*([A-Z_0-9]+)\(\s*\"[^\"]+\",\s*(true|false)\)",
            repo.read(
                "core/src/main/java/org/openapitools/openapidiff/core/model/BackwardIncompatibleProp.java"
            ),
            re.M,
        )
    )
    cases: list[dict[str, Any]] = []
    left_out: dict[str, int] = {}
    for path in sorted(p for p in repo.files("core/src/test/java") if p.endswith("Test.java")):
        text = repo.read(path)
        consts = dict(_JAVA_CONST.findall(text))
        methods = [(m.start(), m.group(1)) for m in _JAVA_METHOD.finditer(text)]
        for m in _JAVA_COMPARE.finditer(text):  # a ChangedOpenApi whose whole verdict is asserted
            var, a, b = m.groups()
            if not any(s < m.start() for s, _ in methods):
                continue  # in a field or helper, not a test
            start = max(s for s, _ in methods if s < m.start())
            end = min([s for s, _ in methods if s > m.start()] or [len(text)])
            body = text[start:end]
            verdict = rf"assertThat\({var}\.is(Incompatible|Compatible)\(\)\)\.is(True|False)\(\)"
            said = re.findall(verdict, body)
            if body.count("fromLocations(") != 1 or len(set(said)) != 1:
                continue
            if not all(x in consts or x.startswith('"') for x in (a, b)):
                continue
            (which, truth), base, revision = said[0], *(consts.get(x, x.strip('"')) for x in (a, b))
            if base == revision:
                continue
            incompatible = (which == "Incompatible") == (truth == "True")
            method = [n for s, n in methods if s < m.start()][-1]
            cases.append(
                {
                    "name": f"{Path(path).stem}.{method}",
                    "base": base,
                    "revision": revision,
                    "expected": "breaking" if incompatible else "compatible",
                }
            )
        for m in _JAVA_ASSERT.finditer(text):
            helper, a, b = m.groups()
            if not all(x in consts or x.startswith('"') for x in (a, b)):
                left_out["documents built in Java"] = left_out.get("documents built in Java", 0) + 1
                continue
            base, revision = (consts.get(x, x.strip('"')) for x in (a, b))
            if base == revision:
                left_out["the same file on both sides"] = left_out.get("the same file on both sides", 0) + 1
                continue
            method = [n for start, n in methods if start < m.start()][-1]
            body_end = min([s for s, _ in methods if s > m.start()] or [len(text)])
            body_start = max(s for s, _ in methods if s < m.start())
            case: dict[str, Any] = {
                "name": f"{Path(path).stem}.{method}",
                "base": base,
                "revision": revision,
            }
            if helper in _COMPATIBLE:
                case["expected"] = "compatible"
            elif helper == "assertOpenApiBackwardIncompatible":
                case["expected"] = "breaking"
            else:
                named = [p for p in props if re.search(rf"\b{p}\b", text[body_start:body_end])]
                if len(named) != 1:
                    left_out["property not found"] = left_out.get("property not found", 0) + 1
                    continue
                case["property"] = named[0]
                case["expected"] = "breaking" if props[named[0]] == "true" else "compatible"
            if any(c["name"] == case["name"] for c in cases):
                case["name"] += f"#{sum(c['name'].startswith(case['name']) for c in cases) + 1}"
            cases.append(case)
    return cases, left_out


# Both ------------------------------------------------------------------------------------------------


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in PINS:
        print(__doc__, file=sys.stderr)
        return 2
    tool, git_dir = argv
    slug, commit = PINS[tool]
    repo = Repo(git_dir, commit)
    out = HERE / tool
    if out.exists():
        shutil.rmtree(out)
    (out / "data").mkdir(parents=True)
    oasdiff_ids: list[str] = []
    if tool == "oasdiff":
        cases, left_out, oasdiff_ids = oasdiff_cases(repo)
        prefix = "data"
    else:
        cases, left_out = openapi_diff_cases(repo)
        prefix = RESOURCES
    kept = []
    for case in cases:
        texts = {side: repo.read(f"{prefix}/{case[side]}") for side in ("base", "revision")}
        reason = next((r for r in map(_excluded_reason, texts.values()) if r), None)
        if reason:
            left_out[reason] = left_out.get(reason, 0) + 1
            continue
        for side, text in texts.items():
            target = out / "data" / case[side]
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
            case[side] = f"data/{case[side]}"
        kept.append(case)
    for name in ("LICENSE", "NOTICE"):
        if repo.has(name):
            (out / name).write_text(repo.read(name), encoding="utf-8")
    table = {"source": f"https://github.com/{slug}", "commit": commit, "cases": kept}
    if oasdiff_ids:
        table["check_ids"] = oasdiff_ids
        ids_file = HERE.parents[2] / "tools" / "lattice" / "specdiff" / "oasdiff_ids.txt"
        header = (
            f"# oasdiff's check ids (github.com/{slug}, checker/*.go at {commit[:12]}), one a line:\n"
            "# a `spec diff` change whose id is here, or an alias of one (oasdiff.py), reports it as\n"
            "# `oasdiff_id`. Rewritten by tests/lattice/specdiff_conformance/rebuild.py; a test holds it\n"
            "# equal to the vendored table.\n"
        )
        ids_file.write_text(header + "\n".join(oasdiff_ids) + "\n", encoding="utf-8")
    (out / "cases.json").write_text(json.dumps(table, indent=1) + "\n", encoding="utf-8")
    print(f"{tool}: {len(kept)} pairs kept; left out: {json.dumps(left_out, sort_keys=True)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
