//! Schema-diff migrations. Input: the resolved schema recorded at the last generation and the
//! one of the current model. Output: for every database whose schema changed, one new migration
//! `00N_<slug>.sql` in the layout of the runner, dbmate (a `-- migrate:up` block, then a
//! `-- migrate:down` block, in one file whose name starts with its version), numbered after
//! every migration that already exists, plus a warning for each change that can lose data. Pure;
//! the write stage treats migration files as write-once, so history is append-only.
//!
//! The first migration of a database (`001_init.sql`) normally comes from the template set;
//! when none does, it is computed here as the difference from an empty schema.
//!
//! Trees generated before dbmate kept a pair per version (`V001__init.sql` and
//! `V001__init.down.sql`), which dbmate ignores; [`convert_legacy`] turns each pair into the
//! single file dbmate reads, from the text on disk, so hand edits travel with it.

use crate::resolve::Model;
use crate::resolve::constraint;
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;

/// Every database's tables, as the migrations see them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Migrations folder (`migrations/orders-db`) → its tables.
    pub databases: BTreeMap<String, Vec<Table>>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Table {
    pub name: String,
    pub columns: Vec<Column>,
    #[serde(default)]
    pub indexes: Vec<Index>,
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
}

impl Schema {
    pub fn from_model(m: &Model) -> Schema {
        let mut databases = BTreeMap::new();
        for db in &m.databases {
            let tables = m
                .entities
                .iter()
                .filter(|e| e.database.as_deref() == Some(db.name.raw.as_str()))
                .map(|e| Table {
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
                        })
                        .collect(),
                    indexes: e
                        .indexes
                        .iter()
                        .map(|i| Index {
                            name: i.name.clone(),
                            columns: i.columns.clone(),
                        })
                        .collect(),
                })
                .collect();
            databases.insert(db.migrations_dir.clone(), tables);
        }
        Schema { databases }
    }
}

/// A migration to add to a database's folder.
#[derive(Debug, Clone, PartialEq)]
pub struct Migration {
    /// `migrations/orders-db/002_add_orders_note.sql`
    pub path: String,
    /// The whole file: header, `-- migrate:up` block, `-- migrate:down` block.
    pub content: String,
    /// Changes that can lose data or fail on existing rows.
    pub warnings: Vec<String>,
}

/// Which migration folders already have what.
#[derive(Debug, Default)]
pub struct Known {
    /// Every path already in the migrations folders (recorded, on disk or rendered now); new
    /// migrations are numbered after all of them.
    pub existing: BTreeSet<String>,
    /// Folders with migrations generated before: the recorded schema is their baseline.
    pub history: BTreeSet<String>,
    /// Folders whose first migration the template set renders.
    pub templated: BTreeSet<String>,
}

/// The migrations this generation adds.
pub fn plan(previous: Option<&Schema>, current: &Schema, known: &Known) -> Vec<Migration> {
    let Known {
        existing,
        history: had_history,
        templated,
    } = known;
    let mut out = Vec::new();
    for (dir, tables) in &current.databases {
        let numbers: Vec<u64> = existing.iter().filter_map(|p| version(p, dir)).collect();
        let (from, slug): (&[Table], Option<String>) = if had_history.contains(dir) {
            let Some(prev) = previous else { continue };
            (prev.databases.get(dir).map_or(&[][..], Vec::as_slice), None)
        } else if !templated.contains(dir) && !tables.is_empty() {
            (&[][..], Some("init".to_owned()))
        } else {
            continue;
        };
        let d = diff(from, tables);
        if d.up.is_empty() {
            continue;
        }
        let n = numbers.iter().max().map_or(1, |n| n + 1);
        let slug = slug.unwrap_or_else(|| d.slug.clone());
        let stem = format!("{dir}/{n:03}_{slug}");
        // The text leaves the number out, so a migration a killed run already wrote can be
        // recognised (and adopted) by its content.
        let content = format!(
            "-- Generated by codex-system-design from blueprint.yaml: migration `{slug}`, applied by dbmate.\n-- Append-only history: never rewritten by regeneration.\n\n{UP}\n{}\n{DOWN}\n{}",
            d.up.join("\n"),
            d.down.join("\n")
        );
        out.push(Migration {
            path: format!("{stem}.sql"),
            content,
            warnings: d
                .warnings
                .into_iter()
                .map(|w| format!("{stem}.sql: {w}"))
                .collect(),
        });
    }
    out
}

