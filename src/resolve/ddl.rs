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

/// The SQL a database speaks: PostgreSQL, or MySQL (MySQL 8 and MariaDB ≥ 10.6 alike; ADR 0007).
/// Everything written for a database goes through its dialect, so its first migration, its
/// later ones and the generated code agree.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Dialect {
    #[default]
    Postgres,
    Mysql,
}

impl Dialect {
    /// The dialect of a database engine (`postgres`, `mysql`; DynamoDB has no SQL).
    pub fn of(engine: &str) -> Dialect {
        if engine == "mysql" {
            Dialect::Mysql
        } else {
            Dialect::Postgres
        }
    }

    pub fn is_mysql(self) -> bool {
        self == Dialect::Mysql
    }

    /// A quoted identifier (our names are snake case; quoting keeps reserved words usable):
    /// `"name"` in PostgreSQL, `` `name` `` in MySQL (whose `"` quotes strings by default).
    pub fn quote(self, name: &str) -> String {
        match self {
            Dialect::Postgres => format!("\"{}\"", name.replace('"', "\"\"")),
            Dialect::Mysql => format!("`{}`", name.replace('`', "``")),
        }
    }

    /// A string literal. MySQL also reads backslashes as escapes in literals (unless
    /// `NO_BACKSLASH_ESCAPES`), so a pattern's `\.` is written `\\.` there.
    pub fn literal(self, text: &str) -> String {
        let text = text.replace('\'', "''");
        match self {
            Dialect::Postgres => format!("'{text}'"),
            Dialect::Mysql => format!("'{}'", text.replace('\\', "\\\\")),
        }
    }
}

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
/// later migration. MySQL has no partial index: its relay's lookup of unsent rows uses an
/// index on (`sent_at`, `id`) instead.
pub fn event_tables(d: Dialect) -> Vec<Table> {
    let types = d.types();
    let mut id = col("id", "BIGINT", false, None);
    id.pk = true;
    let mut event_id = col("event_id", types.uuid, false, None);
    event_id.unique = true;
    let unsent = match d {
        Dialect::Postgres => index("ix_outbox_unsent", "id", Some("\"sent_at\" IS NULL")),
        Dialect::Mysql => Index {
            name: "ix_outbox_unsent".into(),
            columns: vec!["sent_at".into(), "id".into()],
            predicate: None,
        },
    };
    let outbox = Table {
        name: "outbox".into(),
        columns: vec![
            id,
            event_id,
            col("topic", "VARCHAR(255)", false, None),
            col("aggregate_key", "VARCHAR(255)", false, None),
            col("payload", "TEXT", false, None),
            col("created_at", types.timestamp, false, Some(types.now)),
            col("sent_at", types.timestamp, true, None),
            col("attempts", "INTEGER", false, Some("0")),
            col("last_error", "TEXT", true, None),
        ],
        indexes: vec![unsent, index("ix_outbox_sent_at", "sent_at", None)],
        comment: "Transactional outbox: events written with their row, sent by the relay.".into(),
    };
    let mut handled = col("event_id", types.uuid, false, None);
    handled.pk = true;
    let mut topic = col("topic", "VARCHAR(255)", false, None);
    topic.pk = true;
    let processed = Table {
        name: "processed_events".into(),
        columns: vec![
            handled,
            topic,
            col("processed_at", types.timestamp, false, Some(types.now)),
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

/// The column types and defaults that differ between the dialects.
#[derive(Debug, Clone, Copy)]
pub struct Types {
    /// A UUID: PostgreSQL's own type; in MySQL 32 hex digits, what SQLAlchemy's `Uuid`
    /// writes where the server has no UUID type (`native_uuid=False`: the same on MySQL 8 and
    /// on MariaDB, whose own UUID type SQLAlchemy would otherwise pick from 10.7 on).
    pub uuid: &'static str,
    /// An instant: `TIMESTAMPTZ`; MySQL's `DATETIME(6)` holds UTC (the sessions' time zone).
    pub timestamp: &'static str,
    pub json: &'static str,
    /// The default of a timestamp set on insert.
    pub now: &'static str,
    /// The default of a date set on insert.
    pub today: &'static str,
    /// The server-side default of a UUID key.
    pub new_uuid: &'static str,
}

impl Dialect {
    pub fn types(self) -> Types {
        match self {
            Dialect::Postgres => Types {
                uuid: "UUID",
                timestamp: "TIMESTAMPTZ",
                json: "JSONB",
                now: "now()",
                today: "CURRENT_DATE",
                new_uuid: "gen_random_uuid()",
            },
            // Expression defaults are written in parentheses (MySQL ≥ 8.0.13, MariaDB ≥ 10.2).
            Dialect::Mysql => Types {
                uuid: "CHAR(32)",
                timestamp: "DATETIME(6)",
                json: "JSON",
                now: "CURRENT_TIMESTAMP(6)",
                today: "(CURRENT_DATE)",
                new_uuid: "(REPLACE(UUID(), '-', ''))",
            },
        }
    }

    /// MySQL accepts a default for TEXT and JSON columns only as an expression.
    pub fn default_for(self, sql_type: &str, value: &str) -> String {
        if self.is_mysql() && matches!(sql_type, "TEXT" | "JSON") && value.starts_with('\'') {
            format!("({value})")
        } else {
            value.to_owned()
        }
    }
}

/// The `migrate:up` block of a database's first migration.
pub fn init_up(d: Dialect, tables: &[Table]) -> String {
    create_tables(d, tables.iter())
}

/// The `migrate:down` block of a database's first migration. (MySQL accepts and ignores
/// `CASCADE`; the tables go in reverse order, so no foreign key points at a dropped table.)
pub fn init_down(d: Dialect, tables: &[Table]) -> String {
    let mut s =
        String::from("-- Undo version 001: drop the tables (their indexes and keys go with them).");
    for t in tables.iter().rev() {
        let _ = write!(s, "\nDROP TABLE IF EXISTS {} CASCADE;", d.quote(&t.name));
    }
    s
}

/// `CREATE TABLE` with its comments and indexes for each table, then the foreign keys, so
/// tables may reference each other in any order.
pub fn create_tables<'a>(d: Dialect, tables: impl Iterator<Item = &'a Table> + Clone) -> String {
    let mut s = String::new();
    for t in tables.clone() {
        s.push('\n');
        s.push_str(&create_table(d, t));
    }
    for t in tables {
        for c in t.columns.iter().filter(|c| c.references.is_some()) {
            s.push_str(&add_foreign_key(d, &t.name, c));
        }
    }
    s
}

fn create_table(d: Dialect, t: &Table) -> String {
    let mut s = format!("\nCREATE TABLE {} (", d.quote(&t.name));
    let pk: Vec<&Column> = t.columns.iter().filter(|c| c.pk).collect();
    for c in &t.columns {
        let _ = write!(s, "\n    {},", column_def(d, c, pk.len() == 1));
    }
    let keys: Vec<String> = pk.iter().map(|c| d.quote(&c.name)).collect();
    let _ = write!(
        s,
        "\n    CONSTRAINT {} PRIMARY KEY ({})",
        d.quote(&constraint::primary_key(&t.name)),
        keys.join(", ")
    );
    for c in t.columns.iter().filter(|c| c.unique && !c.pk) {
        let _ = write!(
            s,
            ",\n    CONSTRAINT {} UNIQUE ({})",
            d.quote(&constraint::unique(&t.name, &c.name)),
            d.quote(&c.name)
        );
    }
    for k in t.columns.iter().flat_map(|c| &c.checks) {
        let _ = write!(
            s,
            ",\n    CONSTRAINT {} CHECK ({})",
            d.quote(&k.name),
            k.expr
        );
    }
    match d {
        Dialect::Postgres => {
            s.push_str("\n);");
            let _ = write!(
                s,
                "\nCOMMENT ON TABLE {} IS {};",
                d.quote(&t.name),
                d.literal(&t.comment)
            );
            for c in &t.columns {
                if let Some(comment) = &c.comment {
                    let _ = write!(
                        s,
                        "\nCOMMENT ON COLUMN {}.{} IS {};",
                        d.quote(&t.name),
                        d.quote(&c.name),
                        d.literal(comment)
                    );
                }
            }
        }
        // InnoDB (foreign keys, transactions), utf8mb4, and a binary collation: text compares,
        // is unique and matches patterns case-sensitively, as in PostgreSQL.
        Dialect::Mysql => {
            let _ = write!(
                s,
                "\n) ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin COMMENT = {};",
                d.literal(&t.comment)
            );
        }
    }
    for i in &t.indexes {
        let _ = write!(s, "\n{};", index_def(d, &t.name, i));
    }
    s
}

/// `CREATE INDEX "name" ON "table" ("a", "b")[ WHERE …]`, without the semicolon.
pub fn index_def(d: Dialect, table: &str, i: &Index) -> String {
    let cols: Vec<String> = i.columns.iter().map(|c| d.quote(c)).collect();
    let mut s = format!(
        "CREATE INDEX {} ON {} ({})",
        d.quote(&i.name),
        d.quote(table),
        cols.join(", ")
    );
    if let Some(p) = &i.predicate {
        let _ = write!(s, " WHERE {p}");
    }
    s
}

/// A column's type, nullability, key default and comment as `CREATE TABLE` and `ADD COLUMN`
/// write it: an integer key is an identity (MySQL: `AUTO_INCREMENT`) and a UUID key defaults to
/// a random UUID, so an insert may leave the key out (a column of a composite key gets neither).
pub fn column_def(d: Dialect, c: &Column, single_key: bool) -> String {
    column(d, c, single_key, None)
}

/// [`column_def`]; `inline` is the table of a PostgreSQL `ADD COLUMN`, which takes the column's
/// constraints inline with the names [`constraint`] builds (those of `CREATE TABLE` too), so a
/// later migration can drop them by name. (MySQL ignores an inline `REFERENCES` and has no
/// inline named `UNIQUE`: there they follow as clauses, see [`Step::AddColumn`].)
fn column(d: Dialect, c: &Column, single_key: bool, inline: Option<&str>) -> String {
    let inline = inline.filter(|_| !d.is_mysql());
    let key = c.pk && single_key;
    let identity = key && matches!(c.sql_type.as_str(), "INTEGER" | "BIGINT");
    let mut s = format!("{} {}", d.quote(&c.name), c.sql_type);
    if identity && !d.is_mysql() {
        s.push_str(" GENERATED BY DEFAULT AS IDENTITY");
    }
    match inline {
        Some(table) if c.pk => {
            let name = d.quote(&constraint::primary_key(table));
            let _ = write!(s, " CONSTRAINT {name} PRIMARY KEY");
        }
        _ if !c.nullable => s.push_str(" NOT NULL"),
        _ => {}
    }
    if let Some(table) = inline.filter(|_| c.unique && !c.pk) {
        let name = d.quote(&constraint::unique(table, &c.name));
        let _ = write!(s, " CONSTRAINT {name} UNIQUE");
    }
    if identity && d.is_mysql() {
        s.push_str(" AUTO_INCREMENT");
    }
    if key && c.sql_type == d.types().uuid {
        let _ = write!(s, " DEFAULT {}", d.types().new_uuid);
    } else if let Some(v) = &c.default {
        let _ = write!(s, " DEFAULT {v}");
    }
    if let Some(table) = inline {
        if let Some(r) = &c.references {
            let name = d.quote(&constraint::foreign_key(table, &c.name));
            let _ = write!(s, " CONSTRAINT {name} REFERENCES {}", target(d, r));
        }
        for k in &c.checks {
            let _ = write!(s, " CONSTRAINT {} CHECK ({})", d.quote(&k.name), k.expr);
        }
    }
    if let (Dialect::Mysql, Some(comment)) = (d, &c.comment) {
        let _ = write!(s, " COMMENT {}", d.literal(comment));
    }
    s
}

/// A foreign key's target as the schema records it, `table(column)`, with both names quoted.
/// (The record keeps the plain form so that trees generated before quoting compare equal.)
fn target(d: Dialect, reference: &str) -> String {
    match reference.trim_end_matches(')').split_once('(') {
        Some((table, column)) => format!("{}({})", d.quote(table), d.quote(column)),
        None => d.quote(reference),
    }
}

/// One change of a database's tables: the diff model `migrate` computes from two schemas, which
/// [`step`] prints with the writers of a first migration (one source for both).
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// New tables, exactly as a first migration creates them; foreign keys after every table.
    CreateTables(Vec<Table>),
    DropTable(String),
    /// The column with its constraints (and its comment, as a first migration gives it).
    AddColumn {
        table: String,
        column: Column,
    },
    /// MySQL refuses to drop a column a foreign key or a CHECK constraint uses: those go first
    /// (nothing in PostgreSQL).
    Release {
        table: String,
        column: Column,
    },
    /// The column, after its [`Step::Release`] when `release`.
    DropColumn {
        table: String,
        column: Column,
        release: bool,
    },
    /// MySQL restates a whole column (type, nullability and default at once).
    Modify {
        table: String,
        column: Column,
    },
    SetType {
        table: String,
        column: String,
        sql_type: String,
    },
    SetNullable {
        table: String,
        column: String,
        nullable: bool,
    },
    SetDefault {
        table: String,
        column: String,
        default: Option<String>,
    },
    AddUnique {
        table: String,
        column: String,
    },
    /// MySQL keeps a unique constraint as an index.
    DropUnique {
        table: String,
        column: String,
    },
    AddForeignKey {
        table: String,
        column: String,
        target: String,
    },
    DropForeignKey {
        table: String,
        column: String,
    },
    AddCheck {
        table: String,
        check: Check,
    },
    DropCheck {
        table: String,
        name: String,
    },
    CreateIndex {
        table: String,
        index: Index,
    },
    DropIndex {
        table: String,
        name: String,
    },
}

/// `IF EXISTS` where the server has it: MySQL 8 has none for constraints, columns or indexes.
fn if_exists(d: Dialect) -> &'static str {
    if d.is_mysql() { "" } else { "IF EXISTS " }
}

