{%- set svc = service %}{{ header }}
// The JSON Schema (2020-12) of each consumed topic's envelope, as events/schemas/ at the root of
// the tree writes it: a message that does not match is dead-lettered, never handled.
export const schemas: Record<string, object> = {
{%- for i in svc.events.schema_topic_ids %}{% set t = m.messaging.topics[i] %}{% set e = m.entities[t.entity_id] %}
"{{ t.name.raw }}":
{% include "common/events/_partials/schema.tera" %},
{%- endfor %}
};
