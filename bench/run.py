#!/usr/bin/env python3
"""Whole-process benchmark: wall time and peak RSS of the release binary on the synthetic
blueprint (tests/support/synth.rs, printed by `cargo run --release --example synth -- N`).

For each N (default 10 50 200 1000) it measures, RUNS times each (default 5), in one temp folder:
  fresh     generate into an empty folder
  no-op     `generate` again with nothing changed
  one-svc   `generate` after one service's entity gained a field (a code change and a migration),
            in a copy of the fresh tree (file times kept, as `cp -a` keeps them)
  validate  `validate` of the blueprint
  check     `check` of the generated tree (every YAML file and Terraform module in it)
  check deploy  `check deploy`: the Kubernetes/Istio/compose layer alone
  cp -r     copying the generated tree (without the state folder), the physical floor for
            writing that many files on this disk
and prints a Markdown table of median wall times (median CPU time, user + system, in brackets:
the figure to compare on a machine other work is loading) and the largest peak RSS seen.

Peak RSS is the child's own `ru_maxrss` from wait4(2), so it is per process and needs no tools.
Page cache is warm (every run reads what the previous one wrote), which is also how users run it.

Usage: python3 bench/run.py [--runs R] [--dir DIR] [--json FILE] [--bin BIN] [--only KIND,...] [N ...]
  --dir   where the trees are written (default: the system temp folder); e.g. /dev/shm to take
          the disk out of the figures
  --bin   the binary to measure (default: target/release/codex-system-design), e.g. an older
          build to compare with
  --only  measure only these kinds (e.g. `--only check,check deploy`); `fresh` always runs, as
          the other kinds need its tree
"""
import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.path.join(ROOT, "target", "release", "codex-system-design")
SYNTH = os.path.join(ROOT, "target", "release", "examples", "synth")


def build():
    subprocess.run(
        ["cargo", "build", "--release", "-q", "--bin", "codex-system-design", "--example", "synth"],
        cwd=ROOT,
        check=True,
    )


def run(argv, cwd=None):
    """Run argv; return (seconds, peak RSS in MiB, CPU seconds). Fails loudly on a non-zero exit."""
    # stderr goes to a file, not a pipe: a pipe is read only after the wait, so a child writing
    # more than the pipe holds (validate's notes on 200 services) would block for ever.
    with tempfile.TemporaryFile() as errfile:
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, stdout=subprocess.DEVNULL, stderr=errfile)
        _, status, usage = os.wait4(proc.pid, 0)
        elapsed = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        errfile.seek(0)
        err = errfile.read().decode(errors="replace")
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} exited {proc.returncode}:\n{err}")
    return elapsed, usage.ru_maxrss / 1024, usage.ru_utime + usage.ru_stime


def files_in(tree):
    return sum(len(fs) for d, _, fs in os.walk(tree) if ".codex-system-design" not in d)


