{{ header }}
{% if svc.database -%}
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
