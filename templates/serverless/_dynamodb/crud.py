{{ header }}
"""Generic CRUD over one DynamoDB table (app.db.Table) and the FastAPI router serving it.

The contract is the PostgreSQL one: a missing row is 404, invalid input 422 (FastAPI), creating a
row whose key exists or deleting a row that is still referenced 409, a reference to a row of the
same database that does not exist 422. References to another service's rows are checked through
its API before a write (app.references: unknown 422, owner unavailable 503). Every route requires
the caller its rule names (app.auth: 401 without a verified caller, 403 without the role). When
rows belong to users (`owner`), a user lists, reads, changes and deletes their own rows only and
creates rows for themselves only (403 otherwise); the admin role sees and changes every row.

Writes are conditional (create: the key does not exist yet; update and delete: it does), so two
requests never overwrite each other's row. Lists are pages: `?limit=&after=<key>` →
`{"items": [...], "next": <key or null>}`; a table is scanned in DynamoDB's order (not key
order), a user's rows are queried on the owner's index. Events are put on the bus after the
write succeeded (app.events).
"""

import json
import uuid
from datetime import UTC, datetime
from decimal import Decimal
from typing import Annotated, Any

from boto3.dynamodb.conditions import Attr, Key
from botocore.exceptions import ClientError
from fastapi import APIRouter, Depends, HTTPException, Query, Request, Response
from pydantic import BaseModel

from app import db
from app.auth import USER, Caller, Rule, require
from app.events import publisher
from app.references import Ref, verify


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    """JSON values as DynamoDB stores them: numbers as Decimal (boto3 refuses floats), absent
    values left out (an index key may not be NULL)."""
    present = {k: v for k, v in values.items() if v is not None}
    return json.loads(json.dumps(present), parse_float=Decimal)


