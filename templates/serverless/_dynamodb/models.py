{{ header }}
"""DynamoDB tables of the {{ svc.name.raw }} service. Terraform creates them from the same design
(`infra/terraform/main.tf`); each names the setting (the environment variable) holding its name."""
{%- if svc.code.router_order %}
{%- set_global uses_uuid = false %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% for c in e.columns %}{% if c.pk and c.kind == "uuid" %}{% set_global uses_uuid = true %}{% endif %}{% endfor %}{% endfor %}
{%- set_global has_index = false %}{% set_global has_check = false %}{% set_global has_referrer = false %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% for t in m.serverless.tables %}{% if t.entity == e.name.raw %}
{%- if t.indexes %}{% set_global has_index = true %}{% endif %}
{%- if t.checks %}{% set_global has_check = true %}{% endif %}
{%- if t.referenced_by %}{% set_global has_referrer = true %}{% endif %}
{%- endif %}{% endfor %}{% endfor %}
{% if uses_uuid %}
import uuid
{% endif %}
from app.db import {% if has_index %}Index, {% endif %}{% if has_check %}RefCheck, {% endif %}{% if has_referrer %}Referrer, {% endif %}Table
{%- set_global n = 0 %}
{%- for i in svc.entity_ids %}{% set e = m.entities[i] %}{% for t in m.serverless.tables %}{% if t.entity == e.name.raw %}
{% if n > 0 %}
{% endif %}
{{ e.name.pascal }} = Table(
    setting="{{ t.field }}",
    key="{{ t.hash_key }}",
    key_type={% for c in e.columns %}{% if c.pk %}{% if c.kind == "uuid" %}uuid.UUID{% else %}str{% endif %}{% endif %}{% endfor %},
{%- if e.columns | length == 1 %}
    columns=("{{ e.columns[0].name }}",),
{%- else %}
    columns=(
{%- for c in e.columns %}
        "{{ c.name }}",
{%- endfor %}
    ),
{%- endif %}
{%- if t.generated | length == 1 %}
    generated=(("{{ t.generated[0] | first }}", "{{ t.generated[0] | last }}"),),
{%- elif t.generated %}
    generated=(
{%- for g in t.generated %}
        ("{{ g | first }}", "{{ g | last }}"),
{%- endfor %}
    ),
{%- endif %}
{%- if t.indexes | length == 1 %}
    indexes=(Index("{{ t.indexes[0].name }}", "{{ t.indexes[0].hash_key }}"),),
{%- elif t.indexes %}
    indexes=(
{%- for x in t.indexes %}
        Index("{{ x.name }}", "{{ x.hash_key }}"),
{%- endfor %}
    ),
{%- endif %}
{%- if t.checks | length == 1 %}{% set c = t.checks[0] %}
    checks=(RefCheck("{{ c.column }}", "{{ c.table_field }}", "{{ c.key }}"),),
{%- elif t.checks %}
    checks=(
{%- for c in t.checks %}
        RefCheck("{{ c.column }}", "{{ c.table_field }}", "{{ c.key }}"),
{%- endfor %}
    ),
{%- endif %}
{%- if t.referenced_by | length == 1 %}{% set r = t.referenced_by[0] %}
    referenced_by=(Referrer("{{ r.entity }}", "{{ r.table_field }}", "{{ r.index }}", "{{ r.column }}"),),
{%- elif t.referenced_by %}
    referenced_by=(
{%- for r in t.referenced_by %}
        Referrer("{{ r.entity }}", "{{ r.table_field }}", "{{ r.index }}", "{{ r.column }}"),
{%- endfor %}
    ),
{%- endif %}
)
{%- set_global n = n + 1 %}
{%- endif %}{% endfor %}{% endfor %}
{%- endif %}
