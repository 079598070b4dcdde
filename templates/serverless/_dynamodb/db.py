{{ header }}
"""DynamoDB tables: one per entity, named by the function's environment (Terraform sets it).

Each service's models (`app/modules/<service>/models.py`) describe its tables as resolve designed
them: the key, the columns, the global secondary indexes, the references checked in another table
of the same database and the tables whose rows refer to these. boto3 comes with the Lambda runtime
and signs every call with the function's role; nothing here holds a credential.
"""

from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from app.config import get_settings


@dataclass(frozen=True)
class Index:
    """A global secondary index: `key` (the partition key) → the rows holding that value."""

    name: str
    key: str


@dataclass(frozen=True)
class RefCheck:
    """`column` holds the key of a row in another table (its setting) of the same database."""

    column: str
    setting: str
    key: str


@dataclass(frozen=True)
class Referrer:
    """Rows of `entity` (table setting) refer to this table's rows through `column`, found
    on `index`."""

    entity: str
    setting: str
    index: str
    column: str


@dataclass(frozen=True)
class Table:
    """One entity's table; `setting` is the settings field holding its name."""

    setting: str
    key: str
    key_type: type
    columns: tuple[str, ...]
    generated: tuple[tuple[str, str], ...] = ()
    indexes: tuple[Index, ...] = ()
    checks: tuple[RefCheck, ...] = ()
    referenced_by: tuple[Referrer, ...] = ()


@lru_cache
def resource() -> Any:
    """The DynamoDB resource, made once per cold start."""
    import boto3

    return boto3.resource("dynamodb")


def table(setting: str) -> Any:
    """The table whose name the settings field `setting` holds (its environment variable)."""
    return resource().Table(getattr(get_settings(), setting))