/// dbmate's block markers.
pub const UP: &str = "-- migrate:up";
pub const DOWN: &str = "-- migrate:down";

/// The version of a migration file directly in `dir`: `012_x.sql` → 12 (dbmate reads files
/// whose names start with digits), and a legacy `V012__x.sql` → 12 too, so numbering never
/// reuses a version whatever the layout.
pub fn version(path: &str, dir: &str) -> Option<u64> {
    let name = path.strip_prefix(dir)?.strip_prefix('/')?;
    if name.contains('/') || !name.ends_with(".sql") {
        return None;
    }
    if let Some((n, _)) = legacy_name(name) {
        return Some(n);
    }
    let digits: String = name.chars().take_while(char::is_ascii_digit).collect();
    if digits.is_empty() || !name[digits.len()..].starts_with('_') {
        return None;
    }
    digits.parse().ok()
}

/// `V012__add_x.sql` → (12, "add_x"); `V012__add_x.down.sql` and anything else → None.
fn legacy_name(name: &str) -> Option<(u64, &str)> {
    let rest = name.strip_prefix('V')?.strip_suffix(".sql")?;
    let (digits, slug) = rest.split_once("__")?;
    if slug.ends_with(".down") || slug.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some((digits.parse().ok()?, slug))
}

/// One legacy pair turned into a dbmate file.
#[derive(Debug, Clone, PartialEq)]
pub struct Conversion {
    /// `migrations/orders-db/001_init.sql`
    pub path: String,
    pub content: String,
    /// The legacy files it replaces (`V001__init.sql`, and `V001__init.down.sql` when present).
    pub from: Vec<String>,
}

/// The legacy migrations of `dir` (`V00N__x.sql` with `V00N__x.down.sql`), given as file name
/// → text, each as the one dbmate file `00N_x.sql`: the header and up text under
/// `-- migrate:up`, the down text under `-- migrate:down`. The texts are taken as they are, so
/// edits made by hand are kept. A version without a down file gets an empty down block.
pub fn convert_legacy(dir: &str, files: &BTreeMap<String, String>) -> Vec<Conversion> {
    let mut out = Vec::new();
    for (name, up) in files {
        let Some((n, slug)) = legacy_name(name) else {
            continue;
        };
        let down_name = format!("{}.down.sql", name.trim_end_matches(".sql"));
        let mut from = vec![format!("{dir}/{name}")];
        let down = match files.get(&down_name) {
            Some(text) => {
                from.push(format!("{dir}/{down_name}"));
                text.clone()
            }
            None => format!("-- {name} had no down script.\n"),
        };
        let block = |text: &str| {
            if text.ends_with('\n') {
                text.to_owned()
            } else {
                format!("{text}\n")
            }
        };
        let content = format!(
            "-- Converted by codex-system-design from {name} and {down_name} (the runner is dbmate).\n{UP}\n{}\n{DOWN}\n{}",
            block(up),
            block(&down)
        );
        out.push(Conversion {
            path: format!("{dir}/{n:03}_{slug}.sql"),
            content,
            from,
        });
    }
    out
}

#[derive(Debug, Default)]
struct Diff {
    up: Vec<String>,
    down: Vec<String>,
    warnings: Vec<String>,
    slug: String,
}

