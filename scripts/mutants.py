"""Mutation spot-checks: does some test notice when one rule that matters is broken?

Each mutant in scripts/mutants.toml names a file, an exact snippet of one line in it, its
replacement, and the tests that should notice. They are applied one at a time to a scratch copy
of the tree (never to this one, even on Ctrl-C), and only the named tests run, with the
project's .venv but the scratch copy first on PYTHONPATH (checked before anything runs: the
.venv holds an editable install of the real tree). A mutant is killed when a test fails; the
table names the first failing test, and that test is then run on the unmutated copy (a kill by
a test that fails anyway is "unconfirmed"). Exit status 0 only when every mutant is killed.

    scripts/mutants.sh                      # all of them
    scripts/mutants.sh --only csrf          # names or areas containing "csrf"
    scripts/mutants.sh --list               # the list, nothing run
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIST = ROOT / "scripts" / "mutants.toml"
PYTHON = ROOT / ".venv" / "bin" / "python"
# pytest's short summary ("-ra"): the first FAILED/ERROR line names the test that noticed.
# A node id may hold spaces (parametrized texts): it ends at " - " (the message) or the line.
# Read only from the short test summary: captured log lines also start with "ERROR".
FAILURE = re.compile(r"^(?:FAILED|ERROR) (.+?)(?: - .*)?$", re.MULTILINE)
SUMMARY = "short test summary info"
SHOWN = 100  # characters of a test id in the table


def failures(out: str) -> list[str]:
    """The failing test ids of pytest's -ra summary, in order."""
    _, found, summary = out.rpartition(SUMMARY)
    return FAILURE.findall(summary) if found else []


@dataclass(frozen=True)
class Mutant:
    name: str
    area: str
    file: str
    original: str
    replacement: str
    tests: tuple[str, ...]
    k: str = ""
    occurrence: int = 0  # 0: the snippet must occur exactly once; n: its n-th occurrence
    note: str = ""

    def apply(self, text: str) -> str:
        """`text` with this mutant's snippet replaced; ValueError when it is not found as
        described (the code moved on: update mutants.toml)."""
        if "\n" in self.original or "\n" in self.replacement:
            raise ValueError("a mutant changes one line: no newline in original/replacement")
        count = text.count(self.original)
        if self.occurrence == 0 and count != 1:
            raise ValueError(f"snippet found {count} times in {self.file} (want exactly 1; "
                             "or give `occurrence`)")
        wanted = self.occurrence or 1
        if count < wanted:
            raise ValueError(f"snippet found {count} times in {self.file}, want #{wanted}")
        start = -1
        for _ in range(wanted):
            start = text.index(self.original, start + 1)
        return text[:start] + self.replacement + text[start + len(self.original):]


@dataclass
class Result:
    mutant: Mutant
    status: str  # killed | survived | timeout | unconfirmed | broken
    by: str = ""
    seconds: float = 0.0
    output: list[str] = field(default_factory=list)


def load(path: Path) -> list[Mutant]:
    with path.open("rb") as f:
        mutants = [Mutant(**{**entry, "tests": tuple(entry["tests"])})
                   for entry in tomllib.load(f)["mutant"]]
    names = [m.name for m in mutants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SystemExit(f"mutants.toml: duplicate names {duplicates}")
    return mutants


def scratch_copy() -> Path:
    """A copy of the tree as it is now (tracked and new files, not .venv, var/ or caches)."""
    scratch = Path(tempfile.mkdtemp(prefix="reminders-mutants-"))
    listed = subprocess.run(["git", "ls-files", "-z", "--cached", "--others",
                             "--exclude-standard"], cwd=ROOT, check=True,
                            capture_output=True).stdout.decode().split("\0")
    for rel in filter(None, listed):
        source = ROOT / rel
        if source.is_file():  # a tracked file deleted in the work tree is left out
            target = scratch / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, target)
    return scratch


def environment(scratch: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(scratch), env.get("PYTHONPATH", "")]).rstrip(
        os.pathsep)
    # No .pyc files: a mutant and the restored original may share a size and an mtime second.
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env.pop("REDIS_URL", None)  # the tests start their own redis-server
    return env


def check_imports(scratch: Path, env: dict[str, str]) -> None:
    probe = ("import reminders, testing, tests; "
             "print(reminders.__file__); print(testing.__file__); print(tests.__file__)")
    found = subprocess.run([str(PYTHON), "-c", probe], cwd=scratch, env=env, check=True,
                           capture_output=True, text=True).stdout.split()
    for path in found:
        if not Path(path).resolve().is_relative_to(scratch.resolve()):
            raise SystemExit(f"mutants: {path} is imported instead of the scratch copy "
                             f"under {scratch}; the mutants would not be tested")


def run_tests(scratch: Path, env: dict[str, str], tests: tuple[str, ...], k: str,
              timeout: float) -> tuple[int | None, str]:
    """pytest's exit code (None on timeout) and its output."""
    command = [str(PYTHON), "-m", "pytest", "-x", "-q", "-p", "no:cacheprovider", *tests]
    if k:
        command += ["-k", k]
    proc = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout)
        return proc.returncode, out
    except subprocess.TimeoutExpired:
        _stop(proc)
        return None, ""
    except BaseException:  # Ctrl-C: pytest and the redis-servers it started go too
        _stop(proc)
        raise


