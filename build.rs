// include_dir! embeds templates/ and blueprints/; tell cargo to rebuild when they change,
// including files added or removed (which cargo would otherwise not notice).
//
// CODEX_BUILD_ID is a hash of the tool's sources, templates and built-in blueprints: a state
// written by another build of the same version is never taken to describe this build's model
// (see `slices::source_digest`).
use std::hash::{Hash, Hasher};
use std::path::Path;

fn main() {
    println!("cargo:rerun-if-changed=templates");
    println!("cargo:rerun-if-changed=blueprints");
    println!("cargo:rerun-if-changed=src");
    let mut files = Vec::new();
    for dir in ["src", "templates", "blueprints"] {
        collect(Path::new(dir), &mut files);
    }
    files.sort();
    let mut h = std::collections::hash_map::DefaultHasher::new();
    for f in &files {
        f.hash(&mut h);
        std::fs::read(f).unwrap_or_default().hash(&mut h);
    }
    println!("cargo:rustc-env=CODEX_BUILD_ID={:016x}", h.finish());
}

fn collect(dir: &Path, out: &mut Vec<std::path::PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            collect(&p, out);
        } else {
            out.push(p);
        }
    }
}
