//! The context contract: the keys the host sets, and those plugins exchange, written down once.
//!
//! **Contract**: within 1.x a key listed here keeps its name and its type; new keys may appear,
//! so ignore keys you don't know. Keys starting with `_` are private to the run: they pass
//! between handlers but are never sent anywhere (notifications leave them out).
//!
//! [`KEYS`] is the table the documentation shows (`docs/plugin-guide.md`, checked by a test), so
//! the list cannot drift from the code. [`Data`](crate::Data) has a typed getter for each key the
//! host always sets.

/// The tool being run (`"cloud"`), or null for `fink config` / `fink plugins`.
pub const TOOL: &str = "tool";
/// The command being run (`"deploy"`, or `"config"` / `"plugins"`).
pub const COMMAND: &str = "command";
/// The environment, trimmed and lowercased, or null.
pub const ENV: &str = "env";
/// The login name.
pub const USER: &str = "user";
/// The host's version.
pub const FINK_VERSION: &str = "fink_version";
/// The host's plugin-API version.
pub const API_VERSION: &str = "api_version";
/// Names of the loaded (after the project's switches: enabled) plugins.
pub const PLUGINS: &str = "plugins";
/// The tool command's parsed arguments.
pub const ARGUMENTS: &str = "arguments";
/// The absolute project directory.
pub const PROJECT_DIR: &str = "project_dir";
/// Whether the command talks to AWS.
pub const NEEDS_AWS: &str = "needs_aws";
/// Whether the command needs its tool's config section.
pub const NEEDS_CONFIG: &str = "needs_config";
/// -1 quiet, 0 normal, 1 `-v`, 2 `-vv`.
pub const VERBOSITY: &str = "verbosity";
/// The error message after a failure.
pub const ERROR: &str = "error";
/// The config file the config reader read.
pub const CONFIG_FILE: &str = "config_file";
/// Values plugins marked secret (private).
pub const SECRETS: &str = "_secrets";
/// A tool's request to the bundler ([`crate::payload::BundleRequest`]).
pub const BUNDLE_REQUEST: &str = "bundle_request";
/// The bundler's answer ([`crate::payload::Bundle`]).
pub const BUNDLE: &str = "bundle";
/// A deployed stack's outputs, set by `cloud deploy` for `command_finalized` handlers.
pub const STACK_OUTPUT: &str = "stack_output";
/// The CodeDeploy deployment `code deploy` created, for `command_finalized` handlers (since 1.1).
pub const DEPLOYMENT_ID: &str = "deployment_id";
/// Where `code deploy` put the revision, `s3://bucket/key` (since 1.1).
pub const REVISION: &str = "revision";
/// The REST API `api deploy` created or updated, for `command_finalized` handlers (since 1.1).
pub const API_ID: &str = "api_id";
/// The URL `api deploy` serves the stage at: the custom domain's or API Gateway's (since 1.1).
pub const API_URL: &str = "api_url";

/// One row of the contract: key, who sets it, JSON type, meaning.
pub struct Key {
    /// The context key.
    pub name: &'static str,
    /// `host`, or the plugin that sets it.
    pub set_by: &'static str,
    /// The JSON type.
    pub kind: &'static str,
    /// What it holds.
    pub meaning: &'static str,
}

