//! Pinned images of the generated system: data in `blueprints/images.yaml`, read once per
//! resolve. Bumping an image edits that file only; the model carries each reference to the
//! templates (compose, migration images, CI, docs).

use super::ResolveError;
use serde::Deserialize;

/// One pinned reference per backing service or tool, as `repository:tag`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Images {
    pub postgres: String,
    pub mysql: String,
    pub redis: String,
    pub kafka: String,
    pub rabbitmq: String,
    pub moto: String,
    pub otel_collector: String,
    pub nginx: String,
    pub dbmate: String,
}

impl Images {
    /// Every entry with its key, in the file's order.
    fn entries(&self) -> [(&'static str, &str); 9] {
        [
            ("postgres", &self.postgres),
            ("mysql", &self.mysql),
            ("redis", &self.redis),
            ("kafka", &self.kafka),
            ("rabbitmq", &self.rabbitmq),
            ("moto", &self.moto),
            ("otel_collector", &self.otel_collector),
            ("nginx", &self.nginx),
            ("dbmate", &self.dbmate),
        ]
    }
}

/// The tag of `repository:tag` (the version dbmate's PyPI package shares).
pub fn tag(image: &str) -> &str {
    image.rsplit_once(':').map_or("", |(_, t)| t)
}

/// Parses the data file and checks every reference is pinned.
pub fn load(source: &str) -> Result<Images, ResolveError> {
    let images: Images =
        serde_saphyr::from_str(source).map_err(|e| ResolveError::Images(Box::new(e)))?;
    for (key, image) in images.entries() {
        check_pinned(image).map_err(|why| ResolveError::Unpinned {
            key,
            image: image.to_owned(),
            why,
        })?;
    }
    Ok(images)
}

/// A reference with a path of lowercase letters, digits and `._/-`, and a fixed tag.
fn check_pinned(image: &str) -> Result<(), &'static str> {
    let (path, tag) = image
        .rsplit_once(':')
        .ok_or("no tag: write `repository:tag`")?;
    let path_ok = !path.is_empty()
        && path
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._/-".contains(c));
    if !path_ok {
        return Err("the repository is lowercase letters, digits and `._/-`");
    }
    let tag_ok = !tag.is_empty()
        && tag
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if !tag_ok {
        return Err("the tag is letters, digits and `._-`");
    }
    if tag == "latest" || !tag.chars().any(|c| c.is_ascii_digit()) {
        return Err("the tag moves: pin a version");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_pinned_image_has_a_fixed_tag() {
        let images = load(crate::assets::images()).unwrap();
        assert_eq!(tag(&images.dbmate), "2.37.0");
    }

    #[test]
    fn a_moving_or_missing_tag_is_refused_naming_the_key() {
        let file = crate::assets::images();
        for (bad, why) in [
            ("redis:latest", "pin a version"),
            ("redis", "no tag"),
            ("redis:alpine", "pin a version"),
            ("Redis:7", "lowercase"),
        ] {
            let src = file.replace("redis:7.4.1-alpine", bad);
            let e = load(&src).unwrap_err().to_string();
            assert!(e.contains("`redis: ") && e.contains(why), "{bad}: {e}");
        }
    }

    #[test]
    fn an_unknown_or_missing_key_is_refused() {
        let file = crate::assets::images();
        assert!(load(&format!("{file}mysql: mysql:8.4\n")).is_err());
        assert!(load(&file.replace("nginx:", "# nginx:")).is_err());
    }
}
