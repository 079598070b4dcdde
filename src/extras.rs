//! Small commands around the main job: template listing and ejection (for `--templates DIR`),
//! shell completions and the man page.

use crate::error::Error;
use crate::render::TemplateSet;
use std::path::Path;

/// `templates list`: every template name, marking those a user folder overrides or adds.
pub fn list_templates(user_dir: Option<&Path>) -> Result<String, Error> {
    let embedded = TemplateSet::embedded();
    let user: Vec<String> = match user_dir {
        Some(d) => TemplateSet::read_dir(d)
            .map_err(Error::Templates)?
            .into_iter()
            .map(|(n, _)| n)
            .collect(),
        None => Vec::new(),
    };
    let mut out = String::new();
    for name in embedded.names() {
        let mark = if user.iter().any(|u| u == name) {
            "  (overridden)"
        } else {
            ""
        };
        out.push_str(&format!("{name}{mark}\n"));
    }
    for name in user
        .iter()
        .filter(|u| !embedded.names().any(|n| n == u.as_str()))
    {
        out.push_str(&format!("{name}  (added)\n"));
    }
    Ok(out)
}

/// `templates eject PATH --to DIR`: copy a built-in template (or every template under a folder
/// prefix) into DIR so it can be edited and used with `--templates DIR`. Never overwrites.
pub fn eject(path: &str, to: &Path) -> Result<Vec<String>, Error> {
    let prefix = path.trim_end_matches('/');
    let set = TemplateSet::embedded();
    let chosen: Vec<&(String, String)> = set
        .sources
        .iter()
        .filter(|(n, _)| n == prefix || n.starts_with(&format!("{prefix}/")))
        .collect();
    if chosen.is_empty() {
        let names: Vec<&str> = set.names().collect();
        return Err(Error::NoTemplate {
            path: path.to_owned(),
            hint: crate::diagnostic::did_you_mean(path, names.iter().copied()).map_or(
                "run `codex-system-design templates list` to see them".to_owned(),
                |n| format!("did you mean `{n}`?"),
            ),
        });
    }
    let mut written = Vec::new();
    for (name, text) in chosen {
        crate::write::check_relative(name)?;
        let target = to.join(name);
        if target.exists() {
            return Err(Error::Exists(target.display().to_string()));
        }
        crate::write::atomic_write(&target, text)?;
        written.push(target.display().to_string());
    }
    Ok(written)
}

pub fn completions(shell: clap_complete::Shell, cmd: &mut clap::Command) -> String {
    let mut buf = Vec::new();
    clap_complete::generate(shell, cmd, "codex-system-design", &mut buf);
    String::from_utf8_lossy(&buf).into_owned()
}

pub fn man_page(cmd: clap::Command) -> Result<String, Error> {
    let mut buf = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut buf)
        .map_err(Error::Man)?;
    Ok(String::from_utf8_lossy(&buf).into_owned())
}
