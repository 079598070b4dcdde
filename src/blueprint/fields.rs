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
    /// `min N` / `max N`: inclusive bounds of a numeric field, as written.
    pub min: Option<Num>,
    pub max: Option<Num>,
    /// `pattern '<regex>'` (checked against the portable subset by [`problems`]).
    pub pattern: Option<String>,
    /// `email` or `url`.
    pub format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Email,
    Url,
}

impl Format {
    pub fn word(self) -> &'static str {
        match self {
            Format::Email => "email",
            Format::Url => "url",
        }
    }
}

/// A decimal number as a bound or default is written: `-12`, `0.5`. Kept as digits, so a
/// bound of a `decimal(1000,0)` field is compared exactly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Num {
    pub negative: bool,
    /// Integer digits without leading zeros (empty for zero).
    pub int: String,
    /// Fraction digits without trailing zeros.
    pub frac: String,
}

impl Num {
    pub fn parse(s: &str) -> Option<Num> {
        let (negative, digits) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
        let all_digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
        if int.is_empty() || !all_digits(int) || !all_digits(frac) || digits.ends_with('.') {
            return None;
        }
        let int = int.trim_start_matches('0').to_owned();
        let frac = frac.trim_end_matches('0').to_owned();
        let zero = int.is_empty() && frac.is_empty();
        Some(Num {
            negative: negative && !zero,
            int,
            frac,
        })
    }

    /// The value as an `i64`, when it is a whole number in range.
    pub fn as_i64(&self) -> Option<i64> {
        if !self.frac.is_empty() {
            return None;
        }
        let text = format!("{}{}", if self.negative { "-" } else { "" }, self.int);
        if self.int.is_empty() {
            return Some(0);
        }
        text.parse().ok()
    }
}

impl std::fmt::Display for Num {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.negative {
            f.write_str("-")?;
        }
        f.write_str(if self.int.is_empty() { "0" } else { &self.int })?;
        if !self.frac.is_empty() {
            write!(f, ".{}", self.frac)?;
        }
        Ok(())
    }
}