def _number(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def from_item(spec: db.Table, item: dict[str, Any]) -> dict[str, Any]:
    """A stored item as plain JSON values, every column present (absent ones null)."""
    plain = json.loads(json.dumps(item, default=_number))
    return {column: plain.get(column) for column in spec.columns}


def conditional(exc: ClientError) -> bool:
    return (
        exc.response.get("Error", {}).get("Code") == "ConditionalCheckFailedException"
    )


class Repository:
    """Create, read, update, delete and page through one table."""

    def __init__(self, spec: db.Table) -> None:
        self.spec = spec
        self.table = db.table(spec.setting)

    def get(self, key: str) -> dict[str, Any] | None:
        item = self.table.get_item(Key={self.spec.key: key}).get("Item")
        return None if item is None else from_item(self.spec, item)

    def page(
        self,
        limit: int,
        after: str | None,
        index: db.Index | None = None,
        value: str = "",
    ) -> list[dict[str, Any]]:
        """Up to `limit` items after the item keyed `after`; with `index`, only those whose
        index key is `value`. DynamoDB stops a call at its own size limit: calls go on until
        the page is full or the table ends."""
        items: list[dict[str, Any]] = []
        start: dict[str, Any] | None = None
        if after is not None:
            start = {self.spec.key: after, **({index.key: value} if index else {})}
        while len(items) < limit:
            args: dict[str, Any] = {"Limit": limit - len(items)}
            if start is not None:
                args["ExclusiveStartKey"] = start
            if index is None:
                response = self.table.scan(**args)
            else:
                condition = Key(index.key).eq(value)
                response = self.table.query(
                    IndexName=index.name, KeyConditionExpression=condition, **args
                )
            items.extend(response.get("Items", []))
            start = response.get("LastEvaluatedKey")
            if start is None:
                break
        return [from_item(self.spec, item) for item in items]

    def create(self, values: dict[str, Any]) -> dict[str, Any]:
        """Store a new row (generated key and timestamps filled in); 409 when the key exists."""
        row = dict(values)
        for column, how in self.spec.generated:
            row[column] = (
                str(uuid.uuid4()) if how == "uuid" else datetime.now(UTC).isoformat()
            )
        self.check_references(row)
        try:
            self.table.put_item(
                Item=to_item(row), ConditionExpression=Attr(self.spec.key).not_exists()
            )
        except ClientError as exc:
            if conditional(exc):
                raise HTTPException(
                    409, "a row with the same key already exists"
                ) from exc
            raise
        return {column: row.get(column) for column in self.spec.columns}

    def update(self, key: str, values: dict[str, Any]) -> dict[str, Any]:
        """Change the given columns of an existing row (null removes the value); 404 when gone."""
        self.check_references(values)
        names = {f"#c{i}": column for i, column in enumerate(values)}
        setting = [
            f"#c{i} = :v{i}" for i, v in enumerate(values.values()) if v is not None
        ]
        removing = [f"#c{i}" for i, v in enumerate(values.values()) if v is None]
        expression = " ".join(
            part
            for part in (
                f"SET {', '.join(setting)}" if setting else "",
                f"REMOVE {', '.join(removing)}" if removing else "",
            )
            if part
        )
        args: dict[str, Any] = {
            "ExpressionAttributeNames": {**names, "#key": self.spec.key}
        }
        stored = to_item({f":v{i}": v for i, v in enumerate(values.values())})
        if stored:
            args["ExpressionAttributeValues"] = stored
        try:
            response = self.table.update_item(
                Key={self.spec.key: key},
                UpdateExpression=expression,
                ConditionExpression="attribute_exists(#key)",
                ReturnValues="ALL_NEW",
                **args,
            )
        except ClientError as exc:
            if conditional(exc):
                raise HTTPException(404, f"{key} not found") from exc
            raise
        return from_item(self.spec, response["Attributes"])

    def delete(self, key: str) -> None:
        """Remove a row; 409 while other rows refer to it, 404 when it is gone."""
        for r in self.spec.referenced_by:
            condition = Key(r.column).eq(key)
            hit = db.table(r.setting).query(
                IndexName=r.index, KeyConditionExpression=condition, Limit=1
            )
            if hit.get("Items"):
                raise HTTPException(409, "the row is still referenced by other rows")
        try:
            self.table.delete_item(
                Key={self.spec.key: key},
                ConditionExpression=Attr(self.spec.key).exists(),
            )
        except ClientError as exc:
            if conditional(exc):
                raise HTTPException(404, f"{key} not found") from exc
            raise

    def check_references(self, values: dict[str, Any]) -> None:
        """References to rows of the same database: the row must exist (a foreign key's 422)."""
        for c in self.spec.checks:
            value = values.get(c.column)
            if value is None:
                continue
            if "Item" not in db.table(c.setting).get_item(Key={c.key: str(value)}):
                raise HTTPException(422, "a referenced row does not exist")


def crud_router(
    *,
    path: str,
    name: str,
    model: db.Table,
    create: type[BaseModel],
    update: type[BaseModel],
    read: type[BaseModel],
    page: type[BaseModel],
    publishes: tuple[str, ...] = (),
    references: tuple[Ref, ...] = (),
    read_rule: Rule = USER,
    write_rule: Rule = USER,
    owner: str | None = None,
) -> APIRouter:
    """List, create, read, update and delete rows of the table `model` under `path`.

    `references` are checked before a create, and before an update that sends them. Reads need
    `read_rule`, writes `write_rule`; `owner` is the column naming the user a row belongs to.
    """
    router = APIRouter(prefix=path, tags=[name])
    key_type = model.key_type
    owner_index = next((i for i in model.indexes if i.key == owner), None)

    def repository() -> Repository:
        return Repository(model)

    Repo = Annotated[Repository, Depends(repository)]
    Reader = Annotated[Caller | None, Depends(require(read_rule))]
    Writer = Annotated[Caller | None, Depends(require(write_rule))]

    def restricted(who: Caller | None) -> bool:
        """Object-level checks apply: rows have owners and the caller is a plain user."""
        return owner is not None and who is not None and not who.is_admin

    def own(who: Caller | None, value: Any) -> None:
        if restricted(who) and value is not None and str(value) != who.subject:  # type: ignore[union-attr]
            raise HTTPException(403, f"{name} belongs to another user")

    def found(repo: Repository, key: Any) -> dict[str, Any]:
        row = repo.get(str(key))
        if row is None:
            raise HTTPException(404, f"{name} {key} not found")
        return row

    def rows(
        repo: Repository, who: Caller | None, limit: int, after: str | None
    ) -> list[dict[str, Any]]:
        if not restricted(who):
            return repo.page(limit, after)
        if owner_index is not None:
            return repo.page(limit, after, owner_index, who.subject)  # type: ignore[union-attr]
        # The owner column is the key: a user's own row is the one keyed by their subject.
        mine = repo.get(who.subject) if after is None else None  # type: ignore[union-attr]
        return [mine] if mine is not None else []

    @router.get("", response_model=page, operation_id=f"list_{name}")
    def list_rows(
        repo: Repo,
        who: Reader,
        limit: Annotated[int, Query(ge=1, le=200)] = 50,
        after: Annotated[key_type | None, Query()] = None,  # type: ignore[valid-type]
    ) -> Any:
        """One page; `next` is the `after` of the following page (null at the end)."""
        found_rows = rows(repo, who, limit + 1, None if after is None else str(after))
        last = found_rows[limit - 1] if len(found_rows) > limit else None
        items = [read.model_validate(row) for row in found_rows[:limit]]
        return {"items": items, "next": None if last is None else last[model.key]}

    @router.post(
        "", response_model=read, status_code=201, operation_id=f"create_{name}"
    )
    def create_row(payload: create, repo: Repo, request: Request, who: Writer) -> Any:  # type: ignore[valid-type]
        values = payload.model_dump(mode="json")
        if owner:
            own(who, values.get(owner))
        verify(references, values, request)
        created = read.model_validate(repo.create(values))
        data = created.model_dump(mode="json")
        for topic in publishes:
            publisher.publish(topic, data)
        return created

    @router.get("/{id}", response_model=read, operation_id=f"get_{name}")
    def get_row(id: key_type, repo: Repo, who: Reader) -> Any:  # type: ignore[valid-type]
        row = found(repo, id)
        if owner:
            own(who, row.get(owner))
        return read.model_validate(row)

    @router.patch("/{id}", response_model=read, operation_id=f"update_{name}")
    def update_row(
        id: key_type,  # type: ignore[valid-type]
        payload: update,  # type: ignore[valid-type]
        repo: Repo,
        request: Request,
        who: Writer,
    ) -> Any:
        values = payload.model_dump(mode="json", exclude_unset=True)
        row = found(repo, id)
        if owner:
            own(who, row.get(owner))
            own(who, values.get(owner))
        verify(references, values, request)
        if not values:
            return read.model_validate(row)
        return read.model_validate(repo.update(str(id), values))

    @router.delete("/{id}", status_code=204, operation_id=f"delete_{name}")
    def delete_row(id: key_type, repo: Repo, who: Writer) -> Response:  # type: ignore[valid-type]
        row = found(repo, id)
        if owner:
            own(who, row.get(owner))
        repo.delete(str(id))
        return Response(status_code=204)

    return router
