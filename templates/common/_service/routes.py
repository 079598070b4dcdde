{{ header }}
"""HTTP routes of the {{ svc.name.raw }} service: CRUD for each entity it owns."""

from fastapi import APIRouter
{% if svc.code.router_order %}
{%- if svc.code.auth_imports %}
from app.auth import {{ svc.code.auth_imports | join(sep=", ") }}
{%- endif %}
from app.crud import crud_router
{%- if svc.references %}
from app.references import Ref
{%- endif %}

from . import models, schemas
{% endif %}
{% if svc.code.router_order -%}
routers: list[APIRouter] = [
{%- for i in svc.code.router_ids %}{% set e = m.entities[i] %}
    crud_router(
        path="{{ e.code.api_path }}",
        name="{{ e.name.snake }}",
        model=models.{{ e.name.pascal }},
        create=schemas.{{ e.name.pascal }}Create,
        update=schemas.{{ e.name.pascal }}Update,
        read=schemas.{{ e.name.pascal }}Read,
        page=schemas.{{ e.name.pascal }}Page,
        publishes=({% for t in e.code.publishes %}"{{ t.raw }}"{% if not loop.last %}, {% endif %}{% endfor %}{% if e.code.publishes | length == 1 %},{% endif %}),
{%- if e.code.references | length == 1 %}{% set r = e.code.references | first %}
        references=(Ref("{{ r.field }}", "{{ r.target }}", "{{ r.service }}", "{{ r.operation }}"),),
{%- elif e.code.references %}
        references=(
{%- for r in e.code.references %}
            Ref("{{ r.field }}", "{{ r.target }}", "{{ r.service }}", "{{ r.operation }}"),
{%- endfor %}
        ),
{%- endif %}
{%- if e.code.cache_key_prefix %}
        cache_prefix="{{ e.code.cache_key_prefix }}",
{%- endif %}
        read_rule={{ e.code.auth.read.python }},
        write_rule={{ e.code.auth.write.python }},
{%- if e.code.auth.owner_column %}
        owner="{{ e.code.auth.owner_column }}",
{%- endif %}
    ),
{%- endfor %}
]
{%- else -%}
routers: list[APIRouter] = []
{%- endif %}