/// Statements taking `from` to `to` (up) and back (down, in reverse order).
fn diff(from: &[Table], to: &[Table]) -> Diff {
    let mut d = Diff::default();
    let mut down: Vec<String> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let old: BTreeMap<&str, &Table> = from.iter().map(|t| (t.name.as_str(), t)).collect();
    let new: BTreeMap<&str, &Table> = to.iter().map(|t| (t.name.as_str(), t)).collect();
    // Created tables in dependency order so foreign keys resolve.
    for t in order_by_references(to.iter().filter(|t| !old.contains_key(t.name.as_str()))) {
        d.up.push(create_table(t));
        down.push(format!("DROP TABLE IF EXISTS {};\n", ident(&t.name)));
        what.push(format!("create_{}", t.name));
    }
    for t in to {
        if let Some(o) = old.get(t.name.as_str()) {
            alter_table(o, t, &mut d, &mut down, &mut what);
        }
    }
    let dropped: Vec<&Table> = from
        .iter()
        .filter(|t| !new.contains_key(t.name.as_str()))
        .collect();
    for t in order_by_references(dropped.into_iter()).into_iter().rev() {
        d.up.push(format!("DROP TABLE IF EXISTS {};\n", ident(&t.name)));
        down.push(create_table(t));
        d.warnings
            .push(format!("drops table {}: every row in it is lost", t.name));
        what.push(format!("drop_{}", t.name));
    }
    down.reverse();
    d.down = down;
    d.slug = slug(&what);
    d
}

fn slug(what: &[String]) -> String {
    let s = match what {
        [] => "noop".to_owned(),
        [one] => one.clone(),
        many => {
            let tables: BTreeSet<&str> = many
                .iter()
                .filter_map(|w| {
                    w.split_once('_')
                        .map(|(_, t)| t.split("__").next().unwrap_or(t))
                })
                .collect();
            match tables.len() {
                1 => format!("update_{}", tables.into_iter().next().unwrap_or_default()),
                _ => "update_schema".to_owned(),
            }
        }
    };
    let mut s: String = s
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '_'
            }
        })
        .collect();
    s.truncate(60);
    s
}

fn order_by_references<'a>(tables: impl Iterator<Item = &'a Table>) -> Vec<&'a Table> {
    let mut pending: Vec<&Table> = tables.collect();
    let names: BTreeSet<String> = pending.iter().map(|t| t.name.clone()).collect();
    let mut done: BTreeSet<String> = BTreeSet::new();
    let mut out = Vec::new();
    while !pending.is_empty() {
        let ready = pending.iter().position(|t| {
            t.columns
                .iter()
                .filter_map(referenced_table)
                .all(|r| r == t.name || !names.contains(r) || done.contains(r))
        });
        // A reference cycle: take the next one as it comes.
        let t = pending.remove(ready.unwrap_or(0));
        done.insert(t.name.clone());
        out.push(t);
    }
    out
}

fn referenced_table(c: &Column) -> Option<&str> {
    c.references.as_deref().and_then(|r| r.split('(').next())
}

fn create_table(t: &Table) -> String {
    let mut s = format!("CREATE TABLE {} (\n", ident(&t.name));
    let cols: Vec<String> = t
        .columns
        .iter()
        .map(|c| format!("    {}", column_def(&t.name, c)))
        .collect();
    s.push_str(&cols.join(",\n"));
    s.push_str("\n);\n");
    for i in &t.indexes {
        s.push_str(&create_index(&t.name, i));
    }
    s
}

/// Constraints carry the names [`constraint`] builds (the first migration's too), so a later
/// migration can drop them by name.
fn column_def(table: &str, c: &Column) -> String {
    let mut s = format!("{} {}", ident(&c.name), c.sql_type);
    if c.pk {
        let _ = write!(
            s,
            " CONSTRAINT {} PRIMARY KEY",
            ident(&constraint::primary_key(table))
        );
    } else if !c.nullable {
        s.push_str(" NOT NULL");
    }
    if c.unique && !c.pk {
        let _ = write!(
            s,
            " CONSTRAINT {} UNIQUE",
            ident(&constraint::unique(table, &c.name))
        );
    }
    if let Some(d) = &c.default {
        let _ = write!(s, " DEFAULT {d}");
    }
    if let Some(r) = &c.references {
        let _ = write!(
            s,
            " CONSTRAINT {} REFERENCES {}",
            ident(&constraint::foreign_key(table, &c.name)),
            target(r)
        );
    }
    for k in &c.checks {
        let _ = write!(s, " CONSTRAINT {} CHECK ({})", ident(&k.name), k.expr);
    }
    s
}

fn add_check(t: &str, k: &Check) -> String {
    format!(
        "ALTER TABLE {t} ADD CONSTRAINT {} CHECK ({});\n",
        ident(&k.name),
        k.expr
    )
}

