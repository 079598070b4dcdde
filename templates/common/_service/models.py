{{ header }}
"""SQLAlchemy models of the {{ svc.name.raw }} service's tables (the migrations own the schema)."""
{%- if svc.code.router_order %}
{% if svc.code.model_imports %}
{{ svc.code.model_imports | join(sep="
") }}
{% endif %}
import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from app.db import Base
{% for i in svc.entity_ids %}{% set e = m.entities[i] %}

class {{ e.name.pascal }}(Base):
    """Table `{{ e.table }}`."""

    __tablename__ = "{{ e.table }}"
{% for c in e.columns %}
    {{ c.name }}: Mapped[{{ c.code.model_type }}{% if c.nullable %} | None{% endif %}] = mapped_column(
        sa.{{ c.sa_type }},
{%- if c.reference and c.reference.foreign_key %}
        sa.ForeignKey("{{ c.reference.table }}.{{ c.reference.column }}"),
{%- endif %}
{%- if c.pk %}
        primary_key=True,
{%- if c.kind == "uuid" %}
        default=uuid.uuid4,
{%- endif %}
{%- else %}
        nullable={% if c.nullable %}True{% else %}False{% endif %},
{%- endif %}
{%- if c.unique %}
        unique=True,
{%- endif %}
{%- if c.default_sql == "now()" %}
        server_default=sa.func.now(),
{%- elif c.default_sql %}
        server_default=sa.text({{ c.default_sql | quote }}),
{%- endif %}
    )
{%- endfor %}
{%- for i in e.indexes %}
{% if loop.first %}
{% endif %}
sa.Index("{{ i.name }}", {% for c in i.columns %}{{ e.name.pascal }}.{{ c }}{% if not loop.last %}, {% endif %}{% endfor %})
{%- endfor %}
{% endfor %}
{%- endif %}