impl PartialOrd for Num {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Num {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        use std::cmp::Ordering;
        let magnitude = self
            .int
            .len()
            .cmp(&other.int.len())
            .then_with(|| self.int.cmp(&other.int))
            .then_with(|| self.frac.cmp(&other.frac));
        match (self.negative, other.negative) {
            (false, false) => magnitude,
            (true, true) => magnitude.reverse(),
            (true, false) => Ordering::Less,
            (false, true) => Ordering::Greater,
        }
    }
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

const MODIFIERS_HELP: &str =
    "expected pk, unique, nullable, default <value>, min N, max N, email, url or pattern '<regex>'";

/// Parse a field spec; the error is a message fit for a diagnostic. Only the syntax is checked
/// here; [`problems`] says whether the parts fit together.
pub fn parse(spec: &str) -> Result<FieldSpec, String> {
    let spec = spec.trim();
    let (ty, rest) = parse_type(spec)?;
    let mut f = FieldSpec {
        ty,
        pk: false,
        unique: false,
        nullable: false,
        default: None,
        min: None,
        max: None,
        pattern: None,
        format: None,
    };
    let words = words(rest)?;
    let mut words = words.into_iter();
    let mut seen = std::collections::BTreeSet::new();
    while let Some(w) = words.next() {
        if !seen.insert(w.clone()) {
            return Err(format!("`{w}` is given twice"));
        }
        match w.as_str() {
            "pk" => f.pk = true,
            "unique" => f.unique = true,
            "nullable" => f.nullable = true,
            "email" if f.format.is_some() => {
                return Err("`email` and `url` exclude each other".into());
            }
            "email" => f.format = Some(Format::Email),
            "url" if f.format.is_some() => {
                return Err("`email` and `url` exclude each other".into());
            }
            "url" => f.format = Some(Format::Url),
            "default" => {
                let v = words
                    .next()
                    .ok_or("`default` needs a value, e.g. `default now`")?;
                f.default = Some(unquote(&v).to_owned());
            }
            "min" | "max" => {
                let v = words
                    .next()
                    .ok_or_else(|| format!("`{w}` needs a number, e.g. `{w} 0`"))?;
                let n = Num::parse(&v).ok_or_else(|| {
                    format!("`{w} {v}`: the bound must be a number like `0`, `-5` or `0.01`")
                })?;
                if w == "min" {
                    f.min = Some(n);
                } else {
                    f.max = Some(n);
                }
            }
            "pattern" => {
                let v = words.next().filter(|v| v.starts_with(['\'', '"'])).ok_or(
                    "`pattern` needs a quoted regular expression, e.g. `pattern '^[A-Z]{3}[0-9]+$'`",
                )?;
                f.pattern = Some(unquote(&v).to_owned());
            }
            other => {
                return Err(format!("unknown modifier `{other}` ({MODIFIERS_HELP})"));
            }
        }
    }
    Ok(f)
}

/// Split the modifiers on white space; a word in single or double quotes keeps its spaces.
fn words(rest: &str) -> Result<Vec<String>, String> {
    let mut out = Vec::new();
    let mut chars = rest.char_indices().peekable();
    while let Some(&(start, c)) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if c == '\'' || c == '"' {
            chars.next();
            let end = chars
                .find(|&(_, x)| x == c)
                .map(|(i, _)| i)
                .ok_or_else(|| {
                    format!(
                        "the quote {c} opened at `{}` is never closed",
                        &rest[start..]
                    )
                })?;
            out.push(rest[start..=end].to_owned());
            if chars.peek().is_some_and(|&(_, x)| !x.is_whitespace()) {
                return Err(format!(
                    "put a space after the quoted `{}`",
                    &rest[start..=end]
                ));
            }
            continue;
        }
        let mut end = rest.len();
        while let Some(&(i, x)) = chars.peek() {
            if x.is_whitespace() {
                end = i;
                break;
            }
            chars.next();
        }
        out.push(rest[start..end].to_owned());
    }
    Ok(out)
}

fn unquote(word: &str) -> &str {
    for q in ['\'', '"'] {
        if let Some(inner) = word.strip_prefix(q).and_then(|w| w.strip_suffix(q)) {
            return inner;
        }
    }
    word
}

/// Parse and check a spec as the wizard needs it: the first problem as a message.
pub fn parse_checked(spec: &str) -> Result<FieldSpec, String> {
    let f = parse(spec)?;
    match problems(&f).into_iter().next() {
        Some(p) => Err(format!("{} ({})", p.message, p.help)),
        None => Ok(f),
    }
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

/// A field spec that parses but does not hold together: a diagnostic code, message and help.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub code: &'static str,
    pub message: String,
    pub help: String,
}

fn problem(code: &'static str, message: String, help: impl Into<String>) -> Problem {
    Problem {
        code,
        message,
        help: help.into(),
    }
}

impl FieldType {
    fn word(&self) -> String {
        match self {
            FieldType::Uuid => "uuid".into(),
            FieldType::String(n) => format!("string({n})"),
            FieldType::Text => "text".into(),
            FieldType::Int => "int".into(),
            FieldType::BigInt => "bigint".into(),
            FieldType::Decimal(p, s) => format!("decimal({p},{s})"),
            FieldType::Bool => "bool".into(),
            FieldType::Timestamp => "timestamp".into(),
            FieldType::Date => "date".into(),
            FieldType::Json => "json".into(),
            FieldType::Enum(_) => "enum".into(),
            FieldType::Ref(_) => "ref".into(),
        }
    }

    pub fn is_numeric(&self) -> bool {
        matches!(
            self,
            FieldType::Int | FieldType::BigInt | FieldType::Decimal(..)
        )
    }

    pub fn is_text(&self) -> bool {
        matches!(self, FieldType::String(_) | FieldType::Text)
    }
}