fn drop_check(t: &str, k: &Check) -> String {
    format!(
        "ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {};\n",
        ident(&k.name)
    )
}

fn create_index(table: &str, i: &Index) -> String {
    let cols: Vec<String> = i.columns.iter().map(|c| ident(c)).collect();
    format!(
        "CREATE INDEX IF NOT EXISTS {} ON {} ({});\n",
        ident(&i.name),
        ident(table),
        cols.join(", ")
    )
}

fn alter_table(o: &Table, t: &Table, d: &mut Diff, down: &mut Vec<String>, what: &mut Vec<String>) {
    let table = ident(&t.name);
    let old: BTreeMap<&str, &Column> = o.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let new: BTreeMap<&str, &Column> = t.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    for c in &t.columns {
        match old.get(c.name.as_str()) {
            None => {
                d.up.push(format!(
                    "ALTER TABLE {table} ADD COLUMN {};\n",
                    column_def(&t.name, c)
                ));
                down.push(format!(
                    "ALTER TABLE {table} DROP COLUMN IF EXISTS {};\n",
                    ident(&c.name)
                ));
                if !c.nullable && !c.pk && c.default.is_none() {
                    d.warnings.push(format!(
                        "adds NOT NULL column {}.{} without a default: fails if the table has rows (add `default` or `nullable`)",
                        t.name, c.name
                    ));
                }
                what.push(format!("add_{}_{}", t.name, c.name));
            }
            Some(prev) if *prev != c => {
                alter_column(&t.name, prev, c, d, down);
                what.push(format!("alter_{}_{}", t.name, c.name));
            }
            Some(_) => {}
        }
    }
    for c in o
        .columns
        .iter()
        .filter(|c| !new.contains_key(c.name.as_str()))
    {
        d.up.push(format!(
            "ALTER TABLE {table} DROP COLUMN IF EXISTS {};\n",
            ident(&c.name)
        ));
        down.push(format!(
            "ALTER TABLE {table} ADD COLUMN {};\n",
            column_def(
                &t.name,
                &Column {
                    nullable: true,
                    ..c.clone()
                }
            )
        ));
        d.warnings.push(format!(
            "drops column {}.{}: its data is lost",
            t.name, c.name
        ));
        what.push(format!("drop_{}_{}", t.name, c.name));
    }
    let old_ix: BTreeMap<&str, &Index> = o.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    let new_ix: BTreeMap<&str, &Index> = t.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    for i in &t.indexes {
        if old_ix.get(i.name.as_str()) != Some(&i) {
            if old_ix.contains_key(i.name.as_str()) {
                d.up.push(format!("DROP INDEX IF EXISTS {};\n", ident(&i.name)));
            }
            d.up.push(create_index(&t.name, i));
            if let Some(prev) = old_ix.get(i.name.as_str()) {
                down.push(create_index(&t.name, prev));
            }
            down.push(format!("DROP INDEX IF EXISTS {};\n", ident(&i.name)));
            what.push(format!("index_{}__{}", t.name, i.columns.join("_")));
        }
    }
    for i in o
        .indexes
        .iter()
        .filter(|i| !new_ix.contains_key(i.name.as_str()))
    {
        d.up.push(format!("DROP INDEX IF EXISTS {};\n", ident(&i.name)));
        down.push(create_index(&o.name, i));
        what.push(format!("drop_index_{}", t.name));
    }
}

