{{ header }}
-- Database `{{ database.name.raw }}` ({{ database.engine }}), used by: {{ database.services | join(sep=", ") }}.
-- Version 001: the tables of {{ database.entities | join(sep=", ") }}. Applied by dbmate (`dbmate up`),
-- which runs the `migrate:up` block and records the version in schema_migrations; `dbmate rollback`
-- runs the `migrate:down` block. Later changes come as new files (002_...); this one is never rewritten.

-- migrate:up{{ database.init_up }}

-- migrate:down
{{ database.init_down }}
