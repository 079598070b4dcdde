//! Field constraints (`min`, `max`, `email`, `url`, `pattern`, non-empty text, no NUL) reach
//! every output: the Pydantic schemas, openapi.yaml, the V001 CHECK constraints and the
//! generated input tests.

mod support;

use std::path::Path;
use support::project::{Project, Tree};

fn generate(arch: &str) -> (Tree, std::path::PathBuf) {
    let tree = Project::fixture("valid/constraints.yaml")
        .edit(|t| format!("{t}type: {arch}\n"))
        .generate();
    let out = tree.path().to_path_buf();
    (tree, out)
}

fn read(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

#[test]
fn pydantic_schemas_enforce_every_constraint() {
    let (_d, out) = generate("microservices");
    let schemas = read(&out, "services/catalog/app/schemas.py");
    for line in [
        "        ge=1,\n        le=1000,\n",
        "        ge=Decimal(\"0\"),\n",
        "        min_length=1,\n        max_length=16,\n        pattern=\"^[A-Z]{3}[0-9]+$\",\n",
        "        json_schema_extra={\"format\": \"email\"},\n",
        "        json_schema_extra={\"format\": \"uri\"},\n",
        "    AfterValidator(reject_nul),\n",
        "    AfterValidator(reject_nul_in_json),\n",
        "    quantity: ListingQuantityValue = 1\n",
        "    site: ListingSiteValue | None = None\n",
        "    code: ListingCodeValue | None = None\n",
    ] {
        assert!(
            schemas.contains(line),
            "schemas.py lacks {line:?}:\n{schemas}"
        );
    }
    // nullable text may be empty: no min_length on `site`
    let site = &schemas[schemas.find("ListingSiteValue =").unwrap()..];
    let site = &site[..site.find("\n]").unwrap()];
    assert!(!site.contains("min_length"), "{site}");
}

#[test]
fn openapi_documents_every_constraint() {
    let (_d, out) = generate("microservices");
    let api = read(&out, "services/catalog/openapi.yaml");
    let create =
        &api[api.find("    ListingCreate:").unwrap()..api.find("    ListingUpdate:").unwrap()];
    for line in [
        "          pattern: \"^[A-Z]{3}[0-9]+$\"\n",
        "          format: email\n",
        "          format: uri\n",
        "          minimum: 1\n          maximum: 1000\n",
        "          minimum: 0\n",
        "          minLength: 1\n",
    ] {
        assert!(
            create.contains(line),
            "ListingCreate lacks {line:?}:\n{create}"
        );
    }
}

#[test]
fn the_first_migration_checks_every_constraint_in_the_database() {
    for arch in ["microservices", "monolith"] {
        let (_d, out) = generate(arch);
        let sql = read(&out, "migrations/catalog-db/001_init.sql");
        for line in [
            "CONSTRAINT \"ck_listings_quantity_min\" CHECK (\"quantity\" >= 1)",
            "CONSTRAINT \"ck_listings_quantity_max\" CHECK (\"quantity\" <= 1000)",
            "CONSTRAINT \"ck_listings_price_min\" CHECK (\"price\" >= 0)",
            "CONSTRAINT \"ck_listings_code_pattern\" CHECK (\"code\" ~ '^[A-Z]{3}[0-9]+$')",
            "CONSTRAINT \"ck_listings_code_not_empty\" CHECK (\"code\" <> '')",
            "CONSTRAINT \"ck_listings_contact_email\" CHECK (\"contact\" ~ '^[A-Za-z0-9.!#$&''*+/",
            "CONSTRAINT \"ck_listings_site_url\" CHECK (\"site\" ~ '^https?://",
        ] {
            assert!(sql.contains(line), "{arch}: V001 lacks {line:?}:\n{sql}");
        }
        assert!(!sql.contains("ck_listings_site_not_empty"), "nullable");
        assert!(!sql.contains('%'), "no parameter markers in migration SQL");
    }
}

#[test]
fn generated_input_tests_cover_each_rule() {
    let (_d, out) = generate("microservices");
    let tests = read(&out, "services/catalog/tests/test_input.py");
    for case in [
        "\"quantity-below-min\": (\"quantity\", 1 - 1),",
        "\"quantity-above-max\": (\"quantity\", 1000 + 1),",
        "\"price-below-min\": (\"price\", str(Decimal(\"0\") - Decimal(\"0.01\"))),",
        "\"contact-email\": (\"contact\", \"!\"),",
        "\"site-url\": (\"site\", \"!\"),",
        "\"code-pattern\": (\"code\", \"!\"),",
        "\"code-empty\": (\"code\", \"\"),",
        "\"note-nul\": (\"note\", \"a\\x00b\"),",
        "\"attributes-nul\": (\"attributes\", {\"key\": \"a\\x00b\"}),",
        "def test_listing_accepts_values_at_the_bounds(",
    ] {
        assert!(
            tests.contains(case),
            "test_input.py lacks {case:?}:\n{tests}"
        );
    }
}