def _stop(proc: subprocess.Popen[str]) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    except ProcessLookupError:
        pass


def judge(mutant: Mutant, code: int | None, out: str, seconds: float) -> Result:
    tail = out.strip().splitlines()[-15:]
    if code is None:
        return Result(mutant, "timeout", "", seconds, tail)
    if code == 0:
        return Result(mutant, "survived", "", seconds, tail)
    failed = failures(out)
    if code == 1 and failed:
        return Result(mutant, "killed", failed[0], seconds, tail)
    # 2: collection error or interrupted, 4: usage, 5: no tests collected
    return Result(mutant, "broken", f"pytest exit {code}", seconds, tail)


def mutate_and_run(mutant: Mutant, scratch: Path, env: dict[str, str],
                   timeout: float) -> Result:
    target = scratch / mutant.file
    original = target.read_text(encoding="utf-8")
    try:
        mutated = mutant.apply(original)
    except ValueError as exc:
        return Result(mutant, "broken", str(exc))
    started = time.monotonic()
    target.write_text(mutated, encoding="utf-8")
    try:
        code, out = run_tests(scratch, env, mutant.tests, mutant.k, timeout)
    finally:
        target.write_text(original, encoding="utf-8")
    return judge(mutant, code, out, time.monotonic() - started)


def confirm(scratch: Path, env: dict[str, str], results: list[Result], timeout: float) -> None:
    """A kill counts only if the killing test passes on the unmutated tree: one pytest run of
    every killing test, without -x. A test that fails there too (flaky, or broken by other
    means) turns its mutants into 'unconfirmed'."""
    killers = sorted({r.by for r in results if r.status == "killed"})
    if not killers:
        return
    command = [str(PYTHON), "-m", "pytest", "-q", "-p", "no:cacheprovider", *killers]
    proc = subprocess.Popen(command, cwd=scratch, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=timeout * 2)
    except BaseException:
        _stop(proc)
        raise
    failing = set(failures(out))
    if proc.returncode not in (0, 1) or (proc.returncode == 1 and not failing):
        failing = set(killers)  # nothing can be trusted: a collection error, a crash
    for r in results:
        if r.status == "killed" and r.by in failing:
            r.status = "unconfirmed"


def table(results: list[Result]) -> str:
    width = max(len(r.mutant.name) for r in results)
    area = max(len(r.mutant.area) for r in results)
    lines = [f"{'mutant':<{width}}  {'area':<{area}}  {'result':<11}  {'s':>5}  killed by",
             "-" * (width + area + 40)]
    for r in results:
        lines.append(f"{r.mutant.name:<{width}}  {r.mutant.area:<{area}}  {r.status:<11}  "
                     f"{r.seconds:5.1f}  {_shown(r.by)}")
    return "\n".join(lines)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def _shown(test_id: str) -> str:
    return test_id if len(test_id) <= SHOWN else test_id[:SHOWN - 3] + "..."


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", action="append", default=[],
                        help="run the mutants whose name or area contains this (repeatable)")
    parser.add_argument("--list", action="store_true", help="print the mutants, run nothing")
    parser.add_argument("--timeout", type=float, default=120.0,
                        help="seconds per mutant (default 120): a hang counts as a timeout")
    parser.add_argument("--file", type=Path, default=LIST, help="the mutant list")
    parser.add_argument("-v", "--verbose", action="store_true",
                        help="print pytest's last lines for survivors and broken mutants")
    args = parser.parse_args(argv)

    mutants = [m for m in load(args.file)
               if not args.only or any(o in m.name or o in m.area for o in args.only)]
    if not mutants:
        print("mutants: nothing matches", file=sys.stderr)
        return 1
    if args.list:
        for m in mutants:
            note = f"  ({m.note})" if m.note else ""
            print(f"{m.name:<34} {m.area:<14} {m.file}{note}")
        return 0
    if not PYTHON.exists():
        print("mutants: no .venv; run `make bootstrap` first", file=sys.stderr)
        return 1

    # Ctrl-C, or a TERM from CI, stops the run and cleans up (also when started in the
    # background, where SIGINT would otherwise be ignored).
    signal.signal(signal.SIGINT, _interrupt)
    signal.signal(signal.SIGTERM, _interrupt)
    started = time.monotonic()
    scratch = scratch_copy()
    try:
        env = environment(scratch)
        check_imports(scratch, env)
        print(f"mutants: {len(mutants)} mutants, scratch copy {scratch}", flush=True)
        results = []
        for mutant in mutants:
            result = mutate_and_run(mutant, scratch, env, args.timeout)
            results.append(result)
            print(f"  {result.status:<8} {mutant.name} {result.by}", flush=True)
            if args.verbose and result.status in ("survived", "broken"):
                print("    " + "\n    ".join(result.output))
        confirm(scratch, env, results, args.timeout)
    except KeyboardInterrupt:
        print("\nmutants: interrupted (the work tree was never changed)", file=sys.stderr)
        return 130
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    print()
    print(table(results))
    counts = {s: sum(r.status == s for r in results)
              for s in ("killed", "survived", "timeout", "unconfirmed", "broken")}
    print("\n" + ", ".join(f"{n} {s}" for s, n in counts.items())
          + f", of {len(results)}; {time.monotonic() - started:.0f} s")
    return 0 if counts["killed"] == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())
