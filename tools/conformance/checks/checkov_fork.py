"""Runs checkov over several folders, importing it once: one forked child per folder.

usage: <checkov venv>/bin/python checkov_fork.py OUT_DIR CHECKOV_ARGS... -- FOLDER [FOLDER...]

Run by checks/checkov.py with checkov's own interpreter; it imports nothing of the conformance runner.

Why: importing checkov takes about 3.5 s of CPU, so one process per folder costs that much per tree; but one
checkov process given several `--directory` folders prints, after each folder, a JSON report that repeats every
earlier folder's results (1.5 GB of JSON for the 27 trees of the matrix). Here the parent imports checkov once
and forks a child per folder, which starts from the same freshly imported state a new `checkov` process has,
runs `checkov ARGS --directory FOLDER` and writes OUT_DIR/<n>.json and OUT_DIR/<n>.err. CHECKOV_FORK_JOBS children
run at once (default 1). When a folder is done the parent prints `<n> <exit status> <CPU seconds> <seconds>` on
stdout (the runner reads those lines to report tree by tree).
"""

from __future__ import annotations

import os
import sys
import time
import traceback
import warnings


def child(checkov_cls, args: list, folder: str, out: str, err: str) -> int:
    out_fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    err_fd = os.open(err, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
    os.dup2(out_fd, 1)
    os.dup2(err_fd, 2)
    sys.argv = ["checkov", *args, "--directory", folder]
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=SyntaxWarning)
            code = checkov_cls(sys.argv[1:]).run()  # what the `checkov` script does
        return code if isinstance(code, int) else 0
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
    except BaseException:  # noqa: BLE001 - reported through the exit status and the .err file
        traceback.print_exc()
        return 2
    finally:
        sys.stdout.flush()
        sys.stderr.flush()


def main(argv: list) -> int:
    if "--" not in argv or len(argv) < 3:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    sep = argv.index("--")
    out_dir, args, folders = argv[0], argv[1:sep], argv[sep + 1 :]
    here = os.path.dirname(os.path.abspath(__file__))  # holds checkov.py, the runner's module: not that one
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or ".") != here]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", category=SyntaxWarning)
        from checkov.main import Checkov
    jobs = max(1, int(os.environ.get("CHECKOV_FORK_JOBS", "1")))
    running: dict = {}  # pid -> (n, start time)
    pending = list(enumerate(folders))
    while pending or running:
        if pending and len(running) < jobs:
            n, folder = pending.pop(0)
            sys.stdout.flush()
            sys.stderr.flush()
            pid = os.fork()
            if pid == 0:
                code = 2
                try:
                    base = os.path.join(out_dir, str(n))
                    code = child(Checkov, args, folder, base + ".json", base + ".err")
                finally:
                    os._exit(code)
            running[pid] = (n, time.monotonic())
            continue
        pid, status, usage = os.wait4(-1, 0)
        if pid in running:
            n, began = running.pop(pid)
            cpu = usage.ru_utime + usage.ru_stime
            print(f"{n} {os.waitstatus_to_exitcode(status)} {cpu:.2f} {time.monotonic() - began:.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