/// The SQL of one step, each statement ending in `;` and a newline (empty: nothing to do).
pub fn step(d: Dialect, step: &Step) -> String {
    let q = |n: &str| d.quote(n);
    match step {
        Step::CreateTables(tables) => {
            create_tables(d, tables.iter()).trim_start().to_owned() + "\n"
        }
        Step::DropTable(t) => format!("DROP TABLE IF EXISTS {};\n", q(t)),
        Step::AddColumn { table, column } => add_column(d, table, column),
        Step::Release { table, column } => release(d, table, column),
        Step::DropColumn {
            table,
            column,
            release: first,
        } => format!(
            "{}ALTER TABLE {} DROP COLUMN {}{};\n",
            if *first {
                release(d, table, column)
            } else {
                String::new()
            },
            q(table),
            if_exists(d),
            q(&column.name)
        ),
        Step::Modify { table, column } => format!(
            "ALTER TABLE {} MODIFY COLUMN {};\n",
            q(table),
            column_def(d, column, column.pk)
        ),
        Step::SetType {
            table,
            column,
            sql_type: ty,
        } => {
            let col = q(column);
            format!(
                "ALTER TABLE {} ALTER COLUMN {col} TYPE {ty} USING {col}::{ty};\n",
                q(table)
            )
        }
        Step::SetNullable {
            table,
            column,
            nullable,
        } => {
            let change = if *nullable {
                "DROP NOT NULL"
            } else {
                "SET NOT NULL"
            };
            format!(
                "ALTER TABLE {} ALTER COLUMN {} {change};\n",
                q(table),
                q(column)
            )
        }
        Step::SetDefault {
            table,
            column,
            default,
        } => match default {
            Some(v) => format!(
                "ALTER TABLE {} ALTER COLUMN {} SET DEFAULT {v};\n",
                q(table),
                q(column)
            ),
            None => format!(
                "ALTER TABLE {} ALTER COLUMN {} DROP DEFAULT;\n",
                q(table),
                q(column)
            ),
        },
        Step::AddUnique { table, column } => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} UNIQUE ({});\n",
            q(table),
            q(&constraint::unique(table, column)),
            q(column)
        ),
        Step::DropUnique { table, column } => {
            let name = q(&constraint::unique(table, column));
            match d {
                Dialect::Postgres => format!(
                    "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {name};\n",
                    q(table)
                ),
                Dialect::Mysql => format!("ALTER TABLE {} DROP INDEX {name};\n", q(table)),
            }
        }
        Step::AddForeignKey {
            table,
            column,
            target: r,
        } => format!(
            "ALTER TABLE {} ADD CONSTRAINT {} FOREIGN KEY ({}) REFERENCES {};\n",
            q(table),
            q(&constraint::foreign_key(table, column)),
            q(column),
            target(d, r)
        ),
        Step::DropForeignKey { table, column } => {
            let name = q(&constraint::foreign_key(table, column));
            match d {
                Dialect::Postgres => format!(
                    "ALTER TABLE {} DROP CONSTRAINT IF EXISTS {name};\n",
                    q(table)
                ),
                Dialect::Mysql => format!("ALTER TABLE {} DROP FOREIGN KEY {name};\n", q(table)),
            }
        }
        Step::AddCheck { table, check } => add_check(d, table, check),
        Step::DropCheck { table, name } => drop_check(d, table, name),
        Step::CreateIndex { table, index } => {
            let def = index_def(d, table, index);
            match d {
                Dialect::Mysql => format!("{def};\n"),
                Dialect::Postgres => format!(
                    "{};\n",
                    def.replacen("CREATE INDEX ", "CREATE INDEX IF NOT EXISTS ", 1)
                ),
            }
        }
        Step::DropIndex { table, name } => match d {
            Dialect::Postgres => format!("DROP INDEX IF EXISTS {};\n", q(name)),
            Dialect::Mysql => format!("DROP INDEX {} ON {};\n", q(name), q(table)),
        },
    }
}

