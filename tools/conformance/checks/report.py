"""Result lines, counting, and the known-failures list.

Every check ends as one line `STATUS VALIDATOR TARGET DETAIL`. A FAIL that a known-failures entry covers is
printed as XFAIL and counted apart; entries that covered nothing are listed as XPASS at the end.
"""

from __future__ import annotations

import fnmatch
import sys
from dataclasses import dataclass, field

MAX_DETAIL = 500


class UsageError(Exception):
    """Bad command line or configuration: exit status 2."""


@dataclass
class KnownFailure:
    validator: str
    pattern: str
    reason: str
    line: int
    hits: int = 0

    def covers(self, validator: str, targets: tuple[str, ...]) -> bool:
        if not fnmatch.fnmatchcase(validator, self.validator):
            return False
        return any(fnmatch.fnmatchcase(t, self.pattern) for t in targets)


def load_known_failures(path: str) -> list[KnownFailure]:
    """Lines `<validator> <glob on the target> # reason`; blank lines and comments are ignored."""
    entries = []
    try:
        with open(path, encoding="utf-8") as fh:
            lines = fh.read().splitlines()
    except OSError as e:
        raise UsageError(f"cannot read known-failures file {path}: {e.strerror}") from e
    for n, raw in enumerate(lines, 1):
        body, _, reason = raw.partition("#")
        words = body.split()
        if not words:
            continue
        if len(words) != 2:
            raise UsageError(f"{path}:{n}: expected '<validator> <glob> # reason', got {raw.strip()!r}")
        entries.append(KnownFailure(words[0], words[1], reason.strip(), n))
    return entries


def one_line(text: object) -> str:
    s = " ".join(str(text).split())
    return s if len(s) <= MAX_DETAIL else s[: MAX_DETAIL - 3] + "..."


@dataclass
class Reporter:
    known: list[KnownFailure] = field(default_factory=list)
    strict_xpass: bool = False
    out: object = sys.stdout
    counts: dict = field(default_factory=lambda: {"PASS": 0, "FAIL": 0, "SKIP": 0, "XFAIL": 0})
    copies: int = 0  # results taken over from an identical input checked earlier (dedup)

    def emit(
        self, status: str, validator: str, target: str, detail: str = "", aliases: tuple = (), copy: bool = False
    ) -> None:
        """Print one result. `aliases` are other spellings of the target that known failures may match; `copy`
        marks a result taken over from an identical input (it counts like any other)."""
        self.copies += copy
        if status == "FAIL":
            entries = [k for k in self.known if k.covers(validator, (target, *aliases))]
            for entry in entries:
                entry.hits += 1
            if entries:
                status = "XFAIL"
                detail = f"[known failure: {entries[0].reason or 'listed'}] {detail}"
        self.counts[status] += 1
        self._print(f"{status} {validator} {target} {one_line(detail)}".rstrip())

    def _print(self, line: str) -> None:
        print(line, file=self.out, flush=True)

    def finish(self, enabled) -> int:
        """Prints the XPASS notes and the summary; returns the exit status."""
        xpass = [k for k in self.known if k.hits == 0 and enabled(k.validator)]
        for k in xpass:
            self._print(
                f"XPASS {k.validator} {k.pattern} known failure did not occur (line {k.line}: "
                f"{k.reason or 'no reason given'}): remove it from the list"
            )
        failed = self.counts["FAIL"] + (len(xpass) if self.strict_xpass else 0)
        passed = self.counts["PASS"]
        if self.counts["XFAIL"]:
            self._print(f"({self.counts['XFAIL']} known failures)")
        if xpass:
            self._print(f"({len(xpass)} known failures did not occur)")
        self._print(f"({self.counts['SKIP']} skipped)")
        if self.copies:
            self._print(f"({self.copies} of these results copied from an identical input checked earlier: dedup)")
        self._print(f"{passed} passed, {failed} failed")
        ran = passed + self.counts["FAIL"] + self.counts["XFAIL"]
        return 0 if failed == 0 and ran > 0 else 1
