{{ header }}
"""Generic CRUD: a repository over one SQLAlchemy model and the FastAPI router serving it.

Errors map to HTTP: a missing row is 404, invalid input 422 (FastAPI), a unique violation or
deleting a row that is still referenced 409, another constraint violation 422. Lists are pages
in primary-key order: `?limit=&after=<key>` → `{"items": [...], "next": <key or null>}`.
References to another service's rows are checked through its API before a write
(app.references: unknown 422, owner unavailable 503); reads by id go through the cache when one
is given (app.cache).
Every route requires the caller its rule names (app.auth: 401 without a valid token, 403
without the role). When rows belong to users (`owner`), a user lists, reads, changes and
deletes their own rows only and creates rows for themselves only (403 otherwise); the admin
role sees and changes every row.
"""

from collections.abc import Callable, Iterator, Sequence
from typing import Annotated, Any, Generic, TypeVar

import sqlalchemy as sa
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from app.auth import USER, Caller, Rule, require
from app.cache import RowCache
from app.config import get_settings
from app.db import Base, get_session
from app.events import enqueue
from app.references import Ref, verify

ModelT = TypeVar("ModelT", bound=Base)

{%- if svc.database and svc.database.mysql %}
# MySQL's error numbers: a duplicate key; a row still referenced, a referenced row missing.
UNIQUE_VIOLATION = (1062,)
FOREIGN_KEY_VIOLATION = (1451, 1452)
{%- else %}
UNIQUE_VIOLATION = "23505"
FOREIGN_KEY_VIOLATION = "23503"
{%- endif %}


class Repository(Generic[ModelT]):
    """Create, read, update, delete and page through one table."""

    def __init__(self, session: Session, model: type[ModelT]) -> None:
        self.session = session
        self.model = model

    def get(self, key: Any) -> ModelT | None:
        return self.session.get(self.model, key)

    def page(
        self, limit: int, after: Any | None, where: Any | None = None
    ) -> Sequence[ModelT]:
        """Up to `limit` rows with a key greater than `after`, in key order (keyset
        pagination: an index range scan, no OFFSET and no COUNT); `where` narrows them."""
        pk = sa.inspect(self.model).primary_key[0]
        query = sa.select(self.model).order_by(pk).limit(limit)
        if after is not None:
            query = query.where(pk > after)
        if where is not None:
            query = query.where(where)
        return self.session.scalars(query).all()

    def create(
        self, values: dict[str, Any], written: Callable[[ModelT], None] | None = None
    ) -> ModelT:
        """Insert a row; `written` sees it (key and defaults filled in) before the commit,
        so what it adds to the session (outbox events) commits or fails with the row."""
        row = self.model(**values)
        self.session.add(row)
        if written is not None:
            self._write(self.session.flush, deleting=False)
            self.session.refresh(row)
            written(row)
        self._commit(deleting=False)
        self.session.refresh(row)
        return row

    def update(self, row: ModelT, values: dict[str, Any]) -> ModelT:
        for key, value in values.items():
            setattr(row, key, value)
        self._commit(deleting=False)
        self.session.refresh(row)
        return row

    def delete(self, row: ModelT) -> None:
        self.session.delete(row)
        self._commit(deleting=True)

    def _commit(self, *, deleting: bool) -> None:
        self._write(self.session.commit, deleting=deleting)

    def _write(self, step: Callable[[], None], *, deleting: bool) -> None:
        try:
            step()
        except IntegrityError as exc:
            self.session.rollback()
            raise integrity_error(exc, deleting=deleting) from exc


def integrity_error(exc: IntegrityError, *, deleting: bool) -> HTTPException:
    """The HTTP error for a constraint the database rejected."""
{%- if svc.database and svc.database.mysql %}
    args = getattr(exc.orig, "args", ())
    code = args[0] if args else None
    if code in UNIQUE_VIOLATION:
        return HTTPException(409, "a row with the same unique value already exists")
    if code in FOREIGN_KEY_VIOLATION and deleting:
        return HTTPException(409, "the row is still referenced by other rows")
    if code in FOREIGN_KEY_VIOLATION:
{%- else %}
    code = getattr(exc.orig, "sqlstate", None)
    if code == UNIQUE_VIOLATION:
        return HTTPException(409, "a row with the same unique value already exists")
    if code == FOREIGN_KEY_VIOLATION and deleting:
        return HTTPException(409, "the row is still referenced by other rows")
    if code == FOREIGN_KEY_VIOLATION:
{%- endif %}
        return HTTPException(422, "a referenced row does not exist")
    return HTTPException(422, "the row violates a database constraint")


