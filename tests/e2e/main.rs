//! End-to-end tests: the real `fink` binary with real plugin libraries built by cargo.
#![allow(clippy::unwrap_used)]

mod aws;
mod support;
mod webhook;

mod bundler;
mod cli;
mod cloud;
mod cloud_interrupt;
mod cloud_stop_start;
mod compat;
mod config_reader;
mod credentials;
mod lambda;
mod lambda_ops;
mod lifecycle;
mod loading;
mod lookups;
mod proxy;
mod slack;
