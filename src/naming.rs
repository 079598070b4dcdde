//! Naming rules that more than one stage applies. The resolve stage names every table with
//! [`table_name`] (re-exported as `resolve::table_name`); the blueprint validator derives the
//! same names to report collisions before resolving. Kept below both so the blueprint does not
//! import the resolve stage.

use heck::ToSnakeCase;

/// The table of an entity: snake case, plural (`OrderItem` → `order_items`).
pub fn table_name(entity: &str) -> String {
    pluralize(&entity.to_snake_case())
}

fn pluralize(word: &str) -> String {
    if let Some(stem) = word.strip_suffix('y')
        && !stem.ends_with(['a', 'e', 'i', 'o', 'u'])
    {
        return format!("{stem}ies");
    }
    if word.ends_with('s') || word.ends_with('x') || word.ends_with("ch") || word.ends_with("sh") {
        return format!("{word}es");
    }
    format!("{word}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_names_are_snake_plural() {
        assert_eq!(table_name("User"), "users");
        assert_eq!(table_name("OrderItem"), "order_items");
        assert_eq!(table_name("Category"), "categories");
        assert_eq!(table_name("Address"), "addresses");
        assert_eq!(table_name("Key"), "keys");
    }
}
