//! Field specs of entities: `string(255) unique`, `decimal(12,2)`, `enum(a, b)`, `ref User`,
//! `timestamp default now`. Parsed once here; validation reports the errors, resolve maps the
//! parsed form to SQL, Python and protobuf types.

#[derive(Debug, Clone, PartialEq)]
pub enum FieldType {
    Uuid,
    String(u32),
    Text,
    Int,
    BigInt,
    Decimal(u32, u32),
    Bool,
    Timestamp,
    Date,
    Json,
    Enum(Vec<String>),
    Ref(String),
}

#[derive(Debug, Clone, PartialEq)]
pub struct FieldSpec {
    pub ty: FieldType,
    pub pk: bool,
    pub unique: bool,
    pub nullable: bool,
    pub default: Option<String>,
}

pub const TYPE_NAMES: &[&str] = &[
    "uuid",
    "string",
    "text",
    "int",
    "bigint",
    "decimal",
    "bool",
    "timestamp",
    "date",
    "json",
    "enum",
    "ref",
];

/// Parse a field spec; the error is a message fit for a diagnostic.
pub fn parse(spec: &str) -> Result<FieldSpec, String> {
    let spec = spec.trim();
    let (ty, rest) = parse_type(spec)?;
    let mut f = FieldSpec {
        ty,
        pk: false,
        unique: false,
        nullable: false,
        default: None,
    };
    let mut words = rest.split_whitespace();
    while let Some(w) = words.next() {
        match w {
            "pk" => f.pk = true,
            "unique" => f.unique = true,
            "nullable" => f.nullable = true,
            "default" => {
                let v = words
                    .next()
                    .ok_or("`default` needs a value, e.g. `default now`")?;
                f.default = Some(v.trim_matches(['\'', '"']).to_owned());
            }
            other => {
                return Err(format!(
                    "unknown modifier `{other}` (expected pk, unique, nullable or default <value>)"
                ));
            }
        }
    }
    check_default(&f)?;
    Ok(f)
}

fn parse_type(spec: &str) -> Result<(FieldType, &str), String> {
    if let Some(rest) = spec.strip_prefix("ref ") {
        let rest = rest.trim_start();
        let end = rest.find(char::is_whitespace).unwrap_or(rest.len());
        let target = &rest[..end];
        if target.is_empty() {
            return Err("`ref` needs an entity name, e.g. `ref User`".into());
        }
        return Ok((FieldType::Ref(target.to_owned()), &rest[end..]));
    }
    let word_end = spec.find(char::is_whitespace).unwrap_or(spec.len());
    let (head, args, rest) = match spec.find('(') {
        Some(open) if open < word_end => {
            let close = spec[open..]
                .find(')')
                .ok_or("missing `)` in the field type")?
                + open;
            (
                &spec[..open],
                Some(&spec[open + 1..close]),
                &spec[close + 1..],
            )
        }
        _ => (&spec[..word_end], None, &spec[word_end..]),
    };
    let no_args = |t: FieldType| match args {
        None => Ok(t),
        Some(_) => Err(format!("`{head}` takes no arguments")),
    };
    let ty = match head {
        "uuid" => no_args(FieldType::Uuid)?,
        "text" => no_args(FieldType::Text)?,
        "int" => no_args(FieldType::Int)?,
        "bigint" => no_args(FieldType::BigInt)?,
        "bool" => no_args(FieldType::Bool)?,
        "timestamp" => no_args(FieldType::Timestamp)?,
        "date" => no_args(FieldType::Date)?,
        "json" => no_args(FieldType::Json)?,
        "string" => FieldType::String(match args {
            None => 255,
            Some(a) => a
                .trim()
                .parse()
                .ok()
                .filter(|n| (1..=10_485_760).contains(n))
                .ok_or_else(|| format!("`string({a})` needs a length from 1 to 10485760"))?,
        }),
        "decimal" => decimal(args.unwrap_or("12,2"))?,
        "enum" => enum_values(args.ok_or("`enum` needs values, e.g. `enum(a, b)`")?)?,
        "" => return Err("the field has no type".into()),
        "ref" => return Err("`ref` needs an entity name, e.g. `ref User`".into()),
        other => {
            return Err(format!(
                "unknown field type `{other}`; {}",
                crate::diagnostic::suggest(other, TYPE_NAMES)
            ));
        }
    };
    Ok((ty, rest))
}