/// `ALTER TABLE … ADD COLUMN`: in PostgreSQL with its constraints inline and its comment after;
/// in MySQL with the comment inline and the named constraints as further clauses.
fn add_column(d: Dialect, table: &str, c: &Column) -> String {
    let mut s = format!(
        "ALTER TABLE {} ADD COLUMN {}",
        d.quote(table),
        column(d, c, false, Some(table))
    );
    if d.is_mysql() {
        let col = d.quote(&c.name);
        if c.unique && !c.pk {
            let name = d.quote(&constraint::unique(table, &c.name));
            let _ = write!(s, ", ADD CONSTRAINT {name} UNIQUE ({col})");
        }
        if let Some(r) = &c.references {
            let name = d.quote(&constraint::foreign_key(table, &c.name));
            let _ = write!(
                s,
                ", ADD CONSTRAINT {name} FOREIGN KEY ({col}) REFERENCES {}",
                target(d, r)
            );
        }
        for k in &c.checks {
            let _ = write!(
                s,
                ", ADD CONSTRAINT {} CHECK ({})",
                d.quote(&k.name),
                k.expr
            );
        }
    }
    s.push_str(";\n");
    if let (false, Some(comment)) = (d.is_mysql(), &c.comment) {
        let _ = writeln!(
            s,
            "COMMENT ON COLUMN {}.{} IS {};",
            d.quote(table),
            d.quote(&c.name),
            d.literal(comment)
        );
    }
    s
}

