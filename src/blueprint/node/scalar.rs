//! Plain scalars resolved by the YAML 1.2 core schema, and explicit `!!` tags.
//!
//! Only these spellings are typed; everything else is a string:
//! null `~ null Null NULL` and the empty scalar; booleans `true True TRUE false False FALSE`
//! (YAML 1.2: `yes`, `on`, `y` stay strings); integers `123 -5 +7 0o17 0x1F`; floats
//! `1.5 -2e3 .5 .inf .nan`. Quoted and block scalars are always strings.

use super::{Loc, ParseError, Value};
use granit_parser::{ScalarStyle, Tag};

/// The value of one scalar event.
pub fn resolve(
    text: &str,
    style: ScalarStyle,
    tag: Option<&Tag>,
    loc: Loc,
) -> Result<Value, ParseError> {
    let core = match tag {
        None => None,
        Some(t) => match t.core_suffix() {
            Some(suffix) => Some(suffix),
            // `! text`: the non-specific tag, which makes a plain scalar a string.
            None if t.parts() == ("", "!") => Some("str"),
            None => return Err(unsupported_tag(t, loc)),
        },
    };
    match core {
        Some("str") => Ok(Value::Str(text.to_owned())),
        Some("null") if is_null(text) => Ok(Value::Null),
        Some("null") => Err(wrong(text, "null", loc)),
        Some("bool") => bool_of(text)
            .map(Value::Bool)
            .ok_or_else(|| wrong(text, "a boolean", loc)),
        Some("int") => int_of(text, loc)?.ok_or_else(|| wrong(text, "an integer", loc)),
        Some("float") => match float_of(text, loc)? {
            Some(v) => Ok(Value::Float(v)),
            None => int_of(text, loc)?
                .map(|v| match v {
                    Value::Int(i) => Value::Float(i as f64),
                    other => other,
                })
                .ok_or_else(|| wrong(text, "a number", loc)),
        },
        // `!!map`, `!!seq`.
        Some(other) => Err(ParseError::syntax(
            format!("the tag `!!{other}` cannot be put on a scalar"),
            "remove the tag",
            loc,
        )),
        None if style != ScalarStyle::Plain => Ok(Value::Str(text.to_owned())),
        None => plain(text, loc),
    }
}

fn plain(text: &str, loc: Loc) -> Result<Value, ParseError> {
    if is_null(text) {
        return Ok(Value::Null);
    }
    if let Some(b) = bool_of(text) {
        return Ok(Value::Bool(b));
    }
    // Only a digit, sign or dot can start a number: skip the work for names.
    if !text
        .as_bytes()
        .first()
        .is_some_and(|b| b.is_ascii_digit() || matches!(b, b'-' | b'+' | b'.'))
    {
        return Ok(Value::Str(text.to_owned()));
    }
    if let Some(v) = int_of(text, loc)? {
        return Ok(v);
    }
    Ok(match float_of(text, loc)? {
        Some(f) => Value::Float(f),
        None => Value::Str(text.to_owned()),
    })
}

fn is_null(text: &str) -> bool {
    matches!(text, "" | "~" | "null" | "Null" | "NULL")
}

fn bool_of(text: &str) -> Option<bool> {
    match text {
        "true" | "True" | "TRUE" => Some(true),
        "false" | "False" | "FALSE" => Some(false),
        _ => None,
    }
}

/// `Some` for the core schema's integer spellings. A decimal too large for 64 bits is read as a
/// float, so the schema stage reports "a whole number, found a number" at its position.
fn int_of(text: &str, loc: Loc) -> Result<Option<Value>, ParseError> {
    let (radix, digits) = if let Some(hex) = text.strip_prefix("0x") {
        (16, hex)
    } else if let Some(oct) = text.strip_prefix("0o") {
        (8, oct)
    } else {
        let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
        if unsigned.is_empty() || !unsigned.bytes().all(|b| b.is_ascii_digit()) {
            return Ok(None);
        }
        return Ok(Some(match text.parse::<i64>() {
            Ok(i) => Value::Int(i),
            Err(_) => Value::Float(text.parse::<f64>().unwrap_or(f64::MAX)),
        }));
    };
    if digits.is_empty() || !digits.bytes().all(|b| (b as char).is_digit(radix)) {
        return Ok(None);
    }
    i64::from_str_radix(digits, radix)
        .map(|i| Some(Value::Int(i)))
        .map_err(|_| {
            ParseError::syntax(
                format!("the number `{text}` does not fit in 64 bits"),
                "use a smaller number",
                loc,
            )
        })
}

