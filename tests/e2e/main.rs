//! End-to-end tests: the real `fink` binary with real plugin libraries built by cargo.
#![allow(clippy::unwrap_used)]

mod aws;
mod support;

mod cli;
mod compat;
mod config_reader;
mod credentials;
mod lifecycle;
mod loading;
mod lookups;
