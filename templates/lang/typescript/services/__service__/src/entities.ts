{%- set svc = service %}{{ header }}
// The entities this service owns, as the CRUD routes serve them: table, columns, the request
// bodies' JSON Schemas (the OpenAPI contract's), access rules and checked references.
import type { Rule } from "./auth.js";
import type { Clients, Forwarded } from "./clients.js";
import type { TableSpec } from "./db.js";

export interface Reference {
  field: string;
  target: string;
  /** The row exists (false), or the owner cannot say (throws DependencyUnavailable). */
  exists: (clients: Clients, key: unknown, forwarded: Forwarded) => Promise<boolean>;
}

export interface EntitySpec extends TableSpec {
  name: string;
  path: string;
  /** `<service>:<table>`, the prefix of its rows' Redis keys, when reads by id are cached. */
  cachePrefix: string | null;
  createSchema: object;
  updateSchema: object;
  keySchema: object;
  readRule: Rule;
  writeRule: Rule;
  owner: string | null;
  decimalBounds: ReadonlyArray<{ column: string; minimum?: string; maximum?: string }>;
  references: readonly Reference[];
  /** Topics a new row is published on (through the outbox, in the row's transaction). */
  publishes: readonly string[];
}
{%- for e in svc.ts.entities %}

export interface {{ e.pascal }} {
{%- for f in e.fields %}
  {{ f.name }}: {{ f.ts_type }}{% if f.nullable %} | null{% endif %};
{%- endfor %}
}
{%- endfor %}

/** In registration order: nested paths first. */
export const entities: readonly EntitySpec[] = [
{%- for e in svc.ts.entities %}
  {
    name: "{{ e.name }}",
    table: "{{ e.table }}",
    path: "{{ e.api_path }}",
    pk: "{{ e.pk }}",
    columns: [{% for c in e.columns %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
    kinds: {
      uuid: [{% for c in e.kinds.uuid %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
      bool: [{% for c in e.kinds.bool %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
      json: [{% for c in e.kinds.json %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
      timestamp: [{% for c in e.kinds.timestamp %}"{{ c }}"{% if not loop.last %}, {% endif %}{% endfor %}],
    },
    cachePrefix: {% if e.cache_prefix %}"{{ e.cache_prefix }}"{% else %}null{% endif %},
    createSchema: {{ e.create_schema }},
    updateSchema: {{ e.update_schema }},
    keySchema: {{ e.key_schema }},
    readRule: { kind: "{{ e.read_rule.kind }}"{% if e.read_rule.role %}, role: {{ e.read_rule.role | json }}{% endif %} },
    writeRule: { kind: "{{ e.write_rule.kind }}"{% if e.write_rule.role %}, role: {{ e.write_rule.role | json }}{% endif %} },
    owner: {% if e.owner %}"{{ e.owner }}"{% else %}null{% endif %},
    decimalBounds: [
{%- for b in e.decimal_bounds %}
      { column: "{{ b.column }}"{% if b.minimum %}, minimum: "{{ b.minimum }}"{% endif %}{% if b.maximum %}, maximum: "{{ b.maximum }}"{% endif %} },
{%- endfor %}
    ],
    references: [
{%- for r in e.references %}
      {
        field: "{{ r.field }}",
        target: "{{ r.target }}",
        exists: async (clients, key, forwarded) =>
          (await clients.{{ r.client }}.{{ r.method }}(String(key), forwarded)) !== null,
      },
{%- endfor %}
    ],
    publishes: [{% for t in e.publishes %}"{{ t }}"{% if not loop.last %}, {% endif %}{% endfor %}],
  },
{%- endfor %}
];