fn alter_column(table: &str, o: &Column, c: &Column, d: &mut Diff, down: &mut Vec<String>) {
    let t = ident(table);
    let col = ident(&c.name);
    let mut up = Vec::new();
    let mut back = Vec::new();
    if o.sql_type != c.sql_type {
        up.push(format!(
            "ALTER TABLE {t} ALTER COLUMN {col} TYPE {} USING {col}::{};\n",
            c.sql_type, c.sql_type
        ));
        back.push(format!(
            "ALTER TABLE {t} ALTER COLUMN {col} TYPE {} USING {col}::{};\n",
            o.sql_type, o.sql_type
        ));
        if !widens(&o.sql_type, &c.sql_type) {
            d.warnings.push(format!(
                "changes {table}.{} from {} to {}: values that do not fit are lost or make the migration fail",
                c.name, o.sql_type, c.sql_type
            ));
        }
    }
    if o.nullable != c.nullable && !c.pk {
        let (set, unset) = ("SET NOT NULL", "DROP NOT NULL");
        let (u, b) = if c.nullable {
            (unset, set)
        } else {
            (set, unset)
        };
        up.push(format!("ALTER TABLE {t} ALTER COLUMN {col} {u};\n"));
        back.push(format!("ALTER TABLE {t} ALTER COLUMN {col} {b};\n"));
        if !c.nullable {
            d.warnings.push(format!(
                "makes {table}.{} NOT NULL: fails while rows hold NULL",
                c.name
            ));
        }
    }
    if o.default != c.default {
        let set = |v: &Option<String>| match v {
            Some(v) => format!("ALTER TABLE {t} ALTER COLUMN {col} SET DEFAULT {v};\n"),
            None => format!("ALTER TABLE {t} ALTER COLUMN {col} DROP DEFAULT;\n"),
        };
        up.push(set(&c.default));
        back.push(set(&o.default));
    }
    if o.unique != c.unique && !c.pk {
        // The name the creating migration gave it.
        let name = ident(&constraint::unique(table, &c.name));
        let add = format!("ALTER TABLE {t} ADD CONSTRAINT {name} UNIQUE ({col});\n");
        let drop = format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name};\n");
        let (u, b) = if c.unique { (add, drop) } else { (drop, add) };
        up.push(u);
        back.push(b);
    }
    if o.references != c.references {
        let name = ident(&constraint::foreign_key(table, &c.name));
        let drop = format!("ALTER TABLE {t} DROP CONSTRAINT IF EXISTS {name};\n");
        let add = |r: &Option<String>| {
            r.as_ref().map(|r| {
                format!(
                    "ALTER TABLE {t} ADD CONSTRAINT {name} FOREIGN KEY ({col}) REFERENCES {};\n",
                    target(r)
                )
            })
        };
        up.push(drop.clone());
        up.extend(add(&c.references));
        back.push(drop);
        back.extend(add(&o.references));
    }
    if o.checks != c.checks {
        // Replaced as a whole: dropping by name first also makes the step safe on a database
        // whose V001 already has a constraint the recorded schema does not know of.
        let (gone, came): (Vec<&Check>, Vec<&Check>) = (
            o.checks.iter().filter(|k| !c.checks.contains(k)).collect(),
            c.checks.iter().filter(|k| !o.checks.contains(k)).collect(),
        );
        for k in &gone {
            up.push(drop_check(&t, k));
        }
        for k in &came {
            up.push(drop_check(&t, k));
            up.push(add_check(&t, k));
            d.warnings.push(format!(
                "adds CHECK {} on {table}.{} ({}): fails while rows break it",
                k.name, c.name, k.expr
            ));
        }
        for k in &came {
            back.push(drop_check(&t, k));
        }
        for k in &gone {
            back.push(drop_check(&t, k));
            back.push(add_check(&t, k));
        }
    }
    d.up.extend(up);
    // `down` is reversed as a whole at the end: push this column's steps reversed too.
    back.reverse();
    down.extend(back);
}

/// Whether a type change keeps every value (`VARCHAR(50)` → `VARCHAR(100)`, `INTEGER` →
/// `BIGINT`, `VARCHAR` → `TEXT`, wider `NUMERIC`).
fn widens(from: &str, to: &str) -> bool {
    let args = |t: &str| -> Option<(String, Vec<u32>)> {
        let (name, rest) = t.split_once('(').unwrap_or((t, ")"));
        let nums = rest
            .trim_end_matches(')')
            .split(',')
            .filter(|s| !s.trim().is_empty());
        Some((
            name.to_owned(),
            nums.map(|n| n.trim().parse().ok()).collect::<Option<_>>()?,
        ))
    };
    let (Some((f, fa)), Some((t, ta))) = (args(from), args(to)) else {
        return false;
    };
    match (f.as_str(), t.as_str()) {
        ("VARCHAR", "VARCHAR") => ta.first() >= fa.first(),
        ("VARCHAR" | "UUID", "TEXT") | ("INTEGER", "BIGINT") => true,
        ("NUMERIC", "NUMERIC") => match (fa.as_slice(), ta.as_slice()) {
            ([fp, fs], [tp, ts]) => ts >= fs && tp - ts >= fp - fs,
            _ => false,
        },
        ("DATE", "TIMESTAMPTZ") | ("JSON", "JSONB") => true,
        _ => false,
    }
}

