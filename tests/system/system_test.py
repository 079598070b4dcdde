"""System test (PRODUCT §12): generate, start for real on loopback, walk the blueprint, stop.

    python tests/system/system_test.py --bin target/release/codex-system-design \
        --venv .venv-system [--examples ecommerce] [--types microservices monolith] [--only CHECK ...]
        [--mutate NAME] [--keep]

One line per check (`PASS|FAIL system <example>-<type> <check>: detail`), then the gaps, then
each failure again (`# failed: <example>-<type> <check>: first line`), then `N passed, M failed`. Exit 0 only when every check passed. Every process it started is stopped by
PID, also on failure and on Ctrl-C. `--mutate` breaks the generated tree on purpose before starting
it and inverts the verdict: the run passes only if the named check fails (the test of the test).
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import checks  # noqa: E402
import mutations  # noqa: E402
import serverless  # noqa: E402
import stack as stackmod  # noqa: E402
from procs import Supervisor  # noqa: E402

GAPS = Path(__file__).resolve().parent / "GAPS.md"


def declared_type(blueprint: str) -> str:
    """The `type:` a blueprint file declares (it runs as written)."""
    found = re.search(r"^type:\s*(\w+)", Path(blueprint).read_text(encoding="utf-8"), re.MULTILINE)
    return found.group(1) if found else "microservices"


def run_one(args: argparse.Namespace, example: str, arch: str, work: Path) -> list[tuple[str, bool, str]]:
    """One built-in example, or with `example` a path ending in .yaml one blueprint file, as written."""
    source = ["--blueprint", example] if example.endswith(".yaml") else ["--example", example]
    label = f"{Path(example).stem}-{arch}"
    root = work / label / "tree"
    run = work / label / "run"
    run.mkdir(parents=True)
    subprocess.run(
        [args.bin, *source, "--type", arch, "--scale", args.scale, "--quiet", "--out", str(root)],
        check=True,
    )
    mutation = None
    if args.mutate:
        mutation = mutations.MUTATIONS[args.mutate]
        mutation.apply(root)
    sup = Supervisor()
    results: list[tuple[str, bool, str]] = []
    try:
        wanted = set(args.only or []) | ({mutation.check} if mutation else set())
        if arch == "serverless":
            python = Path(args.venv) / "bin" / "python"
            results = serverless.run_serverless(root, run, python, Path(args.bin), label, sup, wanted or None)
        else:
            results = run_stack(args, root, run, sup, label, wanted, mutation.check if mutation else None)
    except Exception as exc:  # noqa: BLE001 - starting the system is a check of its own
        print(f"FAIL system {label} start: {type(exc).__name__}: {exc}", flush=True)
        results = [("start", False, str(exc))]
    finally:
        sup.stop_all()
    return [(f"{label} {name}", ok, detail) for name, ok, detail in finish(args, label, mutation, results)]


def run_stack(args: argparse.Namespace, root: Path, run: Path, sup: Supervisor, label: str,
              wanted: set[str], last: str | None = None) -> list[tuple[str, bool, str]]:
    """Start a microservices or monolith tree from its compose file and run the named checks, up to
    and including `last` when given (a mutation's verdict is in; what follows would only wait on
    what the mutation broke)."""
    tansu = Path(args.tansu) if args.tansu else None
    stack = stackmod.load(root, run, sup, Path(args.venv), Path(args.bin), tansu)
    start = time.monotonic()
    stack.start()
    print(f"# {label}: started {len(sup.procs)} processes in {time.monotonic() - start:.1f}s", flush=True)
    world = checks.World(stack, label)
    for name, fn in checks.CHECKS:
        if wanted and name not in wanted and name not in checks.ALWAYS:
            continue
        world.check(name, lambda fn=fn: fn(world))
        if name == last:
            break
    for gap in stack.gaps:
        print(f"# gap {label}: {gap}")
    return world.results


def finish(args: argparse.Namespace, label: str, mutation: mutations.Mutation | None,
           results: list[tuple[str, bool, str]]) -> list[tuple[str, bool, str]]:
    """The results, or with `--mutate` the one verdict: did the named check catch the breakage?"""
    if mutation:
        failed = {name for name, ok, _ in results if not ok}
        caught = mutation.check in failed or "start" in failed
        print(f"{'PASS' if caught else 'FAIL'} system {label} mutation-{args.mutate}: "
              f"{'caught by' if caught else 'NOT caught by'} {mutation.check}", flush=True)
        return [(f"mutation-{args.mutate}", caught, "")]
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bin", required=True)
    parser.add_argument("--venv", required=True)
    parser.add_argument("--examples", nargs="*", default=["ecommerce", "auth-service", "event-orders"])
    parser.add_argument("--types", nargs="+", default=["microservices", "monolith", "serverless"])
    parser.add_argument("--scale", default="small")
    parser.add_argument("--blueprints", nargs="*", default=[],
                        help="blueprint files run as written (their own type), beside the examples")
    parser.add_argument("--tansu", help="the Kafka-protocol broker binary (tansu)")
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--mutate", choices=sorted(mutations.MUTATIONS))
    parser.add_argument("--keep", action="store_true", help="keep the run folder (logs, trees)")
    parser.add_argument("--work", help="folder for trees and logs (default: a temporary one)")
    args = parser.parse_args()
    work = Path(args.work or tempfile.mkdtemp(prefix="systest-"))
    work.mkdir(parents=True, exist_ok=True)
    start = time.monotonic()
    results = []
    try:
        for example in args.examples:
            supported = subprocess.run([args.bin, "examples", "types", example], check=True,
                                       capture_output=True, text=True).stdout.split()
            for arch in args.types:
                if arch not in supported:
                    # Not run and not counted: the generator refuses the pair (tests/validate.rs
                    # and the conformance matrix check that refusal).
                    print(f"# not applicable: {example} is generated for {', '.join(supported)} only", flush=True)
                    continue
                results += run_one(args, example, arch, work)
        for blueprint in args.blueprints:
            arch = declared_type(blueprint)
            if arch not in args.types:
                print(f"# not selected: {blueprint} is a {arch} blueprint", flush=True)
                continue
            results += run_one(args, blueprint, arch, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
        else:
            print(f"# logs and trees kept in {work}")
    passed = sum(1 for _, ok, _ in results if ok)
    failed = len(results) - passed
    print(f"# system test took {time.monotonic() - start:.0f}s; known gaps: {GAPS}")
    # The failures again, last: a long run's output is often read from its end (CI keeps the tail).
    for name, ok, detail in results:
        if not ok:
            print(f"# failed: {name}: {detail.splitlines()[0][:300] if detail else ''}")
    print(f"{passed} passed, {failed} failed")
    return 0 if failed == 0 and passed > 0 else 1


if __name__ == "__main__":
    sys.exit(main())
