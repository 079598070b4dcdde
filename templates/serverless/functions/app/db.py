{{ header }}
"""Database engine and sessions (Aurora Serverless PostgreSQL through DATABASE_URL)."""

from collections.abc import Iterator

from sqlalchemy import create_engine
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.config import get_settings


class Base(DeclarativeBase):
    """Declarative base of every table."""


def sqlalchemy_url(url: str) -> str:
    """Plain `postgresql://` URLs use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


# No pool: a function instance handles one request at a time and may be frozen between them.
engine = create_engine(sqlalchemy_url(get_settings().database_url), poolclass=NullPool)
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """One session per request (a FastAPI dependency)."""
    with SessionLocal() as session:
        yield session
