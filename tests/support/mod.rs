//! Shared by the integration tests: [`project`] generates trees in process, [`cli`] runs the
//! real binary for the tests that are about the command line, [`synth`] writes large
//! blueprints. Each test file uses a part.

#![allow(dead_code)] // every test file uses a different part

pub mod cli;
pub mod project;
pub mod synth;