/// The regular expression a string field's values must match: its `pattern`, or the built-in
/// one of `email` / `url`.
pub fn effective_pattern(f: &FieldSpec) -> Option<&str> {
    match (&f.pattern, f.format) {
        (Some(p), _) => Some(p),
        (None, Some(Format::Email)) => Some(super::pattern::EMAIL),
        (None, Some(Format::Url)) => Some(super::pattern::URL),
        (None, None) => None,
    }
}

/// Why `n` does not fit a value of type `ty`, if it does not.
fn out_of_type(ty: &FieldType, n: &Num) -> Option<String> {
    match ty {
        FieldType::Int => match n.as_i64() {
            Some(v) if i32::try_from(v).is_ok() => None,
            _ => Some(format!(
                "`{n}` is not a whole number from {} to {}",
                i32::MIN,
                i32::MAX
            )),
        },
        FieldType::BigInt => match n.as_i64() {
            Some(_) => None,
            None => Some(format!(
                "`{n}` is not a whole number from {} to {}",
                i64::MIN,
                i64::MAX
            )),
        },
        FieldType::Decimal(p, s) => {
            let (int_digits, frac_digits) = ((p - s) as usize, *s as usize);
            if n.int.len() > int_digits {
                Some(format!(
                    "`{n}` has {} digits before the point; decimal({p},{s}) holds {int_digits}",
                    n.int.len()
                ))
            } else if n.frac.len() > frac_digits {
                Some(format!(
                    "`{n}` has {} digits after the point; decimal({p},{s}) keeps {frac_digits}",
                    n.frac.len()
                ))
            } else {
                None
            }
        }
        _ => None,
    }
}

/// What is wrong with a parsed spec: constraints on a type that has no use for them
/// (`E0145`), bounds outside the type or crossed (`E0146`), a pattern outside the portable
/// subset (`E0147`), a default that does not fit the type or the constraints (`E0148`).
pub fn problems(f: &FieldSpec) -> Vec<Problem> {
    let mut out = Vec::new();
    let ty = f.ty.word();
    for (word, given) in [("min", f.min.is_some()), ("max", f.max.is_some())] {
        if given && !f.ty.is_numeric() {
            out.push(problem(
                "E0145",
                format!("`{word}` applies to numbers, not to a `{ty}` field"),
                "use min/max on int, bigint or decimal fields; limit a string with `string(N)`",
            ));
        }
    }
    let text_rule = |word: &str| {
        problem(
            "E0145",
            format!("`{word}` applies to string and text fields, not to a `{ty}` field"),
            "use email, url and pattern on `string(N)` or `text` fields",
        )
    };
    if let Some(fmt) = f.format
        && !f.ty.is_text()
    {
        out.push(text_rule(fmt.word()));
    }
    if f.pattern.is_some() && !f.ty.is_text() {
        out.push(text_rule("pattern"));
    }
    if let (Some(_), Some(fmt)) = (&f.pattern, f.format) {
        out.push(problem(
            "E0145",
            format!("`pattern` and `{}` exclude each other", fmt.word()),
            format!("keep one: `{}` is a pattern of its own", fmt.word()),
        ));
    }
    if f.ty.is_numeric() {
        for (word, bound) in [("min", &f.min), ("max", &f.max)] {
            if let Some(n) = bound
                && let Some(why) = out_of_type(&f.ty, n)
            {
                out.push(problem(
                    "E0146",
                    format!("`{word} {n}` does not fit the field's type: {why}"),
                    "choose a bound the column can hold, or widen the type",
                ));
            }
        }
        if let (Some(lo), Some(hi)) = (&f.min, &f.max)
            && lo > hi
        {
            out.push(problem(
                "E0146",
                format!("`min {lo}` is larger than `max {hi}`: no value is allowed"),
                "swap the bounds",
            ));
        }
    }
    if let Some(p) = &f.pattern
        && f.ty.is_text()
    {
        let max_len = match f.ty {
            FieldType::String(n) => n as usize,
            _ => 255,
        };
        if let Err(r) = super::pattern::check(p) {
            out.push(problem(
                "E0147",
                format!("pattern '{p}' is not portable: {}", r.message),
                r.help,
            ));
        } else if !super::pattern::sample_slots(p, 0, max_len).is_some_and(|slots| {
            let first: String = slots.iter().filter_map(|s| s.chars().next()).collect();
            super::pattern::matches(p, &first)
        }) {
            out.push(problem(
                "E0147",
                format!("pattern '{p}' has no simple match of at most {max_len} characters"),
                "generated tests need a value that matches: check the anchors and lengths (`^` first, `$` last, repetitions within the field's length)",
            ));
        }
    }
    if let Some(d) = &f.default
        && let Some(why) = default_problem(f, d)
    {
        out.push(problem(
            "E0148",
            format!("`default {d}` does not fit the field: {why}"),
            "change the default or the field's type and constraints",
        ));
    }
    out
}

