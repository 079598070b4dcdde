//! Three-way merge of a user's edited file with a new render (similar's line merge, the
//! semantics of `git merge-file`): base = what was generated last time, ours = the file on disk,
//! theirs = the new render. Conflicts are written with git-style markers, or — in `.rej` mode —
//! the file keeps the user's side of each conflicting region and the generator's change for it
//! goes to a reject file as a unified hunk.

use similar::{MergeResolution, TextMerge};

pub const OURS_MARKER: &str = "<<<<<<< yours";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ConflictStyle {
    #[default]
    Markers,
    Rej,
}

#[derive(Debug, PartialEq, Eq)]
pub struct Merged {
    /// The text for the file on disk.
    pub text: String,
    /// Number of conflicting regions.
    pub conflicts: usize,
    /// The reject file's text (`.rej` mode with conflicts).
    pub rej: Option<String>,
}

pub fn merge(path: &str, base: &str, ours: &str, theirs: &str, style: ConflictStyle) -> Merged {
    let mut m = TextMerge::from_lines(base, ours, theirs);
    m.labels("generated before", "yours", "generated");
    let conflicts = m.conflict_count();
    if conflicts == 0 || style == ConflictStyle::Markers {
        return Merged {
            text: m.to_string(),
            conflicts,
            rej: None,
        };
    }
    let mut text = String::new();
    let mut rej = format!("--- {path} (generated before)\n+++ {path} (generated now)\n");
    for r in m.regions() {
        let ours_lines = || r.ours_range().filter_map(|i| m.ours_line(i));
        match r.resolution() {
            MergeResolution::Theirs => {
                text.extend(r.theirs_range().filter_map(|i| m.theirs_line(i)));
            }
            MergeResolution::Conflict => {
                text.extend(ours_lines());
                let (b, t) = (r.base_range(), r.theirs_range());
                rej.push_str(&format!(
                    "@@ -{},{} +{},{} @@\n",
                    b.start + 1,
                    b.len(),
                    t.start + 1,
                    t.len()
                ));
                for i in b {
                    push_line(&mut rej, '-', m.base_line(i).unwrap_or_default());
                }
                for i in t {
                    push_line(&mut rej, '+', m.theirs_line(i).unwrap_or_default());
                }
            }
            _ => text.extend(ours_lines()),
        }
    }
    Merged {
        text,
        conflicts,
        rej: Some(rej),
    }
}

fn push_line(out: &mut String, sign: char, line: &str) {
    out.push(sign);
    out.push_str(line);
    if !line.ends_with('\n') {
        out.push('\n');
    }
}

/// Whether a file still holds the conflict markers a merge wrote into it.
pub fn has_markers(text: &str) -> bool {
    text.lines().any(|l| l.starts_with(OURS_MARKER))
}

#[cfg(test)]
mod tests {
    use super::*;

    const BASE: &str = "a\nb\nc\nd\ne\n";

    #[test]
    fn edits_in_different_places_merge_cleanly() {
        let ours = "a\nB (mine)\nc\nd\ne\n";
        let theirs = "a\nb\nc\nd\nE\n";
        let m = merge("f", BASE, ours, theirs, ConflictStyle::Markers);
        assert_eq!(m.conflicts, 0);
        assert_eq!(m.text, "a\nB (mine)\nc\nd\nE\n");
    }

    #[test]
    fn overlapping_edits_leave_git_style_markers_with_both_sides() {
        let ours = "a\nmine\nc\nd\ne\n";
        let theirs = "a\ngenerated\nc\nd\ne\n";
        let m = merge("f", BASE, ours, theirs, ConflictStyle::Markers);
        assert_eq!(m.conflicts, 1);
        assert_eq!(
            m.text,
            "a\n<<<<<<< yours\nmine\n=======\ngenerated\n>>>>>>> generated\nc\nd\ne\n"
        );
        assert!(has_markers(&m.text));
    }

    #[test]
    fn rej_mode_keeps_yours_in_the_file_and_the_generated_change_in_the_reject() {
        let ours = "a\nmine\nc\nd\ne\n";
        let theirs = "a\ngenerated\nc\nd\nE\n";
        let m = merge("f.yaml", BASE, ours, theirs, ConflictStyle::Rej);
        assert_eq!(m.conflicts, 1);
        assert_eq!(m.text, "a\nmine\nc\nd\nE\n");
        let rej = m.rej.unwrap();
        assert!(rej.contains("@@ -2,1 +2,1 @@\n-b\n+generated\n"), "{rej}");
        assert!(!has_markers(&m.text));
    }
}