fn decimal(args: &str) -> Result<FieldType, String> {
    let bad = || format!("`decimal({args})` needs precision and scale, e.g. `decimal(12,2)`");
    let (p, s) = args.split_once(',').ok_or_else(bad)?;
    let p: u32 = p.trim().parse().map_err(|_| bad())?;
    let s: u32 = s.trim().parse().map_err(|_| bad())?;
    if p == 0 || p > 1000 {
        return Err(format!("decimal precision {p} must be from 1 to 1000"));
    }
    if s > p {
        return Err(format!(
            "decimal scale {s} is larger than its precision {p}"
        ));
    }
    Ok(FieldType::Decimal(p, s))
}

fn enum_values(args: &str) -> Result<FieldType, String> {
    let values: Vec<String> = args
        .split(',')
        .map(|v| v.trim().to_owned())
        .filter(|v| !v.is_empty())
        .collect();
    if values.is_empty() {
        return Err("`enum()` has no values".into());
    }
    for v in &values {
        let ok = v.chars().next().is_some_and(|c| c.is_ascii_lowercase())
            && v.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        if !ok {
            return Err(format!(
                "enum value `{v}` must be lowercase letters, digits and `_`, starting with a letter"
            ));
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    if let Some(dup) = values.iter().find(|v| !seen.insert(v.as_str())) {
        return Err(format!("enum value `{dup}` appears twice"));
    }
    Ok(FieldType::Enum(values))
}

fn check_default(f: &FieldSpec) -> Result<(), String> {
    let Some(d) = &f.default else { return Ok(()) };
    let ok = match &f.ty {
        FieldType::Timestamp | FieldType::Date => d == "now",
        FieldType::Int | FieldType::BigInt => d.parse::<i64>().is_ok(),
        FieldType::Decimal(..) => d.parse::<f64>().is_ok(),
        FieldType::Bool => d == "true" || d == "false",
        FieldType::Enum(values) => values.contains(d),
        FieldType::String(_) | FieldType::Text => d
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "_-. ".contains(c)),
        FieldType::Uuid | FieldType::Json | FieldType::Ref(_) => false,
    };
    if ok {
        Ok(())
    } else {
        Err(format!("`default {d}` does not fit the field's type"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_types_and_modifiers() {
        let f = parse("string(255) unique").unwrap();
        assert_eq!(f.ty, FieldType::String(255));
        assert!(f.unique && !f.pk);
        assert_eq!(
            parse("decimal(12,2)").unwrap().ty,
            FieldType::Decimal(12, 2)
        );
        assert_eq!(
            parse("enum(pending, paid)").unwrap().ty,
            FieldType::Enum(vec!["pending".into(), "paid".into()])
        );
        assert_eq!(
            parse("ref User nullable").unwrap().ty,
            FieldType::Ref("User".into())
        );
        assert_eq!(
            parse("timestamp default now").unwrap().default.as_deref(),
            Some("now")
        );
        assert!(parse("uuid pk").unwrap().pk);
    }

    #[test]
    fn rejects_bad_specs_with_reasons() {
        assert!(
            parse("decimal(2,5)")
                .unwrap_err()
                .contains("larger than its precision")
        );
        assert!(parse("enum()").unwrap_err().contains("no values"));
        assert!(
            parse("strng")
                .unwrap_err()
                .contains("did you mean `string`")
        );
        assert!(
            parse("int primary")
                .unwrap_err()
                .contains("unknown modifier")
        );
        assert!(
            parse("int default abc")
                .unwrap_err()
                .contains("does not fit")
        );
    }
}
