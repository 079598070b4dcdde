{{ header }}
{% if svc.database and svc.database.mysql -%}
"""Database engine and sessions (SQLAlchemy 2 with PyMySQL, on MySQL 8 or MariaDB)."""

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from pymysql.constants import FIELD_TYPE
from pymysql.converters import conversions, convert_datetime, escape_datetime
from sqlalchemy import URL, Engine, create_engine, event, make_url, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.config import Settings, get_settings


class Base(DeclarativeBase):
    """Declarative base of every table of this service."""


# The RDS CA bundle a cloud pod mounts: `tls=true` in the URL checks the server against it.
RDS_CA_FILE = "{{ m.transport.rds_ca_file }}"

# Error numbers of a statement stopped for running over its limit: MariaDB's
# `max_statement_time` (1969) and MySQL's `max_execution_time` (3024).
QUERY_CANCELED = (1969, 3024)


def utc_from_server(value: Any) -> Any:
    """A `DATETIME` read back as the UTC instant it holds (MySQL stores no offset)."""
    parsed = convert_datetime(value)
    return parsed.replace(tzinfo=UTC) if isinstance(parsed, datetime) else parsed


def utc_to_server(value: datetime, mapping: Any = None) -> str:
    """An instant written as its UTC wall time (the driver would drop any other offset)."""
    if value.tzinfo is not None:
        value = value.astimezone(UTC).replace(tzinfo=None)
    return escape_datetime(value, mapping)


# The driver's conversions, with instants kept in UTC both ways, as PostgreSQL's TIMESTAMPTZ.
CONVERSIONS = {
    **conversions,
    FIELD_TYPE.DATETIME: utc_from_server,
    datetime: utc_to_server,
}


def sqlalchemy_url(url: str) -> tuple[URL, dict[str, Any]]:
    """The SQLAlchemy URL (PyMySQL driver) and PyMySQL's TLS settings of a `mysql://` URL.

    The Secret's URL is the one dbmate reads too, so TLS is its `tls=true`: here PyMySQL
    checks the server's certificate and host name against the RDS CA bundle.
    """
    parsed = make_url(url)
    tls = parsed.query.get("tls") == "true"
    parsed = parsed.difference_update_query(["tls"])
    if parsed.drivername == "mysql":
        parsed = parsed.set(drivername="{{ svc.database.sa_driver }}")
    args: dict[str, Any] = {
        "connect_timeout": 3,
        "charset": "utf8mb4",
        "conv": CONVERSIONS,
    }
    if tls:
        args["ssl"] = {"ca": RDS_CA_FILE, "check_hostname": True}
    return parsed, args


def session_settings(server: str, timeout_ms: int) -> list[str]:
    """What each new connection sets: UTC (timestamps are stored as UTC `DATETIME(6)`) and the
    statement limit, which is `max_statement_time` (seconds, every statement) in MariaDB and
    `max_execution_time` (milliseconds, read-only SELECTs) in MySQL 8."""
    if "MariaDB" in server:
        limit = f"SET SESSION max_statement_time = {timeout_ms / 1000}"
    else:
        limit = f"SET SESSION max_execution_time = {timeout_ms}"
    return ["SET SESSION time_zone = '+00:00'", limit]


def create_db_engine(settings: Settings) -> Engine:
    """The engine: pool size and statement limit from the settings (the scale preset).

    The server stops a statement running longer than `db_statement_timeout_ms`; the app
    answers that with 503 (see `app.main`), as it does when the database is unreachable.
    """
    url, connect_args = sqlalchemy_url(settings.database_url)
    created = create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=5,
        connect_args=connect_args,
    )

    @event.listens_for(created, "connect")
    def configure(dbapi_connection: Any, _record: Any) -> None:
        server = dbapi_connection.get_server_info()
        with dbapi_connection.cursor() as cursor:
            for statement in session_settings(server, settings.db_statement_timeout_ms):
                cursor.execute(statement)

    return created


engine = create_db_engine(get_settings())
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """One session per request (a FastAPI dependency)."""
    with SessionLocal() as session:
        yield session


def ping() -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def timed_out(exc: DBAPIError) -> bool:
    """Whether the server stopped the statement for running over its limit."""
    args = getattr(exc.orig, "args", ())
    return bool(args) and args[0] in QUERY_CANCELED


def dispose() -> None:
    """Close pooled connections (graceful shutdown)."""
    engine.dispose()
{%- elif svc.database -%}
"""Database engine and sessions (SQLAlchemy 2 with psycopg 3)."""

from collections.abc import Iterator

from sqlalchemy import Engine, create_engine, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.config import Settings, get_settings


class Base(DeclarativeBase):
    """Declarative base of every table of this service."""


def sqlalchemy_url(url: str) -> str:
    """Plain `postgresql://` URLs (as in the Secret) use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


# SQLSTATE of a statement cancelled by `statement_timeout` (psycopg's QueryCanceled).
QUERY_CANCELED = "57014"


def create_db_engine(settings: Settings) -> Engine:
    """The engine: pool size and statement timeout from the settings (the scale preset).

    PostgreSQL cancels a statement running longer than `db_statement_timeout_ms`; the app
    answers that with 503 (see `app.main`), as it does when the database is unreachable.
    """
    return create_engine(
        sqlalchemy_url(settings.database_url),
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        pool_timeout=5,
        connect_args={
            "connect_timeout": 3,
            "options": f"-c statement_timeout={settings.db_statement_timeout_ms}",
        },
    )


engine = create_db_engine(get_settings())
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """One session per request (a FastAPI dependency)."""
    with SessionLocal() as session:
        yield session


def ping() -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def timed_out(exc: DBAPIError) -> bool:
    """Whether PostgreSQL cancelled the statement for running over its timeout."""
    return getattr(exc.orig, "sqlstate", None) == QUERY_CANCELED


def dispose() -> None:
    """Close pooled connections (graceful shutdown)."""
    engine.dispose()
{%- else -%}
"""This service has no database."""


def dispose() -> None:
    """Nothing to close."""
{%- endif %}
