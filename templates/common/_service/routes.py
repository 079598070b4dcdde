{{ header }}
"""HTTP routes of the {{ svc.name.raw }} service: CRUD for each entity it owns."""

from fastapi import APIRouter
{% if svc.code.router_order %}
from app.crud import crud_router

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
    ),
{%- endfor %}
]
{%- else -%}
routers: list[APIRouter] = []
{%- endif %}
