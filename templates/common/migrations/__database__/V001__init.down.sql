{{ header }}
-- Undo V001 for `{{ database.name.raw }}`: drop its tables (their indexes and keys go with them).
{%- for e in m.entities | reverse %}{% if e.database == database.name.raw %}
DROP TABLE IF EXISTS "{{ e.table }}" CASCADE;
{%- endif %}{% endfor %}