def crud_router(
    *,
    path: str,
    name: str,
    model: type[Base],
    create: type[BaseModel],
    update: type[BaseModel],
    read: type[BaseModel],
    page: type[BaseModel],
    publishes: tuple[str, ...] = (),
    references: tuple[Ref, ...] = (),
    cache_prefix: str | None = None,
    read_rule: Rule = USER,
    write_rule: Rule = USER,
    owner: str | None = None,
) -> APIRouter:
    """List, create, read, update and delete rows of `model` under `path`.

    `references` are checked before a create, and before an update that sends them;
    `cache_prefix` (`<service>:<table>`) turns on cache-aside for reads by id. Reads need
    `read_rule`, writes `write_rule`; `owner` is the column naming the user a row belongs to.
    """
    router = APIRouter(prefix=path, tags=[name])
    cache = (
        RowCache(cache_prefix, get_settings().cache_ttl_seconds)
        if cache_prefix
        else None
    )
    key_type = sa.inspect(model).primary_key[0].type.python_type
    key_name = sa.inspect(model).primary_key[0].key

    def repository(
        session: Annotated[Session, Depends(get_session)],
    ) -> Iterator[Repository[Any]]:
        yield Repository(session, model)

    Repo = Annotated[Repository[Any], Depends(repository)]
    Reader = Annotated[Caller | None, Depends(require(read_rule))]
    Writer = Annotated[Caller | None, Depends(require(write_rule))]
    owner_column = sa.inspect(model).columns[owner] if owner else None

    def restricted(who: Caller | None) -> bool:
        """Object-level checks apply: rows have owners and the caller is a plain user."""
        return owner_column is not None and who is not None and not who.is_admin

    def own(who: Caller | None, value: Any) -> None:
        if restricted(who) and value is not None and str(value) != who.subject:  # type: ignore[union-attr]
            raise HTTPException(403, f"{name} belongs to another user")

    def mine(who: Caller) -> Any:
        """The list filter for a plain user: their rows (none when `sub` is not a key)."""
        try:
            subject = owner_column.type.python_type(who.subject)  # type: ignore[union-attr]
        except (TypeError, ValueError):
            return sa.false()
        return owner_column == subject

    def found(repo: Repository[Any], key: Any) -> Any:
        row = repo.get(key)
        if row is None:
            raise HTTPException(404, f"{name} {key} not found")
        return row

    @router.get("", response_model=page, operation_id=f"list_{name}")
    def list_rows(
        repo: Repo,
        who: Reader,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        after: Annotated[key_type | None, Query()] = None,  # type: ignore[valid-type]
    ) -> Any:
        """One page in key order; `next` is the `after` of the following page (null at the end)."""
        rows = repo.page(limit + 1, after, mine(who) if restricted(who) else None)  # type: ignore[arg-type]
        last = rows[limit - 1] if len(rows) > limit else None
        items = [read.model_validate(row) for row in rows[:limit]]
        key = sa.inspect(model).primary_key[0].key
        return {"items": items, "next": None if last is None else getattr(last, key)}

    @router.post(
        "", response_model=read, status_code=201, operation_id=f"create_{name}"
    )
    def create_row(payload: create, repo: Repo, request: Request, who: Writer) -> Any:  # type: ignore[valid-type]
        values = payload.model_dump()
        if owner:
            own(who, values.get(owner))
        verify(references, values, request)

        def events(written: Any) -> None:
            data = read.model_validate(written).model_dump(mode="json")
            for topic in publishes:
                enqueue(repo.session, topic, str(getattr(written, key_name)), data)

        return read.model_validate(repo.create(values, events if publishes else None))

    @router.get("/{id}", response_model=read, operation_id=f"get_{name}")
    def get_row(id: key_type, repo: Repo, who: Reader) -> Any:  # type: ignore[valid-type]
        if cache is None:
            row = found(repo, id)
            if owner:
                own(who, getattr(row, owner))
            return row
        cached = cache.get(id)
        if cached is not None:
            hit = read.model_validate_json(cached)
            if owner:
                own(who, getattr(hit, owner))
            return hit
        row = read.model_validate(found(repo, id))
        if owner:
            own(who, getattr(row, owner))
        cache.put(id, row.model_dump_json())
        return row

    @router.patch("/{id}", response_model=read, operation_id=f"update_{name}")
    def update_row(
        id: key_type,  # type: ignore[valid-type]
        payload: update,  # type: ignore[valid-type]
        repo: Repo,
        request: Request,
        who: Writer,
    ) -> Any:
        values = payload.model_dump(exclude_unset=True)
        row = found(repo, id)
        if owner:
            own(who, getattr(row, owner))
            own(who, values.get(owner))
        verify(references, values, request)
        updated = repo.update(row, values)
        if cache is not None:
            cache.invalidate(id)
        return updated

    @router.delete("/{id}", status_code=204, operation_id=f"delete_{name}")
    def delete_row(id: key_type, repo: Repo, who: Writer) -> Response:  # type: ignore[valid-type]
        row = found(repo, id)
        if owner:
            own(who, getattr(row, owner))
        repo.delete(row)
        if cache is not None:
            cache.invalidate(id)
        return Response(status_code=204)

    return router
