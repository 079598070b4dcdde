{% if m.serverless.data_store == "dynamodb" %}{% include "serverless/_dynamodb/db.py" %}{% else %}{{ header }}
"""Database engine and sessions: Aurora Serverless v2 (PostgreSQL) through its RDS Proxy.

In AWS a function connects to the proxy at DB_HOST:DB_PORT as DB_USER, with a fresh IAM
authentication token as the password, over TLS with the proxy's certificate checked; no password is stored anywhere. A local
run or a test sets DATABASE_URL instead, and that URL is used as is.
"""

from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import NullPool

from app.config import Settings, get_settings


class Base(DeclarativeBase):
    """Declarative base of every table."""


def sqlalchemy_url(url: str) -> str:
    """Plain `postgresql://` URLs use the psycopg 3 driver."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


def proxy_url(settings: Settings) -> URL:
    return URL.create(
        "postgresql+psycopg",
        username=settings.db_user,
        host=settings.db_host,
        port=settings.db_port,
        database=settings.db_name,
        # verify-full: the proxy's certificate (ACM, Amazon's roots) is checked, host included.
        query={"sslmode": settings.db_sslmode, "sslrootcert": settings.db_sslrootcert},
    )


def build_engine(settings: Settings) -> Engine:
    # No pool: a function instance handles one request at a time and may be frozen between
    # them; the proxy pools the connections to the cluster.
    if settings.database_url:
        return create_engine(sqlalchemy_url(settings.database_url), poolclass=NullPool)
    engine = create_engine(proxy_url(settings), poolclass=NullPool)

    @event.listens_for(engine, "do_connect")
    def iam_token(dialect: Any, conn_rec: Any, cargs: Any, cparams: dict) -> None:
        # A token lives 15 minutes: one is made for every new connection.
        import boto3

        cparams["password"] = boto3.client("rds").generate_db_auth_token(
            DBHostname=settings.db_host,
            Port=settings.db_port,
            DBUsername=settings.db_user,
        )

    return engine


engine = build_engine(get_settings())
SessionLocal = sessionmaker(bind=engine, expire_on_commit=False)


def get_session() -> Iterator[Session]:
    """One session per request (a FastAPI dependency)."""
    with SessionLocal() as session:
        yield session
{% endif %}
