//! End-to-end tests: the real `fink` binary with real plugin libraries built by cargo.
#![allow(clippy::unwrap_used)]

mod support;

mod cli;
mod compat;
mod config_reader;
mod lifecycle;
mod loading;