/// `Some` for the core schema's float spellings. Infinity and NaN are refused: no blueprint
/// field takes them and they have no JSON form for the templates.
fn float_of(text: &str, loc: Loc) -> Result<Option<f64>, ParseError> {
    let unsigned = text.strip_prefix(['-', '+']).unwrap_or(text);
    if matches!(unsigned, ".inf" | ".Inf" | ".INF") || matches!(text, ".nan" | ".NaN" | ".NAN") {
        return Err(ParseError::syntax(
            format!("`{text}` is not a finite number"),
            "write a finite number, or quote the text to keep it a string",
            loc,
        ));
    }
    if !is_float_syntax(unsigned) {
        return Ok(None);
    }
    Ok(text.parse::<f64>().ok().filter(|f| f.is_finite()))
}

/// `( \. [0-9]+ | [0-9]+ ( \. [0-9]* )? ) ( [eE] [-+]? [0-9]+ )?`
fn is_float_syntax(s: &str) -> bool {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (whole, fraction) = match mantissa.split_once('.') {
        Some((w, f)) => (w, Some(f)),
        None => (mantissa, None),
    };
    let digits = |t: &str| t.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok = digits(whole)
        && fraction.is_none_or(digits)
        && (!whole.is_empty() || fraction.is_some_and(|f| !f.is_empty()));
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['-', '+']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

fn wrong(text: &str, what: &str, loc: Loc) -> ParseError {
    ParseError::syntax(
        format!("`{text}` is tagged as {what} but is not one"),
        "remove the tag or fix the value",
        loc,
    )
}

fn unsupported_tag(tag: &Tag, loc: Loc) -> ParseError {
    let (handle, suffix) = tag.original_parts();
    ParseError::syntax(
        format!("the tag `{handle}{suffix}` is not supported in a blueprint"),
        "remove the tag; a blueprint uses plain YAML values",
        loc,
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::blueprint::node::ParseErrorKind;

    fn plain_value(text: &str) -> Value {
        resolve(text, ScalarStyle::Plain, None, Loc::default()).unwrap()
    }

    #[test]
    fn core_schema_spellings_are_typed_and_the_rest_are_strings() {
        for t in ["", "~", "null", "Null", "NULL"] {
            assert!(matches!(plain_value(t), Value::Null), "{t}");
        }
        for (t, b) in [("true", true), ("TRUE", true), ("False", false)] {
            assert!(matches!(plain_value(t), Value::Bool(v) if v == b), "{t}");
        }
        for (t, i) in [
            ("0", 0),
            ("-5", -5),
            ("+7", 7),
            ("007", 7),
            ("0x1F", 31),
            ("0o17", 15),
        ] {
            assert!(matches!(plain_value(t), Value::Int(v) if v == i), "{t}");
        }
        for (t, f) in [
            ("1.5", 1.5),
            ("-2e3", -2000.0),
            (".5", 0.5),
            ("1.", 1.0),
            ("1E+2", 100.0),
        ] {
            assert!(matches!(plain_value(t), Value::Float(v) if v == f), "{t}");
        }
        for t in [
            "yes", "on", "y", "no", "1_000", "0b101", "0X1F", "0x", "1:2", "0o8", ".", "-", "1e",
            "e3", "1.2.3", "v1",
        ] {
            assert!(matches!(plain_value(t), Value::Str(ref s) if s == t), "{t}");
        }
        assert!(matches!(
            plain_value("99999999999999999999"),
            Value::Float(_)
        ));
    }

    #[test]
    fn quoted_scalars_stay_strings_and_infinity_is_refused() {
        let v = resolve("80", ScalarStyle::DoubleQuoted, None, Loc::default()).unwrap();
        assert!(matches!(v, Value::Str(ref s) if s == "80"));
        let e = resolve(".inf", ScalarStyle::Plain, None, Loc { line: 3, col: 9 }).unwrap_err();
        assert_eq!(e.kind, ParseErrorKind::Syntax);
        assert_eq!(e.loc, Some(Loc { line: 3, col: 9 }));
        assert!(
            resolve(
                "0x1FFFFFFFFFFFFFFFF",
                ScalarStyle::Plain,
                None,
                Loc::default()
            )
            .is_err()
        );
    }
}
