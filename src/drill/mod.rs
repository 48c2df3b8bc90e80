//! `tcpscope drill FILE.pkt…` (docs/drill.md, Running packetdrill scripts): a
//! packetdrill script played against one engine under virtual time.
//!
//! `parse.rs` reads the script; `setup.rs` turns its header options and
//! sysctls into engine settings (or says which it cannot model);
//! `run.rs` plays it: the script's remote end is the runner, inbound
//! packets are crafted segments, outbound packets are what the engine
//! sends, matched in order; `info.rs` is TCP_INFO over a TCB and the
//! `%{ assert … }%` blocks evaluated over it.

pub mod info;
pub mod parse;
pub mod run;
pub mod setup;

use std::fmt;
use std::path::Path;

pub use run::{Options, Run};

/// How one script ended.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    Pass,
    /// `line` is 0 when the failure is the script's as a whole; `col` is
    /// set for grammar errors.
    Fail {
        line: usize,
        col: Option<usize>,
        msg: String,
    },
    Unsupported {
        line: usize,
        what: String,
    },
}

impl Outcome {
    /// The report line for the script at `file`.
    pub fn line_for(&self, file: &str) -> String {
        match self {
            Outcome::Pass => format!("PASS {file}"),
            Outcome::Fail {
                line,
                col: Some(c),
                msg,
            } => format!("FAIL {file}:{line}:{c}: {msg}"),
            Outcome::Fail { line, msg, .. } => format!("FAIL {file}:{line}: {msg}"),
            Outcome::Unsupported { line, what } => format!("UNSUPPORTED {file}:{line}: {what}"),
        }
    }
}

/// The counts a run of several scripts ends with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Tally {
    pub passed: usize,
    pub failed: usize,
    pub unsupported: usize,
}

impl Tally {
    pub fn add(&mut self, o: &Outcome) {
        match o {
            Outcome::Pass => self.passed += 1,
            Outcome::Fail { .. } => self.failed += 1,
            Outcome::Unsupported { .. } => self.unsupported += 1,
        }
    }
    pub fn all_passed(&self) -> bool {
        self.failed == 0 && self.unsupported == 0
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} passed, {} failed, {} unsupported",
            self.passed, self.failed, self.unsupported
        )
    }
}

/// Run the script in `src` (read from `path`, for relative commands).
pub fn run_source(src: &str, opts: &Options) -> Run {
    run::Run::execute(src, opts)
}

/// Read and run one file.
pub fn run_file(path: &Path, opts: &Options) -> Run {
    match std::fs::read_to_string(path) {
        Ok(src) => run_source(&src, opts),
        Err(e) => Run::failed(Outcome::Fail {
            line: 0,
            col: None,
            msg: format!("cannot read the script: {e}"),
        }),
    }
}
