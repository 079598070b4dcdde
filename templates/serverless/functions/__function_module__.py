{{ header }}
{%- if function.trigger == "http" %}
"""Function {{ function.name.raw }}: API Gateway HTTP API (payload 2.0) for the {{ function.service }} service.

Routes: {% for r in function.routes %}`{{ r }}`{% if not loop.last %}, {% endif %}{% endfor %}. Handler: `{{ function.handler }}`.
"""

from mangum import Mangum

from app.main import create_app
{% for s in m.services %}{% if s.name.raw == function.service %}
app = create_app("{{ s.name.snake }}")
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

log = logging.getLogger(__name__)
log.setLevel(logging.INFO)

TOPIC = "{{ function.topic.raw }}"


def on_event(event: dict[str, Any]) -> None:
    """React to one `{{ function.topic.raw }}` event. Put the business rule here."""
    if not isinstance(event, dict):
        raise ValueError(f"{TOPIC}: expected a JSON object")
    log.info("%s received: %s", TOPIC, event.get("id"))


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    failures = []
    for record in event.get("Records", []):
        try:
            on_event(json.loads(record["body"]))
        except Exception:
            log.exception("%s: record %s failed", TOPIC, record.get("messageId"))
            failures.append({"itemIdentifier": record["messageId"]})
    return {"batchItemFailures": failures}
{%- endif %}
