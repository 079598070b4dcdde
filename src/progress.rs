//! How long each stage of a generation took (for `--verbose`) and a progress indicator for the
//! runs long enough to leave a person wondering (indicatif, on stderr).
//!
//! The indicator is a spinner naming the running stage and its file count. It is drawn only
//! when stderr is a terminal (never into a pipe, a file or a CI log), `TERM` is not `dumb`, and
//! the run was not asked to be quiet; it has no colour, so `NO_COLOR` has nothing to strip. It
//! appears only once a run has taken [`DELAY`]: the built-in examples generate in 30–60 ms
//! (under 200 ms from a cold disk cache), so they finish before it would show and print nothing
//! extra, while a 200-service blueprint (about 3 s) or a 1 000-service one (about 20 s) shows it
//! after a quarter of a second. A quarter of a second is past the 0.1 s that reads as "instant"
//! and well before the second after which a silent command looks stuck.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::fmt::Write as _;
use std::io::IsTerminal as _;
use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// How long a run goes on before the indicator appears.
pub const DELAY: Duration = Duration::from_millis(250);

/// The stages of a generation, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stage {
    /// Read the YAML, check the schema and every cross-reference.
    Parse,
    /// Apply the defaults and presets: the model templates read.
    Resolve,
    /// Decide the files to write.
    Plan,
    /// Render every file (templates compiled first).
    Render,
    /// Read the tree, compare, merge and number migrations (writes nothing).
    Compare,
    /// Write the files and the state.
    Write,
}

impl Stage {
    pub fn label(self) -> &'static str {
        match self {
            Stage::Parse => "parse+validate",
            Stage::Resolve => "resolve",
            Stage::Plan => "plan",
            Stage::Render => "render",
            Stage::Compare => "compare",
            Stage::Write => "write",
        }
    }
}

/// Times the stages of one run and drives the indicator. A tracker made with `progress: false`
/// only times.
pub struct Tracker {
    progress: bool,
    started: Instant,
    current: Option<(Stage, Instant)>,
    timings: Vec<(Stage, Duration)>,
    /// Resident memory (KiB) and CPU time used so far (ms) at the end of each stage, where the
    /// system tells them.
    resident: Vec<Option<u64>>,
    cpu: Vec<Option<u64>>,
    spinner: Option<Spinner>,
}

impl Tracker {
    pub fn new(progress: bool) -> Self {
        Tracker {
            progress,
            started: Instant::now(),
            current: None,
            timings: Vec::new(),
            resident: Vec::new(),
            cpu: Vec::new(),
            spinner: progress.then(|| Spinner::start(DELAY)),
        }
    }

    /// Times only; never draws.
    pub fn silent() -> Self {
        Tracker::new(false)
    }

    /// Ends the running stage and starts `stage`; `what` is shown beside the spinner.
    pub fn stage(&mut self, stage: Stage, what: &str) {
        self.end_stage();
        self.current = Some((stage, Instant::now()));
        if let Some(s) = &self.spinner {
            s.bar.set_message(what.to_owned());
        }
    }

    /// Ends the running stage and removes the indicator (before the final report is printed).
    pub fn finish(&mut self) {
        self.end_stage();
        if let Some(mut s) = self.spinner.take() {
            s.stop();
        }
    }

    /// Starts the indicator again after [`Tracker::finish`] (the wizard pauses it while it asks
    /// for confirmation); its delay counts from now.
    pub fn resume(&mut self) {
        if self.progress && self.spinner.is_none() {
            self.spinner = Some(Spinner::start(DELAY));
        }
    }

    /// Prints `text` on stderr without tearing the indicator.
    pub fn eprint(&self, text: &str) {
        match &self.spinner {
            Some(s) => s.bar.suspend(|| err!("{text}")),
            None => err!("{text}"),
        }
    }

    pub fn timings(&self) -> &[(Stage, Duration)] {
        &self.timings
    }

