{{ header }}
"""Pydantic schemas of the {{ svc.name.raw }} API: create, update (partial), read and page."""
{%- if svc.code.router_order %}
{% if svc.code.schema_imports %}
{{ svc.code.schema_imports | join(sep="
") }}
{% endif %}
from pydantic import BaseModel, ConfigDict{% if svc.code.schema_needs_field %}, Field{% endif %}
{% for i in svc.entity_ids %}{% set e = m.entities[i] %}

class {{ e.name.pascal }}Create(BaseModel):
    """Body of `POST {{ e.code.api_path }}`."""

    model_config = ConfigDict(extra="forbid")
{% for c in e.columns %}{% if c.code.writable %}
    {{ c.name }}: {{ c.code.schema_type }}{% if c.nullable %} | None{% endif %}{% if c.default_py %} = {{ c.default_py }}{% elif c.nullable %} = None{% endif %}
{%- endif %}{% endfor %}


class {{ e.name.pascal }}Update(BaseModel):
    """Body of `PATCH {{ e.code.api_path }}/{id}`: only the fields sent are changed."""

    model_config = ConfigDict(extra="forbid")
{% for c in e.columns %}{% if c.code.writable %}
    {{ c.name }}: {{ c.code.schema_type }} | None = None
{%- endif %}{% endfor %}


class {{ e.name.pascal }}Read(BaseModel):
    """A row of `{{ e.table }}` as the API returns it."""

    model_config = ConfigDict(from_attributes=True)
{% for c in e.columns %}
    {{ c.name }}: {{ c.code.model_type }}{% if c.nullable %} | None{% endif %}
{%- endfor %}


class {{ e.name.pascal }}Page(BaseModel):
    """One page of `GET {{ e.code.api_path }}`; `next` is the `after` of the next page."""

    items: list[{{ e.name.pascal }}Read]
    next: {% for c in e.columns %}{% if c.pk %}{{ c.code.model_type }}{% endif %}{% endfor %} | None
{% endfor %}
{%- endif %}