/// Every identifier is written quoted, as `001_init.sql` writes it: a field or table named like
/// an SQL keyword (`user`, `order`, `limit`, `current_date`) then stays a name, whatever the
/// keyword list of the PostgreSQL version. Names are validated snake case, so no `"` inside.
fn ident(name: &str) -> String {
    format!("\"{name}\"")
}

/// A foreign key's target as the schema records it, `table(column)`, with both names quoted.
/// (The record keeps the plain form so that trees generated before quoting compare equal.)
fn target(reference: &str) -> String {
    match reference.trim_end_matches(')').split_once('(') {
        Some((table, column)) => format!("{}({})", ident(table), ident(column)),
        None => ident(reference),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn col(name: &str, ty: &str) -> Column {
        Column {
            name: name.into(),
            sql_type: ty.into(),
            pk: name == "id",
            nullable: false,
            unique: false,
            default: None,
            references: None,
            checks: vec![],
        }
    }

    fn table(name: &str, cols: Vec<Column>) -> Table {
        Table {
            name: name.into(),
            columns: cols,
            indexes: vec![],
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            databases: [("migrations/db".to_owned(), tables)].into(),
        }
    }

    fn history() -> Known {
        Known {
            existing: ["migrations/db/001_init.sql".to_owned()].into(),
            history: ["migrations/db".to_owned()].into(),
            templated: ["migrations/db".to_owned()].into(),
        }
    }

    #[test]
    fn added_field_becomes_v002_add_column_with_a_drop_in_down() {
        let before = schema(vec![table("users", vec![col("id", "UUID")])]);
        let mut nick = col("nick", "VARCHAR(40)");
        nick.nullable = true;
        let after = schema(vec![table("users", vec![col("id", "UUID"), nick])]);
        let known = history();
        let m = plan(Some(&before), &after, &known);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].path, "migrations/db/002_add_users_nick.sql");
        let (up, down) = blocks(&m[0].content);
        assert!(
            up.contains("ALTER TABLE \"users\" ADD COLUMN \"nick\" VARCHAR(40);\n"),
            "{}",
            m[0].content
        );
        assert!(down.contains("ALTER TABLE \"users\" DROP COLUMN IF EXISTS \"nick\";\n"));
        assert!(m[0].warnings.is_empty());
    }

    #[test]
    fn unchanged_schema_adds_nothing() {
        let s = schema(vec![table("users", vec![col("id", "UUID")])]);
        let known = history();
        assert!(plan(Some(&s), &s, &known).is_empty());
    }

    #[test]
    fn narrowing_and_drops_are_flagged_as_data_loss() {
        let before = schema(vec![
            table(
                "users",
                vec![
                    col("id", "UUID"),
                    col("name", "VARCHAR(120)"),
                    col("bio", "TEXT"),
                ],
            ),
            table("old", vec![col("id", "UUID")]),
        ]);
        let after = schema(vec![table(
            "users",
            vec![col("id", "UUID"), col("name", "VARCHAR(40)")],
        )]);
        let known = history();
        let m = &plan(Some(&before), &after, &known)[0];
        let w = m.warnings.join("\n");
        assert!(
            w.contains("users.name from VARCHAR(120) to VARCHAR(40)"),
            "{w}"
        );
        assert!(w.contains("drops column users.bio"), "{w}");
        assert!(w.contains("drops table old"), "{w}");
        assert!(m.path.ends_with("/002_update_schema.sql"), "{}", m.path);
        let (_, down) = blocks(&m.content);
        assert!(down.contains("CREATE TABLE \"old\" ("));
        assert!(down.contains("TYPE VARCHAR(120)"));
    }

    #[test]
    fn widening_is_not_flagged() {
        assert!(widens("VARCHAR(40)", "VARCHAR(120)"));
        assert!(widens("INTEGER", "BIGINT"));
        assert!(widens("NUMERIC(12,2)", "NUMERIC(14,2)"));
        assert!(!widens("NUMERIC(12,2)", "NUMERIC(12,4)"));
        assert!(!widens("BIGINT", "INTEGER"));
        assert!(!widens("TEXT", "VARCHAR(10)"));
    }

    #[test]
    fn new_tables_are_created_after_the_tables_they_reference() {
        let mut fk = col("order_id", "UUID");
        fk.references = Some("orders(id)".into());
        let after = schema(vec![
            table("order_items", vec![col("id", "UUID"), fk]),
            table("orders", vec![col("id", "UUID")]),
        ]);
        let m = &plan(None, &after, &Known::default())[0];
        assert_eq!(m.path, "migrations/db/001_init.sql");
        let (up, down) = blocks(&m.content);
        let (a, b) = (
            up.find("CREATE TABLE \"orders\" (").unwrap(),
            up.find("CREATE TABLE \"order_items\"").unwrap(),
        );
        assert!(a < b);
        let (a, b) = (
            down.find("DROP TABLE IF EXISTS \"orders\";").unwrap(),
            down.find("DROP TABLE IF EXISTS \"order_items\";").unwrap(),
        );
        assert!(b < a, "{down}");
    }

    #[test]
    fn numbering_follows_the_highest_existing_version_including_hand_written_ones() {
        let before = schema(vec![table("users", vec![col("id", "UUID")])]);
        let after = schema(vec![
            table("users", vec![col("id", "UUID")]),
            table("teams", vec![col("id", "UUID")]),
        ]);
        let mut known = history();
        known.existing.insert("migrations/db/007_manual.sql".into());
        let m = plan(Some(&before), &after, &known);
        assert_eq!(m[0].path, "migrations/db/008_create_teams.sql");
        // dbmate's own `dbmate new` names files by timestamp; a legacy name still counts.
        known
            .existing
            .insert("migrations/db/20240501120000_seed.sql".into());
        known
            .existing
            .insert("migrations/db/V99999999999999__old.sql".into());
        let m = plan(Some(&before), &after, &known);
        assert_eq!(m[0].path, "migrations/db/100000000000000_create_teams.sql");
    }

    #[test]
    fn versions_are_read_from_dbmate_and_legacy_names_only() {
        let v = |name: &str| version(&format!("migrations/db/{name}"), "migrations/db");
        assert_eq!(v("001_init.sql"), Some(1));
        assert_eq!(v("20240501120000_seed.sql"), Some(20_240_501_120_000));
        assert_eq!(v("V003__x.sql"), Some(3));
        assert_eq!(v("V003__x.down.sql"), None);
        assert_eq!(v("Dockerfile"), None);
        assert_eq!(v("001init.sql"), None);
        assert_eq!(
            version("migrations/dbx/001_init.sql", "migrations/db"),
            None
        );
    }

    #[test]
    fn every_migration_is_one_file_with_an_up_then_a_down_block() {
        let after = schema(vec![table("users", vec![col("id", "UUID")])]);
        let m = &plan(None, &after, &Known::default())[0];
        let up = m.content.find("\n-- migrate:up\n").expect("up block");
        let down = m.content.find("\n-- migrate:down\n").expect("down block");
        assert!(up < down, "{}", m.content);
        assert_eq!(m.content.matches("-- migrate:").count(), 2);
    }

    #[test]
    fn legacy_pairs_become_one_dbmate_file_keeping_their_text() {
        let files: BTreeMap<String, String> = [
            (
                "V001__init.sql",
                "CREATE TABLE a (id int); -- edited by hand\n",
            ),
            ("V001__init.down.sql", "DROP TABLE a;\n"),
            ("V002__no_down.sql", "ALTER TABLE a ADD COLUMN b int;"),
            ("notes.txt", "x"),
        ]
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .into();
        let c = convert_legacy("migrations/db", &files);
        assert_eq!(c.len(), 2);
        assert_eq!(c[0].path, "migrations/db/001_init.sql");
        assert_eq!(
            c[0].from,
            [
                "migrations/db/V001__init.sql",
                "migrations/db/V001__init.down.sql"
            ]
        );
        let (up, down) = blocks(&c[0].content);
        assert_eq!(up.trim(), "CREATE TABLE a (id int); -- edited by hand");
        assert_eq!(down.trim(), "DROP TABLE a;");
        assert_eq!(c[1].path, "migrations/db/002_no_down.sql");
        assert_eq!(c[1].from, ["migrations/db/V002__no_down.sql"]);
        let (up, down) = blocks(&c[1].content);
        assert_eq!(up.trim(), "ALTER TABLE a ADD COLUMN b int;");
        assert!(down.contains("had no down script"), "{down}");
    }

    /// The text of the up and the down block.
    fn blocks(content: &str) -> (&str, &str) {
        let (_, rest) = content.split_once("-- migrate:up\n").expect("up marker");
        rest.split_once("-- migrate:down\n").expect("down marker")
    }

    #[test]
    fn check_constraints_are_created_added_and_dropped_by_name() {
        let check = |name: &str, expr: &str| Check {
            name: name.into(),
            expr: expr.into(),
        };
        let mut qty = col("quantity", "INTEGER");
        qty.checks = vec![check("ck_items_quantity_min", "\"quantity\" >= 1")];
        let created = &plan(
            None,
            &schema(vec![table("items", vec![col("id", "UUID"), qty.clone()])]),
            &Known::default(),
        )[0];
        let (created_up, _) = blocks(&created.content);
        assert!(
            created_up.contains(
                "\"quantity\" INTEGER NOT NULL CONSTRAINT \"ck_items_quantity_min\" CHECK (\"quantity\" >= 1)"
            ),
            "{}",
            created_up
        );
        let before = schema(vec![table(
            "items",
            vec![col("id", "UUID"), col("quantity", "INTEGER")],
        )]);
        let after = schema(vec![table("items", vec![col("id", "UUID"), qty])]);
        let m = &plan(Some(&before), &after, &history())[0];
        let (m_up, m_down) = blocks(&m.content);
        assert!(
            m_up.contains(
                "ALTER TABLE \"items\" ADD CONSTRAINT \"ck_items_quantity_min\" CHECK (\"quantity\" >= 1);\n"
            ),
            "{}",
            m_up
        );
        assert!(m_down.contains(
            "ALTER TABLE \"items\" DROP CONSTRAINT IF EXISTS \"ck_items_quantity_min\";\n"
        ));
        assert!(m.warnings.join("\n").contains("fails while rows break it"));
        let back = &plan(Some(&after), &before, &history())[0];
        let (back_up, back_down) = blocks(&back.content);
        let (drop, add) = (
            back_down
                .find("DROP CONSTRAINT IF EXISTS \"ck_items_quantity_min\"")
                .unwrap(),
            back_down
                .find("ADD CONSTRAINT \"ck_items_quantity_min\"")
                .unwrap(),
        );
        assert!(drop < add, "{}", back_down);
        assert!(back_up.contains("DROP CONSTRAINT IF EXISTS \"ck_items_quantity_min\""));
        assert!(!back_up.contains("ADD CONSTRAINT"));
    }

    #[test]
    fn every_identifier_is_quoted_so_keywords_stay_names() {
        // `full`, `left` and `current_date` were missing from the old keyword list: a
        // migration adding such a column failed in PostgreSQL.
        let old = table("people", vec![col("id", "UUID")]);
        let mut new = old.clone();
        for name in ["full", "left", "current_date", "user"] {
            new.columns.push(col(name, "BOOLEAN"));
        }
        new.columns.push(Column {
            references: Some("groups(key)".into()),
            ..col("group", "UUID")
        });
        let m = &plan(Some(&schema(vec![old])), &schema(vec![new]), &history())[0];
        let (up, _) = blocks(&m.content);
        for name in ["full", "left", "current_date", "user"] {
            assert!(
                up.contains(&format!(
                    "ALTER TABLE \"people\" ADD COLUMN \"{name}\" BOOLEAN"
                )),
                "{up}"
            );
        }
        assert!(up.contains("REFERENCES \"groups\"(\"key\")"), "{up}");
        assert!(
            !up.contains(" full ") && !up.contains("groups(key)"),
            "{up}"
        );
    }
}