    /// One line per stage and the total, for `--verbose`: its time, the CPU time it used (all
    /// threads; on a loaded machine the figure that compares) and the memory resident at its
    /// end (the total line: the peak), where the system tells them.
    pub fn report(&self) -> String {
        let mib = |kib: Option<u64>| {
            kib.map_or(String::new(), |k| {
                format!("  {:>7.1} MiB", k as f64 / 1024.0)
            })
        };
        let cpu = |ms: Option<u64>| ms.map_or(String::new(), |m| format!("  {m:>6} ms CPU"));
        let mut s = String::from("timings:\n");
        let mut before = Some(0);
        for (i, (stage, d)) in self.timings.iter().enumerate() {
            let used = self.cpu.get(i).copied().flatten();
            let spent = used.zip(before).map(|(u, b)| u.saturating_sub(b));
            before = used;
            let rss = mib(self.resident.get(i).copied().flatten());
            let _ = writeln!(
                s,
                "  {:<15} {:>9.1} ms{}{rss}",
                stage.label(),
                ms(*d),
                cpu(spent)
            );
        }
        let _ = writeln!(
            s,
            "  {:<15} {:>9.1} ms{}{}",
            "total",
            ms(self.started.elapsed()),
            cpu(cpu_ms()),
            mib(memory_kib("VmHWM:"))
        );
        s
    }

    fn end_stage(&mut self) {
        if let Some((stage, t)) = self.current.take() {
            self.timings.push((stage, t.elapsed()));
            self.resident.push(memory_kib("VmRSS:"));
            self.cpu.push(cpu_ms());
        }
    }
}

impl Drop for Tracker {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A memory figure of this process from `/proc/self/status` (Linux), in KiB.
fn memory_kib(field: &str) -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .trim()
        .trim_end_matches("kB")
        .trim()
        .parse()
        .ok()
}

/// CPU time (user + system) this process has used, in ms, from `/proc/self/stat` (Linux; the
/// kernel counts it in ticks of 10 ms).
fn cpu_ms() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The fields after the command name (which may hold spaces) start after its `)`.
    let rest = &stat[stat.rfind(')')? + 2..];
    let mut f = rest.split(' ').skip(11);
    let ticks = f.next()?.parse::<u64>().ok()? + f.next()?.parse::<u64>().ok()?;
    Some(ticks * 10)
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// Whether an indicator may be drawn at all: stderr is a terminal that can redraw a line.
pub fn stderr_is_live_terminal() -> bool {
    std::io::stderr().is_terminal() && std::env::var_os("TERM").is_none_or(|t| t != "dumb")
}

/// A spinner drawn on stderr from a background thread once `delay` has passed, so a stage that
/// takes seconds without reporting still shows movement.
struct Spinner {
    bar: ProgressBar,
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Spinner {
    fn start(delay: Duration) -> Self {
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::hidden());
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            bar.set_style(style.tick_chars("|/-\\ "));
        }
        let (tx, rx) = mpsc::channel::<()>();
        let shown = bar.clone();
        let thread = std::thread::spawn(move || {
            // Dropping the sender (the run ended) wakes this early with `Disconnected`.
            if rx.recv_timeout(delay) == Err(mpsc::RecvTimeoutError::Timeout) {
                shown.set_draw_target(ProgressDrawTarget::stderr());
                shown.enable_steady_tick(Duration::from_millis(100));
            }
        });
        Spinner {
            bar,
            stop: Some(tx),
            thread: Some(thread),
        }
    }

    fn stop(&mut self) {
        drop(self.stop.take());
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_are_timed_in_order_and_reported_with_a_total() {
        let mut t = Tracker::silent();
        t.stage(Stage::Parse, "parsing");
        t.stage(Stage::Render, "rendering 3 files");
        t.finish();
        let stages: Vec<Stage> = t.timings().iter().map(|(s, _)| *s).collect();
        assert_eq!(stages, [Stage::Parse, Stage::Render]);
        let r = t.report();
        assert!(r.starts_with("timings:\n  parse+validate "), "{r}");
        assert!(r.contains("\n  render "), "{r}");
        assert!(r.contains("\n  total "), "{r}");
    }

    #[test]
    fn a_spinner_stopped_before_its_delay_never_draws() {
        let mut s = Spinner::start(Duration::from_secs(60));
        let started = Instant::now();
        s.stop();
        assert!(started.elapsed() < Duration::from_secs(5));
        assert!(s.bar.is_hidden());
    }
}