fn release(d: Dialect, table: &str, c: &Column) -> String {
    let mut s = String::new();
    if d.is_mysql() {
        if c.references.is_some() {
            let fk = d.quote(&constraint::foreign_key(table, &c.name));
            let _ = writeln!(s, "ALTER TABLE {} DROP FOREIGN KEY {fk};", d.quote(table));
        }
        for k in &c.checks {
            s.push_str(&drop_check(d, table, &k.name));
        }
    }
    s
}

fn add_check(d: Dialect, table: &str, k: &Check) -> String {
    format!(
        "ALTER TABLE {} ADD CONSTRAINT {} CHECK ({});\n",
        d.quote(table),
        d.quote(&k.name),
        k.expr
    )
}

fn drop_check(d: Dialect, table: &str, name: &str) -> String {
    format!(
        "ALTER TABLE {} DROP CONSTRAINT {}{};\n",
        d.quote(table),
        if_exists(d),
        d.quote(name)
    )
}

fn add_foreign_key(d: Dialect, table: &str, c: &Column) -> String {
    let target = c.references.as_deref().unwrap_or_default();
    let (ref_table, ref_col) = target
        .trim_end_matches(')')
        .split_once('(')
        .unwrap_or((target, "id"));
    format!(
        "\n\nALTER TABLE {}\n    ADD CONSTRAINT {}\n    FOREIGN KEY ({}) REFERENCES {} ({});",
        d.quote(table),
        d.quote(&constraint::foreign_key(table, &c.name)),
        d.quote(&c.name),
        d.quote(ref_table),
        d.quote(ref_col)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn column(name: &str, sql_type: &str) -> Column {
        col(name, sql_type, false, None)
    }

    /// One column writer: `ADD COLUMN` writes a column as `CREATE TABLE` does (PostgreSQL adds
    /// its constraints inline, by the names `CREATE TABLE` gives them).
    #[test]
    fn an_added_column_is_written_as_create_table_writes_it() {
        let mut plain = vec![
            column("a", "INTEGER"),
            col("b", "TEXT", true, None),
            col("c", "VARCHAR(20)", false, Some("'x'")),
        ];
        plain[2].comment = Some("a note".into());
        for d in [Dialect::Postgres, Dialect::Mysql] {
            for c in &plain {
                let add = step(
                    d,
                    &Step::AddColumn {
                        table: "t".into(),
                        column: c.clone(),
                    },
                );
                let def = column_def(d, c, false);
                assert!(
                    add.starts_with(&format!("ALTER TABLE {} ADD COLUMN {def};\n", d.quote("t"))),
                    "{d:?}: {add}"
                );
            }
        }
        let mut constrained = column("d", "INTEGER");
        constrained.unique = true;
        constrained.references = Some("u(id)".into());
        constrained.checks = vec![Check {
            name: "ck_t_d_min".into(),
            expr: "\"d\" >= 0".into(),
        }];
        for d in [Dialect::Postgres, Dialect::Mysql] {
            let add = step(
                d,
                &Step::AddColumn {
                    table: "t".into(),
                    column: constrained.clone(),
                },
            );
            for name in [
                constraint::unique("t", "d"),
                constraint::foreign_key("t", "d"),
                "ck_t_d_min".into(),
            ] {
                assert!(add.contains(&d.quote(&name)), "{d:?}: {add}");
            }
        }
    }
}
