{{ header }}
{%- if function.trigger == "http" %}
"""Function {{ function.name.raw }}: API Gateway HTTP API (payload 2.0) for the {{ function.service }} service.

Routes: {% for r in function.routes %}`{{ r }}`{% if not loop.last %}, {% endif %}{% endfor %}. Handler: `{{ function.handler }}`.
"""

from mangum import Mangum

from app.main import create_app

# Exactly what Terraform sets for this function; checked at cold start.
ENVIRONMENT = (
{%- for v in function.env %}
    {{ v.name | py_str }},
{%- endfor %}
)
{% for s in m.services %}{% if s.name.raw == function.service %}
app = create_app("{{ s.name.snake }}", ENVIRONMENT)
{%- endif %}{% endfor %}
handler = Mangum(app, lifespan="off")
{%- else %}
"""Function {{ function.name.raw }}: SQS events of topic `{{ function.topic.raw }}` for the {{ function.service }} service.

Handler: `{{ function.handler }}`. Failed records are reported one by one
(`batchItemFailures`), so only they are retried and then sent to the dead-letter queue.
"""

import json
import logging
from typing import Any

from app.config import check_environment
from app.main import setup_logging

# Exactly what Terraform sets for this function; checked at cold start.
ENVIRONMENT = (
{%- for v in function.env %}
    {{ v.name | py_str }},
{%- endfor %}
)
check_environment(ENVIRONMENT)
setup_logging()
log = logging.getLogger(__name__)

TOPIC = {{ function.topic.raw | py_str }}


def detail(body: str) -> dict[str, Any]:
    """The payload of one message: the `detail` of the EventBridge event the rule delivered."""
    envelope = json.loads(body)
    if not isinstance(envelope, dict) or envelope.get("detail-type") != TOPIC:
        raise ValueError(f"{TOPIC}: not an EventBridge event of this topic")
    payload = envelope.get("detail")
    if not isinstance(payload, dict):
        raise ValueError(f"{TOPIC}: expected a JSON object as detail")
    return payload


def on_event(event: dict[str, Any]) -> None:
    """React to one `{{ function.topic.raw }}` event. Put the business rule here."""
    log.info("%s received: %s", TOPIC, event.get("id"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            on_event(detail(record["body"]))
        except Exception:
            log.exception("%s: record %s failed", TOPIC, record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
{%- endif %}
