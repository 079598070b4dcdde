{{ header }}
"""References to rows another service owns.

Functions of a serverless system do not call other services yet (their `depends_on` edges are not
lowered to calls), so no reference is checked here: a `ref` is a logical reference, kept as
written. The shared CRUD router takes the same arguments as in the other types.
"""

from collections.abc import Mapping
from typing import Any, NamedTuple

from fastapi import Request


class Ref(NamedTuple):
    """A field holding the key of `entity`, owned by `service`, looked up with `operation`."""

    field: str
    entity: str
    service: str
    operation: str


def verify(refs: tuple[Ref, ...], values: Mapping[str, Any], request: Request) -> None:
    """Nothing to check: no function is given references (see the module docstring)."""
    if refs:
        raise RuntimeError("serverless functions do not verify references")
