{%- set svc = service %}{{ header }}
// The entities this {% if svc.ts.modules %}app's modules own{% else %}service owns{% endif %}, as the CRUD routes serve them: table, columns, the request
// bodies' JSON Schemas (the OpenAPI contract's), access rules and checked references.
import type { Rule } from "./auth.js";
import type { Clients, Forwarded } from "./clients.js";
import type { TableSpec } from "./db.js";
{%- for mod in svc.ts.modules %}
import { entities as {{ mod.import }} } from "./modules/{{ mod.file }}.js";
{%- endfor %}

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
{%- if svc.ts.modules %}

/** Every module's entities, in the order of the blueprint's services. */
export const entities: readonly EntitySpec[] = [
{%- for mod in svc.ts.modules %}
  ...{{ mod.import }},
{%- endfor %}
];
{%- else %}
{%- include "lang/typescript/_partials/entity_specs.tera" %}
{%- endif %}