def edit_one_service(blueprint_path):
    """Give the middle service's entity one more field."""
    with open(blueprint_path) as f:
        text = f.read()
    lines = text.split("\n")
    entities = [i for i, l in enumerate(lines) if l.startswith("  Item") and l.endswith(":")]
    at = entities[len(entities) // 2] + 2  # after `fields:` and `id: uuid pk`
    lines.insert(at, "      note: text nullable")
    with open(blueprint_path, "w") as f:
        f.write("\n".join(lines))


KINDS = ("fresh", "no-op", "one-svc", "validate", "check", "check deploy", "cp -r")


def measure(n, runs, work, only):
    bp = os.path.join(work, f"synth{n}.yaml")
    with open(bp, "w") as f:
        f.write(subprocess.run([SYNTH, str(n)], check=True, capture_output=True, text=True).stdout)
    out = os.path.join(work, "out")
    edited = os.path.join(work, "edited")
    copy = os.path.join(work, "copy")
    plain = os.path.join(work, "plain")  # the tree without the tool's state folder
    samples = {k: [] for k in KINDS if k == "fresh" or only is None or k in only}
    for _ in range(runs):
        shutil.rmtree(out, ignore_errors=True)
        samples["fresh"].append(run([BIN, "-q", "--blueprint", bp, "--out", out]))
        if "no-op" in samples:
            samples["no-op"].append(run([BIN, "generate", "-q"], cwd=out))
        if "one-svc" in samples:
            shutil.rmtree(edited, ignore_errors=True)
            shutil.copytree(out, edited)
            edit_one_service(os.path.join(edited, "blueprint.yaml"))
            samples["one-svc"].append(run([BIN, "generate", "-q"], cwd=edited))
        if "validate" in samples:
            samples["validate"].append(run([BIN, "validate", "-f", bp]))
        # `check` exits non-zero on a finding, so these also prove the tree is clean.
        if "check" in samples:
            samples["check"].append(run([BIN, "check", "."], cwd=out))
        if "check deploy" in samples:
            samples["check deploy"].append(run([BIN, "check", "deploy"], cwd=out))
        if "cp -r" in samples:
            if not os.path.exists(plain):
                shutil.copytree(out, plain, ignore=shutil.ignore_patterns(".codex-system-design"))
            shutil.rmtree(copy, ignore_errors=True)
            samples["cp -r"].append(run(["cp", "-r", plain, copy]))
    files = files_in(out)
    size = sum(
        os.path.getsize(os.path.join(d, f))
        for d, _, fs in os.walk(out)
        if ".codex-system-design" not in d
        for f in fs
    )
    for p in (out, edited, copy, plain):
        shutil.rmtree(p, ignore_errors=True)
    row = {"services": n, "files": files, "bytes": size}
    for k, v in samples.items():
        times = [t for t, _, _ in v]
        row[k] = {
            "median_ms": statistics.median(times) * 1000,
            "min_ms": min(times) * 1000,
            "cpu_ms": statistics.median(c for _, _, c in v) * 1000,
            "peak_rss_mib": max(r for _, r, _ in v),
        }
    return row


def table(rows):
    kinds = [k for k in KINDS if k in rows[0]]
    full = all(k in kinds for k in ("no-op", "cp -r"))
    extra = ["fresh ÷ cp -r", "no-op ÷ fresh"] if full else []
    if "one-svc" in kinds:
        extra.append("one-svc ÷ fresh")
    head = "| services | files | " + " | ".join(kinds + extra + ["fresh per service", "peak RSS"]) + " |"
    lines = [head, "|" + "---|" * (len(kinds) + len(extra) + 4)]
    for r in rows:
        cells = [f"{r[k]['median_ms']:.1f} ms ({r[k]['cpu_ms']:.0f} ms CPU)" for k in kinds]
        if full:
            cells.append(f"{r['fresh']['median_ms'] / r['cp -r']['median_ms']:.2f}")
            cells.append(f"{r['no-op']['median_ms'] / r['fresh']['median_ms']:.2f}")
        if "one-svc" in kinds:
            cells.append(f"{r['one-svc']['median_ms'] / r['fresh']['median_ms']:.2f}")
        per = r["fresh"]["median_ms"] / r["services"]
        rss = max(r[k]["peak_rss_mib"] for k in kinds if k != "cp -r")
        lines.append(
            f"| {r['services']} | {r['files']} | " + " | ".join(cells) + f" | {per:.2f} ms | {rss:.1f} MiB |"
        )
    return "\n".join(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("sizes", nargs="*", type=int, default=[10, 50, 200, 1000])
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--json", help="also write the figures to this file")
    ap.add_argument("--no-build", action="store_true", help="use the release binaries as they are")
    ap.add_argument("--dir", help="folder to work in (default: the system temp folder)")
    ap.add_argument("--bin", help="binary to measure (default: the release build of this checkout)")
    ap.add_argument("--only", help="comma-separated kinds to measure besides `fresh`")
    args = ap.parse_args()
    global BIN
    if args.bin:
        BIN = os.path.abspath(args.bin)
    only = set(args.only.split(",")) if args.only else None
    if only and not only <= set(KINDS):
        sys.exit(f"--only: unknown kind(s) {sorted(only - set(KINDS))}; known: {', '.join(KINDS)}")
    if not args.no_build:
        build()
    rows = []
    with tempfile.TemporaryDirectory(prefix="cs-bench-", dir=args.dir) as work:
        for n in args.sizes:
            rows.append(measure(n, args.runs, work, only))
            print(f"measured {n} services", file=sys.stderr)
    where = args.dir or tempfile.gettempdir()
    print(f"median of {args.runs} runs; release build; {os.cpu_count()} CPUs; trees in {where}; warm page cache\n")
    print(table(rows))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=2)


if __name__ == "__main__":
    main()
