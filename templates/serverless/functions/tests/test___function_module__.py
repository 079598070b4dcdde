{{ header }}
{%- if function.trigger == "http" %}
"""{{ function.name.raw }} called with API Gateway HTTP API (payload 2.0) events."""

import json
import uuid
from typing import Any

import pytest

from {{ function.name.snake }} import handler


def unique_text(length: int) -> str:
    return uuid.uuid4().hex[:length]


def api_event(method: str, path: str, body: Any = None) -> dict[str, Any]:
    """An API Gateway HTTP API event as Lambda receives it."""
    return {
        "version": "2.0",
        "routeKey": f"ANY {path}",
        "rawPath": path,
        "rawQueryString": "",
        "headers": {"content-type": "application/json", "host": "api.example.com"},
        "requestContext": {
            "accountId": "123456789012",
            "apiId": "api",
            "domainName": "api.example.com",
            "http": {
                "method": method,
                "path": path,
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "pytest",
            },
            "requestId": "request",
            "routeKey": f"ANY {path}",
            "stage": "$default",
            "timeEpoch": 0,
            # What the HTTP API's JWT authorizer passes on for a verified admin.
            "authorizer": {
                "jwt": {
                    "claims": {"sub": "tester", "{{ m.security.roles_claim }}": "[{{ m.security.test_roles | join(sep=" ") }}]"},
                    "scopes": None,
                }
            },
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


def call(context: Any, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    response = handler(api_event(method, path, body), context)
    text = response.get("body")
    return response["statusCode"], json.loads(text) if text else None


def test_health(context: Any) -> None:
    assert call(context, "GET", "/healthz") == (200, {"status": "ok"})
{%- for e in m.entities %}{% if e.owner == function.service %}


def {{ e.name.snake }}_payload(context: Any) -> dict[str, Any]:
    return {
{%- for c in e.columns %}{% if c.code.writable %}
{%- set_global parent = "" %}
{%- for p in e.code.parents %}{% if p.column == c.name %}{% set_global parent = p.snake %}{% endif %}{% endfor %}
{%- if parent %}
        "{{ c.name }}": {{ parent }}_id(context),
{%- else %}
        "{{ c.name }}": {{ c.code.sample }},
{%- endif %}
{%- endif %}{% endfor %}
    }


def {{ e.name.snake }}_id(context: Any) -> Any:
    payload = {{ e.name.snake }}_payload(context)
    status, body = call(context, "POST", "{{ e.code.api_path }}", payload)
    assert status == 201, body
    return body["{{ e.pk }}"]


def test_{{ e.name.snake }}_round_trip(context: Any) -> None:
    path = "{{ e.code.api_path }}"
    status, created = call(context, "POST", path, {{ e.name.snake }}_payload(context))
    assert status == 201, created
    url = f"{path}/{created['{{ e.pk }}']}"
    assert call(context, "GET", url) == (200, created)
    status, page = call(context, "GET", path)
    assert status == 200
    assert page["items"] and "next" in page
    assert call(context, "DELETE", url)[0] == 204
    assert call(context, "GET", url)[0] == 404


@pytest.mark.parametrize("body", [{"unexpected_field": 1}, []])
def test_{{ e.name.snake }}_invalid_body_is_422(context: Any, body: Any) -> None:
    assert call(context, "POST", "{{ e.code.api_path }}", body)[0] == 422
{%- if e.code.auth.write and e.code.auth.write.kind != "public" %}


def test_{{ e.name.snake }}_write_without_a_verified_caller_is_401(context: Any) -> None:
    """No claims from the JWT authorizer: the function refuses the write itself."""
    event = api_event("POST", "{{ e.code.api_path }}", {{ e.name.snake }}_payload(context))
    del event["requestContext"]["authorizer"]
    assert handler(event, context)["statusCode"] == 401
{%- endif %}
{%- for t in m.serverless.tables %}{% if t.entity == e.name.raw %}
{%- for c in t.checks %}


def test_{{ e.name.snake }}_{{ c.column }}_of_no_row_is_422(context: Any) -> None:
    """A reference to a row of the same database that does not exist (checked in its table)."""
    payload = {{ e.name.snake }}_payload(context)
    payload["{{ c.column }}"] = str(uuid.uuid4())
    assert call(context, "POST", "{{ e.code.api_path }}", payload)[0] == 422
{%- endfor %}
{%- for r in t.referenced_by %}{% for x in m.entities %}{% if x.name.raw == r.entity %}


def test_{{ e.name.snake }}_referred_to_by_{{ x.name.snake }}_is_not_deleted(context: Any) -> None:
    """A row still referenced is a 409 (found on the referring table's index); then it goes."""
    key = {{ e.name.snake }}_id(context)
    payload = {{ x.name.snake }}_payload(context)
    payload["{{ r.column }}"] = key
    status, child = call(context, "POST", "{{ x.code.api_path }}", payload)
    assert status == 201, child
    assert call(context, "DELETE", f"{{ e.code.api_path }}/{key}")[0] == 409
    assert call(context, "DELETE", f"{{ x.code.api_path }}/{child['{{ x.pk }}']}")[0] == 204
    assert call(context, "DELETE", f"{{ e.code.api_path }}/{key}")[0] == 204
{%- endif %}{% endfor %}{% endfor %}


def test_{{ e.name.snake }}_missing_row_is_404(context: Any) -> None:
    """Conditional writes: a row that is not there is neither changed nor deleted."""
    url = f"{{ e.code.api_path }}/{uuid.uuid4()}"
    assert call(context, "PATCH", url, {})[0] == 404
    assert call(context, "DELETE", url)[0] == 404
{%- endif %}{% endfor %}
{%- for r in e.code.references %}


def test_{{ e.name.snake }}_unknown_{{ r.field }}(context: Any, unknown: set[str]) -> None:
    """An id its owner does not have is a 422 naming the field; nothing is written."""
    payload = {{ e.name.snake }}_payload(context)
    unknown.add(str(payload["{{ r.field }}"]))
    status, body = call(context, "POST", "{{ e.code.api_path }}", payload)
    assert status == 422, body
    assert body["detail"][0]["loc"] == ["body", "{{ r.field }}"]
{%- endfor %}
{%- endif %}{% endfor %}
{%- else %}
"""{{ function.name.raw }} called with SQS events of topic `{{ function.topic.raw }}`."""

import json
from typing import Any

from {{ function.name.snake }} import handler


def sqs_event(*bodies: tuple[str, str]) -> dict[str, Any]:
    """An SQS event as Lambda receives it: (messageId, body) per record."""
    return {
        "Records": [
            {
                "messageId": message_id,
                "receiptHandle": f"handle-{message_id}",
                "body": body,
                "attributes": {"ApproximateReceiveCount": "1"},
                "messageAttributes": {},
                "eventSource": "aws:sqs",
                "eventSourceARN": "arn:aws:sqs:{{ m.cloud.region | py_in }}:123456789012:queue",
                "awsRegion": {{ m.cloud.region | py_str }},
            }
            for message_id, body in bodies
        ]
    }


def envelope(detail: Any, detail_type: str = {{ function.topic.raw | py_str }}) -> str:
    """An EventBridge event as the rule delivers it to the queue."""
    return json.dumps(
        {
            "version": "0",
            "id": "e-1",
            "detail-type": detail_type,
            "source": "test",
            "detail": detail,
        }
    )


def test_events_are_handled(context: Any) -> None:
    event = sqs_event(("m-1", envelope({"id": "1"})), ("m-2", envelope({})))
    assert handler(event, context) == {"batchItemFailures": []}


def test_only_failed_records_are_reported(context: Any) -> None:
    event = sqs_event(
        ("ok", envelope({"id": "1"})),
        ("bad", "not json"),
        ("other", envelope({"id": "2"}, "other.topic")),
        ("list", envelope([])),
    )
    failed = [{"itemIdentifier": i} for i in ("bad", "other", "list")]
    assert handler(event, context) == {"batchItemFailures": failed}
{%- endif %}
