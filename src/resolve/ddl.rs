//! The tables of a database as SQL sees them, and the one place that writes their DDL.
//!
//! A database's first migration (`001_init.sql`) prints [`init_up`] / [`init_down`], and a
//! later migration that creates a table (`migrate`) calls the same [`create_tables`], so a
//! table added after the first generation is created exactly as a fresh generation would create
//! it: identity keys, defaults, named constraints, comments and indexes alike. The structs are
//! also what the write stage records as the schema of the last generation (serde), which the
//! next generation diffs against.

use super::data::Entity;
use super::data::constraint;
use serde::{Deserialize, Serialize};
use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    #[serde(default)]
    pub indexes: Vec<Index>,
    /// `COMMENT ON TABLE` text (not compared by migrations).
    #[serde(default)]
    pub comment: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Column {
    pub name: String,
    pub sql_type: String,
    #[serde(default)]
    pub pk: bool,
    #[serde(default)]
    pub nullable: bool,
    #[serde(default)]
    pub unique: bool,
    #[serde(default)]
    pub default: Option<String>,
    /// `table(column)` of a real foreign key.
    #[serde(default)]
    pub references: Option<String>,
    /// CHECK constraints (enum values, bounds, pattern, non-empty), named by the model.
    #[serde(default)]
    pub checks: Vec<Check>,
    /// `COMMENT ON COLUMN` text: a logical reference to another database (not compared).
    #[serde(default)]
    pub comment: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Check {
    pub name: String,
    pub expr: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Index {
    pub name: String,
    pub columns: Vec<String>,
    /// A partial index's condition (`"sent_at" IS NULL`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub predicate: Option<String>,
}

/// The table of an entity.
pub fn table(e: &Entity) -> Table {
    Table {
        name: e.table.clone(),
        columns: e
            .columns
            .iter()
            .map(|c| Column {
                name: c.name.clone(),
                sql_type: c.sql_type.clone(),
                pk: c.pk,
                nullable: c.nullable,
                unique: c.unique,
                default: c.default_sql.clone(),
                references: c
                    .reference
                    .as_ref()
                    .filter(|r| r.foreign_key)
                    .map(|r| format!("{}({})", r.table, r.column)),
                checks: c
                    .checks
                    .iter()
                    .map(|k| Check {
                        name: k.name.clone(),
                        expr: k.expr.clone(),
                    })
                    .collect(),
                comment: c.reference.as_ref().filter(|r| !r.foreign_key).map(|r| {
                    format!(
                        "Logical reference to {}.{} ({}) in another database: no foreign key.",
                        r.table, r.column, r.entity
                    )
                }),
            })
            .collect(),
        indexes: e
            .indexes
            .iter()
            .map(|i| Index {
                name: i.name.clone(),
                columns: i.columns.clone(),
                predicate: None,
            })
            .collect(),
        comment: format!("Entity {}, owned by the {} service.", e.name.raw, e.owner),
    }
}

fn col(name: &str, sql_type: &str, nullable: bool, default: Option<&str>) -> Column {
    Column {
        name: name.into(),
        sql_type: sql_type.into(),
        pk: false,
        nullable,
        unique: false,
        default: default.map(str::to_owned),
        references: None,
        checks: Vec::new(),
        comment: None,
    }
}

fn index(name: &str, column: &str, predicate: Option<&str>) -> Index {
    Index {
        name: name.into(),
        columns: vec![column.into()],
        predicate: predicate.map(str::to_owned),
    }
}

/// The tables of a database whose services publish or consume events: `outbox` holds each
/// published event, written in the transaction of its row, until the relay has sent it;
/// `processed_events` holds the ids of events already handled, so a redelivery has no second
/// effect. They follow the entities' tables, so a tree generated before them gets them in a
/// later migration.
pub fn event_tables() -> Vec<Table> {
    let mut id = col("id", "BIGINT", false, None);
    id.pk = true;
    let mut event_id = col("event_id", "UUID", false, None);
    event_id.unique = true;
    let outbox = Table {
        name: "outbox".into(),
        columns: vec![
            id,
            event_id,
            col("topic", "VARCHAR(255)", false, None),
            col("aggregate_key", "VARCHAR(255)", false, None),
            col("payload", "TEXT", false, None),
            col("created_at", "TIMESTAMPTZ", false, Some("now()")),
            col("sent_at", "TIMESTAMPTZ", true, None),
            col("attempts", "INTEGER", false, Some("0")),
            col("last_error", "TEXT", true, None),
        ],
        indexes: vec![
            index("ix_outbox_unsent", "id", Some("\"sent_at\" IS NULL")),
            index("ix_outbox_sent_at", "sent_at", None),
        ],
        comment: "Transactional outbox: events written with their row, sent by the relay.".into(),
    };
    let mut handled = col("event_id", "UUID", false, None);
    handled.pk = true;
    let mut topic = col("topic", "VARCHAR(255)", false, None);
    topic.pk = true;
    let processed = Table {
        name: "processed_events".into(),
        columns: vec![
            handled,
            topic,
            col("processed_at", "TIMESTAMPTZ", false, Some("now()")),
        ],
        indexes: vec![index(
            "ix_processed_events_processed_at",
            "processed_at",
            None,
        )],
        comment: "Ids of the events this database's consumers have handled (idempotency).".into(),
    };
    vec![outbox, processed]
}

/// A quoted identifier (our names are snake case; quoting keeps reserved words usable).
pub fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn literal(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

/// The `migrate:up` block of a database's first migration.
pub fn init_up(tables: &[Table]) -> String {
    create_tables(tables.iter())
}

/// The `migrate:down` block of a database's first migration.
pub fn init_down(tables: &[Table]) -> String {
    let mut s =
        String::from("-- Undo version 001: drop the tables (their indexes and keys go with them).");
    for t in tables.iter().rev() {
        let _ = write!(s, "\nDROP TABLE IF EXISTS {} CASCADE;", quoted(&t.name));
    }
    s
}

/// `CREATE TABLE` with its comments and indexes for each table, then the foreign keys, so
/// tables may reference each other in any order.
pub fn create_tables<'a>(tables: impl Iterator<Item = &'a Table> + Clone) -> String {
    let mut s = String::new();
    for t in tables.clone() {
        s.push('\n');
        s.push_str(&create_table(t));
    }
    for t in tables {
        for c in t.columns.iter().filter(|c| c.references.is_some()) {
            s.push_str(&add_foreign_key(&t.name, c));
        }
    }
    s
}

fn create_table(t: &Table) -> String {
    let mut s = format!("\nCREATE TABLE {} (", quoted(&t.name));
    let single_key = single_key(t);
    for c in &t.columns {
        let _ = write!(s, "\n    {},", column_def(c, single_key));
    }
    let _ = write!(s, "\n    {}", primary_key(t).sql());
    for k in t.columns.iter().filter_map(|c| unique(&t.name, c)) {
        let _ = write!(s, ",\n    {}", k.sql());
    }
    for k in t.columns.iter().flat_map(checks) {
        let _ = write!(s, ",\n    {}", k.sql());
    }
    s.push_str("\n);");
    let _ = write!(
        s,
        "\nCOMMENT ON TABLE {} IS {};",
        quoted(&t.name),
        literal(&t.comment)
    );
    for c in &t.columns {
        if let Some(comment) = column_comment(&t.name, c) {
            let _ = write!(s, "\n{comment}");
        }
    }
    for i in &t.indexes {
        let _ = write!(s, "\n{};", index_def(&t.name, i));
    }
    s
}

/// A named constraint: `CREATE TABLE` lists a column's after the columns (a foreign key is
/// added once every table exists); a later migration adds the same with `ALTER TABLE … ADD`.
#[derive(Debug, Clone, PartialEq)]
pub struct Constraint {
    pub name: String,
    /// What it asserts: `UNIQUE ("email")`, `CHECK (…)`, `FOREIGN KEY (…) REFERENCES …`.
    pub body: String,
}

impl Constraint {
    /// `CONSTRAINT "name" <body>`.
    pub fn sql(&self) -> String {
        format!("CONSTRAINT {} {}", quoted(&self.name), self.body)
    }
}

/// The table has one key column (an identity or a random UUID then), not a composite key.
pub fn single_key(t: &Table) -> bool {
    t.columns.iter().filter(|c| c.pk).count() == 1
}

/// The primary key over the table's key columns.
pub fn primary_key(t: &Table) -> Constraint {
    let keys: Vec<String> = t
        .columns
        .iter()
        .filter(|c| c.pk)
        .map(|c| quoted(&c.name))
        .collect();
    Constraint {
        name: constraint::primary_key(&t.name),
        body: format!("PRIMARY KEY ({})", keys.join(", ")),
    }
}

/// The column's `UNIQUE` constraint (a key column has none: the primary key covers it).
pub fn unique(table: &str, c: &Column) -> Option<Constraint> {
    (c.unique && !c.pk).then(|| Constraint {
        name: constraint::unique(table, &c.name),
        body: format!("UNIQUE ({})", quoted(&c.name)),
    })
}

/// The column's CHECK constraints, under the names the model gave them.
pub fn checks(c: &Column) -> impl Iterator<Item = Constraint> + '_ {
    c.checks.iter().map(check)
}

pub fn check(k: &Check) -> Constraint {
    Constraint {
        name: k.name.clone(),
        body: format!("CHECK ({})", k.expr),
    }
}

/// The column's foreign key, when it references a table of the same database.
pub fn foreign_key(table: &str, c: &Column) -> Option<Constraint> {
    let target = c.references.as_deref()?;
    let (ref_table, ref_col) = target
        .trim_end_matches(')')
        .split_once('(')
        .unwrap_or((target, "id"));
    Some(Constraint {
        name: constraint::foreign_key(table, &c.name),
        body: format!(
            "FOREIGN KEY ({}) REFERENCES {} ({})",
            quoted(&c.name),
            quoted(ref_table),
            quoted(ref_col)
        ),
    })
}

/// `COMMENT ON COLUMN …;` for a column with a comment (a logical reference).
pub fn column_comment(table: &str, c: &Column) -> Option<String> {
    let comment = c.comment.as_ref()?;
    Some(format!(
        "COMMENT ON COLUMN {}.{} IS {};",
        quoted(table),
        quoted(&c.name),
        literal(comment)
    ))
}

/// A column added to an existing table `t` (which lists it), as `CREATE TABLE` would have made
/// it: the same definition, then its constraints and comment, one statement a line.
pub fn add_column(t: &Table, c: &Column) -> String {
    let table = quoted(&t.name);
    let mut s = format!(
        "ALTER TABLE {table} ADD COLUMN {};\n",
        column_def(c, single_key(t))
    );
    let key = c.pk.then(|| primary_key(t));
    let constraints = key
        .into_iter()
        .chain(unique(&t.name, c))
        .chain(checks(c))
        .chain(foreign_key(&t.name, c));
    for k in constraints {
        let _ = writeln!(s, "ALTER TABLE {table} ADD {};", k.sql());
    }
    if let Some(comment) = column_comment(&t.name, c) {
        s.push_str(&comment);
        s.push('\n');
    }
    s
}

/// `CREATE INDEX "name" ON "table" ("a", "b")[ WHERE …]`, without the semicolon.
pub fn index_def(table: &str, i: &Index) -> String {
    let cols: Vec<String> = i.columns.iter().map(|c| quoted(c)).collect();
    let mut s = format!(
        "CREATE INDEX {} ON {} ({})",
        quoted(&i.name),
        quoted(table),
        cols.join(", ")
    );
    if let Some(p) = &i.predicate {
        let _ = write!(s, " WHERE {p}");
    }
    s
}

/// One column: an integer key is an identity and a UUID key defaults to a random UUID, so an
/// insert may leave the key out (a column of a composite key gets neither).
fn column_def(c: &Column, single_key: bool) -> String {
    let key = c.pk && single_key;
    let identity = key && matches!(c.sql_type.as_str(), "INTEGER" | "BIGINT");
    let mut s = format!("{} {}", quoted(&c.name), c.sql_type);
    if identity {
        s.push_str(" GENERATED BY DEFAULT AS IDENTITY");
    }
    if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if key && c.sql_type == "UUID" {
        s.push_str(" DEFAULT gen_random_uuid()");
    } else if let Some(d) = &c.default {
        let _ = write!(s, " DEFAULT {d}");
    }
    s
}

fn add_foreign_key(table: &str, c: &Column) -> String {
    let Some(k) = foreign_key(table, c) else {
        return String::new();
    };
    format!(
        "\n\nALTER TABLE {}\n    ADD CONSTRAINT {}\n    {};",
        quoted(table),
        quoted(&k.name),
        k.body
    )
}
