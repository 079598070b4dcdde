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
// Every identifier is written quoted, as the first migration writes it (one writer): a name like an
// SQL keyword (`user`, `order`, `current_date`) stays a name whatever the server version. Each
// database's statements are in its dialect (PostgreSQL, or MySQL that MariaDB also runs).
use crate::resolve::ddl::{self, Dialect, Step};
use serde::{Deserialize, Serialize};
use std::collections::{BTreeMap, BTreeSet};

/// Every database's tables, as the migrations see them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Schema {
    /// Migrations folder (`migrations/orders-db`) → its tables.
    pub databases: BTreeMap<String, Vec<Table>>,
    /// Folders of MySQL databases (the rest are PostgreSQL); absent from older states.
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub mysql: BTreeSet<String>,
}

pub use crate::resolve::ddl::{Check, Column, Index, Table};

impl Schema {
    pub fn from_model(m: &Model) -> Schema {
        let databases = m
            .databases
            .iter()
            // DynamoDB has no SQL schema: its tables are Terraform's.
            .filter(|db| db.engine != "dynamodb")
            .map(|db| (db.migrations_dir.clone(), db.tables.clone()))
            .collect();
        let mysql = m
            .databases
            .iter()
            .filter(|db| db.dialect.is_mysql())
            .map(|db| db.migrations_dir.clone())
            .collect();
        Schema { databases, mysql }
    }

