//! The questions the wizard asks, behind one trait so the flow can be driven by a terminal
//! (dialoguer), by defaults (`--yes`) or by a script (tests).

use std::io;

/// Checks a typed answer; the error is shown at the prompt and the question is asked again.
pub type Validator<'a> = &'a dyn Fn(&str) -> Result<(), String>;

#[derive(Debug)]
pub enum PromptError {
    /// The user pressed Ctrl-C (or Esc where that cancels).
    Interrupted,
    Io(io::Error),
}

impl std::fmt::Display for PromptError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PromptError::Interrupted => f.write_str("interrupted"),
            PromptError::Io(e) => write!(f, "cannot read the answer from the terminal: {e}"),
        }
    }
}

pub type Answer<T> = Result<T, PromptError>;

pub trait Prompter {
    /// Free text. An empty `default` means the answer may be left empty.
    fn text(&mut self, prompt: &str, default: &str, validate: Validator<'_>) -> Answer<String>;
    /// One of `items`; returns its index.
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Answer<usize>;
    fn confirm(&mut self, prompt: &str, default: bool) -> Answer<bool>;
    /// Any number of `items`; returns the chosen indexes in order.
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Answer<Vec<usize>>;
}

/// `--yes`: every question takes its default, exactly as pressing Enter would.
pub struct Defaults;

impl Prompter for Defaults {
    fn text(&mut self, prompt: &str, default: &str, validate: Validator<'_>) -> Answer<String> {
        // A default that its own validator rejects is a wizard bug; fail loudly in tests.
        debug_assert!(
            validate(default).is_ok(),
            "default for `{prompt}` is invalid"
        );
        Ok(default.to_owned())
    }
    fn select(&mut self, _: &str, _: &[String], default: usize) -> Answer<usize> {
        Ok(default)
    }
    fn confirm(&mut self, _: &str, default: bool) -> Answer<bool> {
        Ok(default)
    }
    fn multi_select(&mut self, _: &str, _: &[String], defaults: &[bool]) -> Answer<Vec<usize>> {
        Ok(chosen(defaults))
    }
}

fn chosen(flags: &[bool]) -> Vec<usize> {
    flags
        .iter()
        .enumerate()
        .filter_map(|(i, on)| on.then_some(i))
        .collect()
}

/// The real thing: dialoguer prompts on the terminal (drawn on stderr).
#[derive(Default)]
pub struct Terminal {
    theme: dialoguer::theme::ColorfulTheme,
}

fn map_err(e: dialoguer::Error) -> PromptError {
    let dialoguer::Error::IO(e) = e;
    if e.kind() == io::ErrorKind::Interrupted {
        PromptError::Interrupted
    } else {
        PromptError::Io(e)
    }
}

impl Prompter for Terminal {
    fn text(&mut self, prompt: &str, default: &str, validate: Validator<'_>) -> Answer<String> {
        let mut input = dialoguer::Input::<String>::with_theme(&self.theme)
            .with_prompt(prompt)
            .validate_with(|s: &String| validate(s.trim()));
        input = if default.is_empty() {
            input.allow_empty(true)
        } else {
            input.default(default.to_owned())
        };
        input
            .interact_text()
            .map(|s| s.trim().to_owned())
            .map_err(map_err)
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Answer<usize> {
        dialoguer::Select::with_theme(&self.theme)
            .with_prompt(prompt)
            .items(items)
            .default(default)
            .interact()
            .map_err(map_err)
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Answer<bool> {
        dialoguer::Confirm::with_theme(&self.theme)
            .with_prompt(prompt)
            .default(default)
            .interact()
            .map_err(map_err)
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        defaults: &[bool],
    ) -> Answer<Vec<usize>> {
        dialoguer::MultiSelect::with_theme(&self.theme)
            .with_prompt(format!("{prompt} (space toggles, enter accepts)"))
            .items(items)
            .defaults(defaults)
            .interact()
            .map_err(map_err)
    }
}

/// A prompter that replays a script of answers; `None` takes the default. Every prompt is
/// recorded, and a scripted text answer its validator rejects is recorded and skipped, as a user
/// retyping after the error would.
#[cfg(test)]
pub mod scripted {
    use super::*;
    use std::collections::VecDeque;

    #[derive(Debug, Clone)]
    pub enum Reply {
        Default,
        Text(&'static str),
        Select(usize),
        Yes,
        No,
        Pick(Vec<usize>),
    }

    #[derive(Default)]
    pub struct Script {
        pub replies: VecDeque<Reply>,
        pub asked: Vec<String>,
        pub rejected: Vec<(String, String)>,
    }

    impl Script {
        pub fn new(replies: impl IntoIterator<Item = Reply>) -> Self {
            Script {
                replies: replies.into_iter().collect(),
                ..Default::default()
            }
        }
        fn next(&mut self, prompt: &str) -> Reply {
            self.asked.push(prompt.to_owned());
            self.replies.pop_front().unwrap_or(Reply::Default)
        }
    }

    impl Prompter for Script {
        fn text(&mut self, prompt: &str, default: &str, validate: Validator<'_>) -> Answer<String> {
            loop {
                let typed = match self.next(prompt) {
                    Reply::Default => default.to_owned(),
                    Reply::Text(t) => t.to_owned(),
                    other => panic!("`{prompt}` is a text prompt, script gave {other:?}"),
                };
                match validate(&typed) {
                    Ok(()) => return Ok(typed),
                    Err(e) => self.rejected.push((typed, e)),
                }
            }
        }
        fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Answer<usize> {
            match self.next(prompt) {
                Reply::Default => Ok(default),
                Reply::Select(i) if i < items.len() => Ok(i),
                other => panic!("`{prompt}` is a select of {items:?}, script gave {other:?}"),
            }
        }
        fn confirm(&mut self, prompt: &str, default: bool) -> Answer<bool> {
            match self.next(prompt) {
                Reply::Default => Ok(default),
                Reply::Yes => Ok(true),
                Reply::No => Ok(false),
                other => panic!("`{prompt}` is a confirm, script gave {other:?}"),
            }
        }
        fn multi_select(
            &mut self,
            prompt: &str,
            items: &[String],
            defaults: &[bool],
        ) -> Answer<Vec<usize>> {
            match self.next(prompt) {
                Reply::Default => Ok(chosen(defaults)),
                Reply::Pick(v) if v.iter().all(|i| *i < items.len()) => Ok(v),
                other => panic!("`{prompt}` is a multi-select of {items:?}, script gave {other:?}"),
            }
        }
    }
}
