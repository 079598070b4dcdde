{{ header }}
-- Undo V001 for `{{ database.name.raw }}`: drop its tables (their indexes and keys go with them).
{%- for i in database.entity_ids | reverse %}{% set e = m.entities[i] %}
DROP TABLE IF EXISTS "{{ e.table }}" CASCADE;
{%- endfor %}