    /// The dialect of a migrations folder.
    pub fn dialect(&self, dir: &str) -> Dialect {
        if self.mysql.contains(dir) {
            Dialect::Mysql
        } else {
            Dialect::Postgres
        }
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
        let sql = current.dialect(dir);
        let d = diff(sql, from, tables);
        let print = |steps: &[Step]| -> Vec<String> {
            steps
                .iter()
                .map(|s| ddl::step(sql, s))
                .filter(|s| !s.is_empty())
                .collect()
        };
        let (up, down) = (print(&d.up), print(&d.down));
        if up.is_empty() {
            continue;
        }
        let n = numbers.iter().max().map_or(1, |n| n + 1);
        let slug = slug.unwrap_or_else(|| d.slug.clone());
        let stem = format!("{dir}/{n:03}_{slug}");
        // The text leaves the number out, so a migration a killed run already wrote can be
        // recognised (and adopted) by its content.
        let content = format!(
            "-- Generated by codex-system-design from blueprint.yaml: migration `{slug}`, applied by dbmate.\n-- Append-only history: never rewritten by regeneration.\n\n{UP}\n{}\n{DOWN}\n{}",
            up.join("\n"),
            down.join("\n")
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

/// What a migration does: steps up, steps back down (in the order they run), what can lose data.
#[derive(Debug, Default)]
struct Diff {
    up: Vec<Step>,
    down: Vec<Step>,
    warnings: Vec<String>,
    slug: String,
}

/// Steps taking `from` to `to` (up) and back (down, in reverse order).
fn diff(sql: Dialect, from: &[Table], to: &[Table]) -> Diff {
    let mut d = Diff::default();
    let mut down: Vec<Step> = Vec::new();
    let mut what: Vec<String> = Vec::new();
    let old: BTreeMap<&str, &Table> = from.iter().map(|t| (t.name.as_str(), t)).collect();
    let new: BTreeMap<&str, &Table> = to.iter().map(|t| (t.name.as_str(), t)).collect();
    let created = order_by_references(to.iter().filter(|t| !old.contains_key(t.name.as_str())));
    if !created.is_empty() {
        d.up.push(Step::CreateTables(
            created.iter().map(|t| (*t).clone()).collect(),
        ));
    }
    for t in created {
        down.push(Step::DropTable(t.name.clone()));
        what.push(format!("create_{}", t.name));
    }
    for t in to {
        if let Some(o) = old.get(t.name.as_str()) {
            alter_table(sql, o, t, &mut d, &mut down, &mut what);
        }
    }
    let dropped: Vec<&Table> = from
        .iter()
        .filter(|t| !new.contains_key(t.name.as_str()))
        .collect();
    for t in order_by_references(dropped.into_iter()).into_iter().rev() {
        d.up.push(Step::DropTable(t.name.clone()));
        down.push(Step::CreateTables(vec![t.clone()]));
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

fn alter_table(
    sql: Dialect,
    o: &Table,
    t: &Table,
    d: &mut Diff,
    down: &mut Vec<Step>,
    what: &mut Vec<String>,
) {
    let table = || t.name.clone();
    let old: BTreeMap<&str, &Column> = o.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    let new: BTreeMap<&str, &Column> = t.columns.iter().map(|c| (c.name.as_str(), c)).collect();
    for c in &t.columns {
        match old.get(c.name.as_str()) {
            None => {
                d.up.push(Step::AddColumn {
                    table: table(),
                    column: c.clone(),
                });
                down.push(Step::DropColumn {
                    table: table(),
                    column: c.clone(),
                    release: true,
                });
                if !c.nullable && !c.pk && c.default.is_none() {
                    d.warnings.push(format!(
                        "adds NOT NULL column {}.{} without a default: fails if the table has rows (add `default` or `nullable`)",
                        t.name, c.name
                    ));
                }
                what.push(format!("add_{}_{}", t.name, c.name));
            }
            Some(prev) if *prev != c => {
                alter_column(sql, &t.name, prev, c, d, down);
                what.push(format!("alter_{}_{}", t.name, c.name));
            }
            Some(_) => {}
        }
    }
    let dropped: Vec<&Column> = o
        .columns
        .iter()
        .filter(|c| !new.contains_key(c.name.as_str()))
        .collect();
    // A dropped column's foreign key goes before the indexes (MySQL keeps the index it uses).
    for c in &dropped {
        d.up.push(Step::Release {
            table: table(),
            column: (*c).clone(),
        });
    }
    let old_ix: BTreeMap<&str, &Index> = o.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    let new_ix: BTreeMap<&str, &Index> = t.indexes.iter().map(|i| (i.name.as_str(), i)).collect();
    let create = |i: &Index| Step::CreateIndex {
        table: t.name.clone(),
        index: i.clone(),
    };
    let drop = |i: &Index| Step::DropIndex {
        table: t.name.clone(),
        name: i.name.clone(),
    };
    for i in &t.indexes {
        if old_ix.get(i.name.as_str()) != Some(&i) {
            if old_ix.contains_key(i.name.as_str()) {
                d.up.push(drop(i));
            }
            d.up.push(create(i));
            if let Some(prev) = old_ix.get(i.name.as_str()) {
                down.push(create(prev));
            }
            down.push(drop(i));
            what.push(format!("index_{}__{}", t.name, i.columns.join("_")));
        }
    }
    for i in o
        .indexes
        .iter()
        .filter(|i| !new_ix.contains_key(i.name.as_str()))
    {
        d.up.push(drop(i));
        down.push(create(i));
        what.push(format!("drop_index_{}", t.name));
    }
    // Columns go after the indexes: an index on a dropped column is dropped while the column is
    // there (MySQL drops it with the column, and has no `DROP INDEX IF EXISTS`), and rolled back
    // only once the column is back.
    for c in dropped {
        d.up.push(Step::DropColumn {
            table: table(),
            column: c.clone(),
            release: false,
        });
        down.push(Step::AddColumn {
            table: table(),
            column: Column {
                nullable: true,
                ..c.clone()
            },
        });
        d.warnings.push(format!(
            "drops column {}.{}: its data is lost",
            t.name, c.name
        ));
        what.push(format!("drop_{}_{}", t.name, c.name));
    }
}

/// The type, nullability and default of a column. PostgreSQL changes each alone; MySQL
/// restates the whole column (`MODIFY COLUMN`), which sets all three at once.
fn alter_definition(
    sql: Dialect,
    table: &str,
    o: &Column,
    c: &Column,
    up: &mut Vec<Step>,
    back: &mut Vec<Step>,
) {
    let (t, col) = (table.to_owned(), c.name.clone());
    if sql.is_mysql() {
        if o.sql_type != c.sql_type || o.nullable != c.nullable || o.default != c.default {
            up.push(Step::Modify {
                table: t.clone(),
                column: c.clone(),
            });
            back.push(Step::Modify {
                table: t,
                column: o.clone(),
            });
        }
        return;
    }
    let set_type = |ty: &str| Step::SetType {
        table: t.clone(),
        column: col.clone(),
        sql_type: ty.to_owned(),
    };
    if o.sql_type != c.sql_type {
        up.push(set_type(&c.sql_type));
        back.push(set_type(&o.sql_type));
    }
    let nullable = |n: bool| Step::SetNullable {
        table: t.clone(),
        column: col.clone(),
        nullable: n,
    };
    if o.nullable != c.nullable && !c.pk {
        up.push(nullable(c.nullable));
        back.push(nullable(o.nullable));
    }
    let default = |v: &Option<String>| Step::SetDefault {
        table: t.clone(),
        column: col.clone(),
        default: v.clone(),
    };
    if o.default != c.default {
        up.push(default(&c.default));
        back.push(default(&o.default));
    }
}

fn alter_column(
    sql: Dialect,
    table: &str,
    o: &Column,
    c: &Column,
    d: &mut Diff,
    down: &mut Vec<Step>,
) {
    let (t, col) = (table.to_owned(), c.name.clone());
    let mut up = Vec::new();
    let mut back = Vec::new();
    alter_definition(sql, table, o, c, &mut up, &mut back);
    if o.sql_type != c.sql_type && !widens(&o.sql_type, &c.sql_type) {
        d.warnings.push(format!(
            "changes {table}.{} from {} to {}: values that do not fit are lost or make the migration fail",
            c.name, o.sql_type, c.sql_type
        ));
    }
    if o.nullable != c.nullable && !c.pk && !c.nullable {
        d.warnings.push(format!(
            "makes {table}.{} NOT NULL: fails while rows hold NULL",
            c.name
        ));
    }
    if o.unique != c.unique && !c.pk {
        // By the name the creating migration gave it.
        let add = Step::AddUnique {
            table: t.clone(),
            column: col.clone(),
        };
        let drop = Step::DropUnique {
            table: t.clone(),
            column: col.clone(),
        };
        let (u, b) = if c.unique { (add, drop) } else { (drop, add) };
        up.push(u);
        back.push(b);
    }
    if o.references != c.references {
        // PostgreSQL drops it `IF EXISTS`; MySQL has no IF EXISTS: only the key that exists.
        let drop = |r: &Option<String>| {
            (!sql.is_mysql() || r.is_some()).then(|| Step::DropForeignKey {
                table: t.clone(),
                column: col.clone(),
            })
        };
        let add = |r: &Option<String>| {
            r.as_ref().map(|r| Step::AddForeignKey {
                table: t.clone(),
                column: col.clone(),
                target: r.clone(),
            })
        };
        up.extend(drop(&o.references));
        up.extend(add(&c.references));
        back.extend(drop(&c.references));
        back.extend(add(&o.references));
    }
    if o.checks != c.checks {
        // Replaced as a whole: dropping by name first also makes the step safe on a database
        // whose V001 already has a constraint the recorded schema does not know of (PostgreSQL;
        // MySQL has no `IF EXISTS` for it, so there only what is known is dropped).
        let (gone, came): (Vec<&Check>, Vec<&Check>) = (
            o.checks.iter().filter(|k| !c.checks.contains(k)).collect(),
            c.checks.iter().filter(|k| !o.checks.contains(k)).collect(),
        );
        let guarded = !sql.is_mysql();
        let drop = |k: &Check| Step::DropCheck {
            table: t.clone(),
            name: k.name.clone(),
        };
        let add = |k: &Check| Step::AddCheck {
            table: t.clone(),
            check: k.clone(),
        };
        for k in &gone {
            up.push(drop(k));
        }
        for k in &came {
            if guarded {
                up.push(drop(k));
            }
            up.push(add(k));
            d.warnings.push(format!(
                "adds CHECK {} on {table}.{} ({}): fails while rows break it",
                k.name, c.name, k.expr
            ));
        }
        for k in &came {
            back.push(drop(k));
        }
        for k in &gone {
            if guarded {
                back.push(drop(k));
            }
            back.push(add(k));
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
        ("VARCHAR" | "UUID" | "CHAR", "TEXT") | ("INTEGER", "BIGINT") => true,
        ("NUMERIC", "NUMERIC") => match (fa.as_slice(), ta.as_slice()) {
            ([fp, fs], [tp, ts]) => ts >= fs && tp - ts >= fp - fs,
            _ => false,
        },
        ("DATE", "TIMESTAMPTZ" | "DATETIME") | ("JSON", "JSONB") => true,
        _ => false,
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
            comment: None,
        }
    }

    fn table(name: &str, cols: Vec<Column>) -> Table {
        Table {
            name: name.into(),
            columns: cols,
            indexes: vec![],
            comment: String::new(),
        }
    }

    fn schema(tables: Vec<Table>) -> Schema {
        Schema {
            databases: [("migrations/db".to_owned(), tables)].into(),
            mysql: BTreeSet::new(),
        }
    }

    fn check(name: &str, expr: &str) -> Check {
        Check {
            name: name.into(),
            expr: expr.into(),
        }
    }

    fn mysql(tables: Vec<Table>) -> Schema {
        Schema {
            mysql: ["migrations/db".to_owned()].into(),
            ..schema(tables)
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
    fn mysql_migrations_restate_columns_and_name_each_constraint_apart() {
        let mut id = col("id", "BIGINT");
        id.pk = true;
        let mut email = col("email", "VARCHAR(40)");
        email.checks = vec![check("ck_users_email_not_empty", "`email` <> ''")];
        let mut group = col("group_id", "BIGINT");
        group.references = Some("groups(id)".into());
        let mut users = table("users", vec![id.clone(), email, group]);
        users.indexes = vec![Index {
            name: "ix_users_group_id".into(),
            columns: vec!["group_id".into()],
            predicate: None,
        }];
        let before = mysql(vec![users]);
        let mut wider = col("email", "VARCHAR(80)");
        wider.nullable = true;
        let mut nick = col("nick", "VARCHAR(20)");
        nick.unique = true;
        nick.nullable = true;
        nick.checks = vec![check("ck_users_nick_not_empty", "`nick` <> ''")];
        let after = mysql(vec![table("users", vec![id, wider, nick])]);
        let m = plan(Some(&before), &after, &history());
        let (up, down) = blocks(&m[0].content);
        for want in [
            // One MODIFY restates type and nullability; MySQL has no ALTER COLUMN … TYPE.
            "ALTER TABLE `users` MODIFY COLUMN `email` VARCHAR(80);\n",
            // A check goes by name (no IF EXISTS in MySQL 8), before the column it uses.
            "ALTER TABLE `users` DROP CONSTRAINT `ck_users_email_not_empty`;\n",
            // Constraints of an added column are clauses of its ALTER TABLE, never inline.
            "ALTER TABLE `users` ADD COLUMN `nick` VARCHAR(20), ADD CONSTRAINT `uq_users_nick` UNIQUE (`nick`), ADD CONSTRAINT `ck_users_nick_not_empty` CHECK (`nick` <> '');\n",
            "ALTER TABLE `users` DROP COLUMN `group_id`;\n",
        ] {
            assert!(up.contains(want), "{want}\nnot in\n{up}");
        }
        // The foreign key goes first (MySQL keeps the index it uses), then its index, then the
        // column; rolled back in the reverse order (verified on MariaDB by hand and in the
        // conformance run).
        let at = |s: &str| up.find(s).unwrap_or_else(|| panic!("{s} not in {up}"));
        assert!(
            at("DROP FOREIGN KEY `fk_users_group_id`")
                < at("DROP INDEX `ix_users_group_id` ON `users`")
        );
        assert!(at("DROP INDEX `ix_users_group_id`") < at("DROP COLUMN `group_id`"));
        let back = |s: &str| down.find(s).unwrap_or_else(|| panic!("{s} not in {down}"));
        assert!(back("ADD COLUMN `group_id`") < back("CREATE INDEX `ix_users_group_id`"));
        assert!(!up.contains('"') && !up.contains("IF EXISTS"), "{up}");
        assert!(
            down.contains("ALTER TABLE `users` MODIFY COLUMN `email` VARCHAR(40) NOT NULL;"),
            "{down}"
        );
        assert!(down.contains("ADD CONSTRAINT `fk_users_group_id` FOREIGN KEY (`group_id`) REFERENCES `groups`(`id`)"), "{down}");
        assert!(
            down.contains("ALTER TABLE `users` DROP COLUMN `nick`;"),
            "{down}"
        );
    }

    #[test]
    fn mysql_tables_are_created_in_their_dialect() {
        let mut id = col("id", "BIGINT");
        id.pk = true;
        let mut note = col("note", "TEXT");
        note.default = Some("('x')".into());
        let after = mysql(vec![table("notes", vec![id, note])]);
        let m = plan(Some(&mysql(vec![])), &after, &history());
        let (up, down) = blocks(&m[0].content);
        assert!(up.contains("CREATE TABLE `notes` (\n    `id` BIGINT NOT NULL AUTO_INCREMENT,\n    `note` TEXT NOT NULL DEFAULT ('x'),"), "{up}");
        assert!(
            up.contains(
                ") ENGINE = InnoDB DEFAULT CHARSET = utf8mb4 COLLATE = utf8mb4_bin COMMENT = '';"
            ),
            "{up}"
        );
        assert!(
            !up.contains("COMMENT ON") && !up.contains("IDENTITY"),
            "{up}"
        );
        assert_eq!(down.trim(), "DROP TABLE IF EXISTS `notes`;");
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
        assert!(down.contains("CREATE TABLE \"old\" ("), "{down}");
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
        // The foreign key comes after both tables, with its constraint name.
        assert!(
            up.find("ADD CONSTRAINT \"fk_order_items_order_id\"")
                .unwrap()
                > b,
            "{up}"
        );
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
            created_up.contains("CONSTRAINT \"ck_items_quantity_min\" CHECK (\"quantity\" >= 1)"),
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