/// Every contract key, in the order the documentation lists them.
#[rustfmt::skip]
pub const KEYS: &[Key] = &[
    Key { name: TOOL, set_by: "host", kind: "string or null", meaning: "the tool being run (`\"cloud\"`), or `null` for `fink config` and `fink plugins`" },
    Key { name: COMMAND, set_by: "host", kind: "string", meaning: "the tool's command (`\"deploy\"`), or `\"config\"` / `\"plugins\"` for the built-ins" },
    Key { name: ENV, set_by: "host", kind: "string or null", meaning: "the env from `-e/--env` or `$ENV`, trimmed and lowercased; `null` only where no env is needed" },
    Key { name: USER, set_by: "host", kind: "string", meaning: "`$USER`, else `$USERNAME`, else `$LOGNAME`, else `\"unknown\"`" },
    Key { name: FINK_VERSION, set_by: "host", kind: "string", meaning: "the host's version, e.g. `\"0.1.0\"`" },
    Key { name: API_VERSION, set_by: "host", kind: "string", meaning: "the host's plugin-API version, e.g. `\"1.1.0\"`" },
    Key { name: PLUGINS, set_by: "host", kind: "array of strings", meaning: "names of the loaded plugins; once the project config is read, only the enabled ones" },
    Key { name: ARGUMENTS, set_by: "host", kind: "object", meaning: "the tool command's parsed arguments (flags are booleans, options strings or lists); `{}` otherwise" },
    Key { name: PROJECT_DIR, set_by: "host", kind: "string", meaning: "the absolute project directory (`-C DIR`, else the current directory); always set" },
    Key { name: NEEDS_AWS, set_by: "host", kind: "bool", meaning: "whether the command talks to AWS; credential checks skip when `false`" },
    Key { name: NEEDS_CONFIG, set_by: "host", kind: "bool", meaning: "whether the command needs its tool's config section (`false` for commands declared `.without_config()`, which run without an env or config file)" },
    Key { name: VERBOSITY, set_by: "host", kind: "integer", meaning: "`-1` with `-q`, `0` normally, `1` with `-v`, `2` with `-vv`" },
    Key { name: ERROR, set_by: "host", kind: "string", meaning: "the error message, set before `error` and `finalized` after a failure" },
    Key { name: CONFIG_FILE, set_by: "config-reader", kind: "string", meaning: "the env's config file that was read, e.g. `\"fink_dev.json\"`" },
    Key { name: SECRETS, set_by: "any plugin", kind: "array of strings", meaning: "values marked secret (`mark_secret`); masked in output, never sent (private)" },
    Key { name: BUNDLE_REQUEST, set_by: "a tool", kind: "object", meaning: "a tool's request to the bundler at `bundle_pre` (`payload::BundleRequest`)" },
    Key { name: BUNDLE, set_by: "bundler", kind: "object", meaning: "the bundle the bundler built (`payload::Bundle`)" },
    Key { name: STACK_OUTPUT, set_by: "cloud", kind: "object", meaning: "the stack's outputs after `cloud deploy` created or updated it, for `command_finalized` handlers" },
    Key { name: DEPLOYMENT_ID, set_by: "code", kind: "string", meaning: "the deployment `code deploy` created (`d-...`), for `command_finalized` handlers" },
    Key { name: REVISION, set_by: "code", kind: "string", meaning: "where `code deploy` put the revision, `s3://<bucket>/<key>`" },
    Key { name: API_ID, set_by: "apigateway", kind: "string", meaning: "the REST API `api deploy` created or updated, for `command_finalized` handlers" },
    Key { name: API_URL, set_by: "apigateway", kind: "string", meaning: "the stage's URL after `api deploy`: `https://<id>.execute-api.<region>.amazonaws.com/<stage>` or the custom domain's" },
];

/// [`KEYS`] as the Markdown table the documentation holds.
pub fn markdown_table() -> String {
    let mut out = String::from("| key | set by | type | value |\n|---|---|---|---|\n");
    for key in KEYS {
        out.push_str(&format!("| `{}` | {} | {} | {} |\n", key.name, key.set_by, key.kind, key.meaning));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const START: &str = "<!-- context-keys: generated from plugin-api/src/context.rs -->\n";
    const END: &str = "<!-- /context-keys -->";

    /// The plugin guide shows the table generated from [`KEYS`]; `FINK_BLESS=1 cargo test -p
    /// fink-plugin-api` rewrites it after a change here.
    #[test]
    fn the_plugin_guide_holds_the_generated_table() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/plugin-guide.md");
        let doc = std::fs::read_to_string(&path).unwrap();
        let start = doc.find(START).expect("docs/plugin-guide.md has the context-keys marker") + START.len();
        let end = start + doc[start..].find(END).expect("docs/plugin-guide.md has the closing marker");
        let table = markdown_table();
        if std::env::var_os("FINK_BLESS").is_some() {
            std::fs::write(&path, format!("{}{table}{}", &doc[..start], &doc[end..])).unwrap();
            return;
        }
        assert_eq!(&doc[start..end], table, "run FINK_BLESS=1 cargo test -p fink-plugin-api to update the guide");
    }

    #[test]
    fn every_key_is_listed_once() {
        let mut names: Vec<&str> = KEYS.iter().map(|k| k.name).collect();
        names.sort_unstable();
        let before = names.len();
        names.dedup();
        assert_eq!(before, names.len());
        assert!(names.contains(&PROJECT_DIR) && names.contains(&SECRETS));
    }
}