/// Characters a string default may hold: it is printed into SQL and Python literals as is.
fn safe_text(d: &str) -> bool {
    d.chars()
        .all(|c| c.is_ascii_alphanumeric() || "_-. @:/+".contains(c))
}

fn default_problem(f: &FieldSpec, d: &str) -> Option<String> {
    let number = || Num::parse(d);
    let bounds = |n: &Num| -> Option<String> {
        if let Some(lo) = &f.min
            && n < lo
        {
            return Some(format!("it is below `min {lo}`"));
        }
        if let Some(hi) = &f.max
            && n > hi
        {
            return Some(format!("it is above `max {hi}`"));
        }
        None
    };
    match &f.ty {
        FieldType::Timestamp | FieldType::Date => {
            (d != "now").then(|| "a date or timestamp default can only be `now`".into())
        }
        FieldType::Int | FieldType::BigInt | FieldType::Decimal(..) => match number() {
            None => Some("it is not a number".into()),
            Some(n) => out_of_type(&f.ty, &n).or_else(|| bounds(&n)),
        },
        FieldType::Bool => {
            (d != "true" && d != "false").then(|| "a bool default is `true` or `false`".into())
        }
        FieldType::Enum(values) => (!values.iter().any(|v| v == d))
            .then(|| format!("it is not one of {}", values.join(", "))),
        FieldType::String(_) | FieldType::Text => {
            let len = d.chars().count();
            if !safe_text(d) {
                Some("a text default may use letters, digits, spaces and `_-.@:/+`".into())
            } else if let FieldType::String(n) = f.ty
                && len > n as usize
            {
                Some(format!("it is {len} characters long; the field holds {n}"))
            } else if d.is_empty() && !f.nullable {
                Some("required text is never empty".into())
            } else if let Some(p) = effective_pattern(f)
                && !super::pattern::matches(p, d)
            {
                Some(match f.format {
                    Some(fmt) if f.pattern.is_none() => format!("it is not a valid {}", fmt.word()),
                    _ => "it does not match the pattern".into(),
                })
            } else {
                None
            }
        }
        FieldType::Uuid | FieldType::Json | FieldType::Ref(_) => {
            Some("uuid, json and ref fields take no default".into())
        }
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
        assert!(parse("int min").unwrap_err().contains("needs a number"));
        assert!(
            parse("int min one")
                .unwrap_err()
                .contains("must be a number")
        );
        assert!(parse("int min 1 min 2").unwrap_err().contains("twice"));
        assert!(parse("string email url").unwrap_err().contains("exclude"));
        assert!(
            parse("string pattern ^a$")
                .unwrap_err()
                .contains("quoted regular expression")
        );
        assert!(
            parse("string pattern '^a")
                .unwrap_err()
                .contains("never closed")
        );
    }

    fn codes(spec: &str) -> Vec<&'static str> {
        problems(&parse(spec).unwrap())
            .into_iter()
            .map(|p| p.code)
            .collect()
    }

    #[test]
    fn parses_constraints_beside_other_modifiers() {
        let f = parse("int min 1 max 10 nullable").unwrap();
        assert_eq!(
            f.min.as_ref().map(ToString::to_string).as_deref(),
            Some("1")
        );
        assert_eq!(
            f.max.as_ref().map(ToString::to_string).as_deref(),
            Some("10")
        );
        assert!(f.nullable);
        let f = parse("decimal(12,2) min 0 default 0").unwrap();
        assert_eq!(f.min, Num::parse("0"));
        assert_eq!(f.default.as_deref(), Some("0"));
        assert_eq!(
            parse("string(255) email unique").unwrap().format,
            Some(Format::Email)
        );
        assert_eq!(parse("string(255) url").unwrap().format, Some(Format::Url));
        let f = parse("string(16) pattern '^[A-Z]{3} [0-9]+$' unique").unwrap();
        assert_eq!(f.pattern.as_deref(), Some("^[A-Z]{3} [0-9]+$"));
        assert!(f.unique);
        assert_eq!(
            parse(r#"text pattern "^a'b$""#).unwrap().pattern.as_deref(),
            Some("^a'b$")
        );
        for ok in [
            "int min 1",
            "decimal(12,2) min 0",
            "decimal(12,2) min -0.5 max 99.99",
            "bigint max 9223372036854775807",
            "string(255) email",
            "string(255) url",
            "string(16) pattern '^[A-Z]{3}[0-9]+$'",
            "string(8) default abc",
            "enum(a, b) default b",
            "int min 1 default 1",
            "string(64) email default ops@example.com",
        ] {
            assert_eq!(codes(ok), Vec::<&str>::new(), "{ok}");
        }
    }

    #[test]
    fn constraints_that_do_not_hold_together_are_problems() {
        assert_eq!(codes("string(10) min 1"), ["E0145"]);
        assert_eq!(codes("int email"), ["E0145"]);
        assert_eq!(codes("bool pattern 'a'"), ["E0145"]);
        assert_eq!(codes("string pattern 'a' email"), ["E0145"]);
        assert_eq!(codes("int min 2147483648"), ["E0146"]);
        assert_eq!(codes("int min 0.5"), ["E0146"]);
        assert_eq!(codes("decimal(4,2) max 100"), ["E0146"]);
        assert_eq!(codes("decimal(4,2) min 0.001"), ["E0146"]);
        assert_eq!(codes("int min 5 max 1"), ["E0146"]);
        assert_eq!(codes(r"string pattern '^\d+$'"), ["E0147"]);
        assert_eq!(codes("int default abc"), ["E0148"]);
        assert_eq!(codes("int min 1 default 0"), ["E0148"]);
        assert_eq!(codes("int max 1 default 2"), ["E0148"]);
        assert_eq!(codes("int default 2147483648"), ["E0148"]);
        assert_eq!(codes("decimal(4,2) default 123"), ["E0148"]);
        assert_eq!(codes("decimal(4,2) default 1.234"), ["E0148"]);
        assert_eq!(codes("decimal(4,2) default inf"), ["E0148"]);
        assert_eq!(codes("string(3) default abcd"), ["E0148"]);
        assert_eq!(codes("string(3) default ''"), ["E0148"]);
        assert_eq!(codes("enum(a, b) default c"), ["E0148"]);
        assert_eq!(codes("string email default nobody"), ["E0148"]);
        assert_eq!(codes("string pattern '^[0-9]+$' default abc"), ["E0148"]);
        assert_eq!(codes("uuid default abc"), ["E0148"]);
    }

    #[test]
    fn numbers_compare_by_value() {
        let n = |s: &str| Num::parse(s).unwrap();
        assert!(n("-1") < n("0"));
        assert!(n("0.49") < n("0.5"));
        assert!(n("9") < n("10"));
        assert!(n("-10") < n("-9"));
        assert_eq!(n("-0.0"), n("0"));
        assert_eq!(n("007.50").to_string(), "7.5");
        assert_eq!(n("-0.25").to_string(), "-0.25");
        for bad in ["", "-", "1.", ".5", "1e3", "inf", "NaN", "1,5", "+1"] {
            assert_eq!(Num::parse(bad), None, "{bad}");
        }
    }
}
