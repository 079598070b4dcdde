{%- set svc = service %}{{ header }}
// The DynamoDB tables the {{ svc.name.raw }} functions use, as Terraform creates them
// (infra/terraform/main.tf): each one's key (no sort key: every access by key is one item), the
// columns filled in on create, the global secondary indexes the code queries (a user's own rows;
// the rows still referring to a row), the references checked in another table of the same
// database and the tables whose rows refer to its rows. `setting` names the variable holding a
// table's name (src/config.ts).

export interface Index {
  name: string;
  key: string;
  keyType: "S" | "N";
  /** A user's own rows are listed through it. */
  owner: boolean;
}

export interface TableDesign {
  /** Its entity's name in src/entities.ts. */
  entity: string;
  setting: string;
  key: string;
  keyType: "S" | "N";
  /** The service's own table (its routes serve it); else one its code only reads. */
  own: boolean;
  generated: ReadonlyArray<{ column: string; how: "uuid" | "now" }>;
  indexes: readonly Index[];
  /** `column` holds the `key` of a row of the table named by `setting`. */
  checks: ReadonlyArray<{ column: string; setting: string; key: string }>;
  /** Rows of the table named by `setting` refer to this table's rows through `column`. */
  referencedBy: ReadonlyArray<{ setting: string; index: string; column: string }>;
}

export const tables: readonly TableDesign[] = [
{%- for t in svc.ts.functions.tables %}
  {
    entity: {{ t.entity | json }},
    setting: {{ t.setting | json }},
    key: {{ t.key | json }},
    keyType: "{{ t.key_type }}",
    own: {{ t.own }},
    generated: [{% for g in t.generated %}{ column: {{ g.column | json }}, how: "{{ g.how }}" }{% if not loop.last %}, {% endif %}{% endfor %}],
    indexes: [{% for i in t.indexes %}
      { name: {{ i.name | json }}, key: {{ i.key | json }}, keyType: "{{ i.key_type }}", owner: {{ i.owner }} },{% endfor %}{% if t.indexes %}
    {% endif %}],
    checks: [{% for c in t.checks %}
      { column: {{ c.column | json }}, setting: {{ c.setting | json }}, key: {{ c.key | json }} },{% endfor %}{% if t.checks %}
    {% endif %}],
    referencedBy: [{% for r in t.referenced_by %}
      { setting: {{ r.setting | json }}, index: {{ r.index | json }}, column: {{ r.column | json }} },{% endfor %}{% if t.referenced_by %}
    {% endif %}],
  },
{%- endfor %}
];

/** The design of an entity's own table. */
export function designOf(entity: string): TableDesign {
  const design = tables.find((t) => t.own && t.entity === entity);
  if (design === undefined) {
    throw new Error(`${entity} has no DynamoDB table`);
  }
  return design;
}
