//! End-to-end tests: the real `fink` binary with real plugin libraries built by cargo, AWS
//! against moto on 127.0.0.1, webhooks against a recording HTTP server on 127.0.0.1.
#![allow(clippy::unwrap_used)]

// Helpers (no tests here).
/// Seeding moto: stacks, parameters, secrets, certificates, buckets, functions, log events.
mod aws;
/// The fault-injection proxy in front of moto, for what moto cannot do (see docs/testing.md).
mod proxy;
/// Building plugins, laying out projects, running fink.
mod support;
/// A recording HTTP server standing in for Slack and other webhooks.
mod webhook;

// The host.
/// Built-in commands, tool help, usage errors, exit codes.
mod cli;
/// Plugins built against other plugin-API releases, and the out-of-tree example.
mod compat;
/// The release archive from scripts/dist.sh, unpacked and run.
mod dist;
/// AWS endpoints that take the connection and never answer: FINK_AWS_TIMEOUT, the one line.
mod faults;
/// Signal order, handler order, context and config passed along, failures, switches, schemas.
mod lifecycle;
/// Plugin discovery and every way a plugin file is rejected.
mod loading;
/// `fink plugin install`, `remove` and `new`: checks before copying, refusals, modes, the lock.
mod plugin_install;
/// Signed plugins: publisher keys, signatures good, bad, unknown or missing, --allow-unsigned.
mod plugin_signing;
/// Project trust: an untrusted checkout runs none of its code; trust, changes, CI, shadowing, the cache.
mod project_trust;
/// Plugin files and folders others may change, and plugins.lock pins, refused naming the fix.
mod trust;

// Plugins without a tool.
/// The bundler: folders, ignore patterns, dependencies, preBundle, deterministic zips.
mod bundler;
/// The config-reader: formats, baseconfig, ignore patterns, its messages.
mod config_reader;
/// The credentials plugin, against moto.
mod credentials;
/// The datadog plugin against the recording server standing in for Datadog's intake.
mod datadog;
/// gcdt projects as gcdt's guides wrote them: gcdt's shapes for templates and Python hooks, gcdt's
/// helper modules, credstash and the notifiers' defaults, the tools' `version`.
mod gcdt_projects;
/// Command hooks (the hooks plugin): signals, stdin and environment, changes handed back, failures.
mod hooks;
/// The lookups plugin against moto: every form, errors, masking, number of AWS calls.
mod lookups;
/// gcdt and Python-fink projects unchanged: old section names, kumo's cloudformation form,
/// AWS_DEFAULT_PROFILE, credstash secrets written by the real credstash package.
mod migrating;
/// Python hooks, templates and configs (the hooks plugin): troposphere cloudformation.py, hookfile,
/// gcdt_<env>.py, their errors.
mod python_hooks;
/// The slack plugin against the recording webhook server.
mod slack;

// The cloud tool.
/// create, update, no-op redeploy, policies, parameters, preview, list, delete, generate, dot.
mod cloud;
/// Ctrl-C during `cloud deploy` (through the proxy).
mod cloud_interrupt;
/// Packaging: local artifacts, nested templates, Rain's directives, errors before any upload.
mod cloud_package;
/// `cloud stop` / `cloud start` of EC2, ASG, ECS and RDS resources.
mod cloud_stop_start;
/// Many projects at once: `cloud deploy|preview|delete --all` and `cloud graph` over a tree.
mod workspaces;

// The lambda tool.
/// bundle, deploy, list, info, delete, rollback, invoke, ping.
mod lambda;
/// logs, metrics, wire and unwire.
mod lambda_ops;

// The code tool.
/// bundle (tar.gz), deploy through the proxy (success, failure summary, Ctrl-C), list.
mod code;

// The api tool.
/// deploy (create, unchanged, update, stage settings, permissions, API key, custom domain),
/// export, list, delete, API keys, template and config errors.
mod api;
