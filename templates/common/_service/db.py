{{ header }}
{% if svc.database -%}
"""Database engine and sessions (SQLAlchemy 2 with psycopg 3)."""

from collections.abc import Iterator

from sqlalchemy import create_engine, text
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

from app.config import get_settings


class Base(DeclarativeBase):
    """Declarative base of every table of this service."""


def sqlalchemy_url(url: str) -> str:
    """Plain `postgresql://` URLs (as in the Secret) use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


engine = create_engine(
    sqlalchemy_url(get_settings().database_url),
    pool_pre_ping=True,
    pool_size=5,
    max_overflow=10,
    pool_timeout=5,
)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """One session per request (a FastAPI dependency)."""
    with SessionLocal() as session:
        yield session


def ping() -> None:
    """Raise unless the database answers."""
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))


def dispose() -> None:
    """Close pooled connections (graceful shutdown)."""
    engine.dispose()
{%- else -%}
"""This service has no database."""


def dispose() -> None:
    """Nothing to close."""
{%- endif %}
