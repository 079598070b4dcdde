"""Checks are not run twice on identical inputs.

A check unit (one file for a per-file validator, a folder for pytest, ruff, terraform fmt, a migration set, a
kustomization, a whole tree for checkov...) gets a key: the validator and a digest of everything that validator
reads for that unit (see each validator's `*_key` function). The first unit with a key runs and its result lines
are recorded; a later unit with the same key (in another tree, or elsewhere in the same tree) does not run: the
recorded lines are emitted again for its own target, with the same status (a copy of a FAIL fails, a copy of a
SKIP skips) and the detail `same content as <first target>: <detail of the first>`. Known failures apply to the
copies' own targets. Keys are tuples whose first item is the validator; a key of None means "always run".
CONFORMANCE_DEDUP=0 turns all this off.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from dataclasses import dataclass, field

from .tree import Tree

SEP = "\0"


def digest(*parts) -> str:
    """sha256 of the parts (strings, or lists/tuples of them, nested)."""
    h = hashlib.sha256()

    def feed(part) -> None:
        if isinstance(part, list | tuple):
            h.update(b"[")
            for p in part:
                feed(p)
            h.update(b"]")
        else:
            h.update(str(part).encode("utf-8", "surrogateescape"))
            h.update(SEP.encode())

    feed(parts)
    return h.hexdigest()


class Digests:
    """Content digests of files and folders, computed once per path (the trees do not change during a run)."""

    def __init__(self):
        self._files: dict = {}
        self._lock = threading.Lock()

    def file(self, path: str) -> str:
        """Digest of a file's bytes; `dir`, `missing`, or `link:<target>` for what is not a readable file."""
        with self._lock:
            if path in self._files:
                return self._files[path]
        if os.path.islink(path):
            value = (
                "link:" + os.readlink(path) + ":" + (self.file(os.path.realpath(path)) if os.path.exists(path) else "")
            )
        elif os.path.isdir(path):
            value = "dir"
        elif not os.path.exists(path):
            value = "missing"
        else:
            h = hashlib.sha256()
            try:
                with open(path, "rb") as fh:
                    for block in iter(lambda: fh.read(1 << 20), b""):
                        h.update(block)
                value = h.hexdigest()
            except OSError as e:
                value = f"unreadable:{e.errno}"
        with self._lock:
            self._files[path] = value
        return value

    def folder(self, path: str, recursive: bool = True) -> str:
        """Digest of every entry under a folder (names relative to it and contents, empty folders and links
        included, nothing skipped); of its direct files only when not recursive. `missing` when it is none."""
        if not os.path.isdir(path):
            return self.file(path)
        entries = []
        for dirpath, dirnames, filenames in os.walk(path):
            rel_dir = os.path.relpath(dirpath, path)
            dirnames.sort()
            for name in sorted(filenames + [d for d in dirnames if os.path.islink(os.path.join(dirpath, d))]):
                entries.append((os.path.normpath(os.path.join(rel_dir, name)), self.file(os.path.join(dirpath, name))))
            if not recursive:
                entries += [(d + "/", "dir") for d in dirnames]
                break
            entries += [(os.path.normpath(os.path.join(rel_dir, d)) + "/", "dir") for d in dirnames]
        return digest(sorted(entries))

    def tree_file(self, tree: Tree, rel: str) -> str:
        return self.file(tree.path(rel))


@dataclass
class Record:
    tree: Tree
    anchor: str
    lines: list = field(default_factory=list)  # (status, validator, rel, detail)
    complete: bool = False


def moved(rel: str, old: str, new: str) -> str:
    """A target of the first unit (anchored at `old`) as the same target of a copy anchored at `new`."""
    if old == new:
        return rel
    if rel == old:
        return new
    if old == ".":
        return rel if new == "." else f"{new}/{rel}"
    for sep in ("/", ":"):
        if rel.startswith(old + sep):
            return new + rel[len(old) :]
    return rel


class Memo:
    def __init__(self, enabled: bool):
        self.enabled = enabled
        self.digests = Digests()
        self._owners: dict = {}  # key -> (tree index, anchor) of the first unit with that key
        self._records: dict = {}  # key -> Record
        self._local = threading.local()
        self._lock = threading.Lock()
        self.copied = 0  # result lines emitted as copies
        self.units = 0  # units not run again

    @staticmethod
    def norm(key) -> tuple:
        """(validator, digest of the rest): keys may hold lists."""
        return (key[0], digest(key[1:]))

    def claim(self, key, tree: Tree, anchor: str) -> bool:
        """True when this unit must run: dedup is off, it has no key, or it is the first unit with its key.
        Claiming again for the same unit gives the same answer (background jobs claim at start, report later)."""
        if not self.enabled or key is None:
            return True
        with self._lock:
            owner = self._owners.setdefault(self.norm(key), (tree.index, anchor))
        return owner == (tree.index, anchor)

    @contextlib.contextmanager
    def recording(self, key, tree: Tree, anchor: str):
        """Records every result line emitted on this thread inside the block as the lines of `key`."""
        if not self.enabled or key is None:
            yield
            return
        record = Record(tree, anchor)
        self._records[self.norm(key)] = record
        previous = getattr(self._local, "record", None)
        self._local.record = record
        try:
            yield
            record.complete = True
        finally:
            self._local.record = previous

    def note(self, status: str, validator: str, rel: str, detail: str) -> None:
        """Called by Context.emit for every result line."""
        record = getattr(self._local, "record", None)
        if record is not None:
            record.lines.append((status, validator, rel, detail))

    def copies(self, key, tree: Tree, anchor: str) -> list | None:
        """The lines to emit for a unit that did not run: (status, validator, rel, detail); None when the first
        unit has no record (it was never reported: the caller then runs the check itself)."""
        record = self._records.get(self.norm(key))
        if record is None:
            return None
        lines = []
        for status, validator, rel, detail in record.lines:
            note = f"same content as {record.tree.target(rel)}"
            lines.append(
                (status, validator, moved(rel, record.anchor, anchor), f"{note}: {detail}" if detail else note)
            )
        if not record.complete:
            first = record.tree.target(record.anchor)
            lines.append(
                ("FAIL", key[0], anchor, f"same content as {first}, whose check stopped with an internal error")
            )
        self.units += 1
        self.copied += len(lines)
        return lines
