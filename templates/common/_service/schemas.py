{{ header }}
"""Pydantic schemas of the {{ svc.name.raw }} API: create, update (partial), read and page."""
{%- if svc.code.router_order %}
{% if svc.code.schema_imports %}
{{ svc.code.schema_imports | join(sep="
") }}
{% endif %}
from pydantic import {% if svc.code.schema_needs_nul_check or svc.code.schema_needs_json_nul_check %}AfterValidator, {% endif %}BaseModel, ConfigDict{% if svc.code.schema_needs_field %}, Field{% endif %}
{%- if svc.code.schema_needs_nul_check %}


def reject_nul(value: str) -> str:
    """PostgreSQL cannot store NUL characters: text holding one is invalid input (422), not a failed INSERT."""
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value
{%- endif %}
{%- if svc.code.schema_needs_json_nul_check %}


def reject_nul_in_json(value: Any) -> Any:
    """The same for every string inside a JSON value (keys too): PostgreSQL's JSONB refuses `\\u0000`."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str) and "\x00" in item:
            raise ValueError("JSON text must not contain NUL characters")
        if isinstance(item, dict):
            pending.extend(item.keys())
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return value
{%- endif %}
{%- set_global after_imports = not (svc.code.schema_needs_nul_check or svc.code.schema_needs_json_nul_check) %}
{%- if not after_imports or svc.code.schema_has_alias %}
{% endif %}{% for i in svc.entity_ids %}{% set e = m.entities[i] %}
{%- for c in e.columns %}{% if c.code.writable and c.code.schema_alias %}
{%- if after_imports %}{% set_global after_imports = false %}
{% else %}

{% endif %}
{{- c.code.schema_alias }}
{%- endif %}{% endfor %}


class {{ e.name.pascal }}Create(BaseModel):
    """Body of `POST {{ e.code.api_path }}`."""

    model_config = ConfigDict(extra="forbid")
{% for c in e.columns %}{% if c.code.writable %}
    {{ c.name }}: {{ c.code.schema_type }}{% if c.nullable %} | None{% endif %}{% if c.default_py %} = {{ c.default_py }}{% elif c.nullable %} = None{% endif %}
{%- endif %}{% endfor %}


class {{ e.name.pascal }}Update(BaseModel):
    """Body of `PATCH {{ e.code.api_path }}/{id}`: only the fields sent are changed.
{%- if e.code.auth.flow_columns %}
    {{ e.code.auth.flow_columns | join(sep=", ") }}: moved by the event flow, not by clients.
{%- endif %}"""

    model_config = ConfigDict(extra="forbid")
{% for c in e.columns %}{% if c.code.updatable %}
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
