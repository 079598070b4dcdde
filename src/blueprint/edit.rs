//! Edits of blueprint text that keep the user's comments and layout.

/// Replace (or add) a top-level `key: value` line, keeping the user's comments and layout.
pub fn set_top_level(text: &str, key: &str, value: &str) -> String {
    let prefix = format!("{key}:");
    let mut found = false;
    let mut out: Vec<String> = text
        .lines()
        .map(|l| {
            if !found && l.starts_with(&prefix) {
                found = true;
                let comment = l.find(" #").map_or("", |i| &l[l[..i].trim_end().len()..]);
                format!("{prefix} {value}{comment}")
            } else {
                l.to_owned()
            }
        })
        .collect();
    if !found {
        let at = out
            .iter()
            .position(|l| l.starts_with("version:"))
            .map_or(0, |i| i + 1);
        out.insert(at, format!("{prefix} {value}"));
    }
    out.join("\n") + "\n"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn top_level_key_is_replaced_keeping_its_comment() {
        let t = "version: 1\nname: shop  # the name\ntype: monolith\n";
        let r = set_top_level(t, "name", "store");
        assert!(r.contains("name: store  # the name"));
        let r = set_top_level(t, "scale", "large");
        assert!(r.starts_with("version: 1\nscale: large\n"));
    }
}
