//! The baseconfig chain: read the env file, then the file its `baseconfig` names, and so on; merge so
//! the nearer file wins.

use std::fs;
use std::path::{Path, PathBuf};

use fink_plugin_api::{debug, Error, Result};
use serde_json::{Map, Value};

use crate::formats::{self, describe};
use crate::{files, ignore_files, legacy, merge};

/// The key naming the base config.
pub const KEY: &str = "baseconfig";

/// The config of `env` in `dir` with its bases merged in and `baseconfig` removed.
#[cfg(test)]
pub fn read_env_config(dir: &Path, env: &str) -> Result<Map<String, Value>> {
    read_env_config_noting(dir, env, &mut Vec::new())
}

/// The config of `env` in `dir` with its bases merged in and `baseconfig` removed, adding the gcdt names the files use to `gcdt_names` (see [`legacy::upgrade`]).
#[cfg(test)]
pub fn read_env_config_noting(
    dir: &Path,
    env: &str,
    gcdt_names: &mut Vec<(&'static str, &'static str)>,
) -> Result<Map<String, Value>> {
    read_from(dir, files::find_env_file(dir, env)?, gcdt_names)
}

/// The config of the env file `first` with its bases merged in, as [`read_env_config_noting`].
pub fn read_from(
    dir: &Path,
    first: PathBuf,
    gcdt_names: &mut Vec<(&'static str, &'static str)>,
) -> Result<Map<String, Value>> {
    Ok(merged(read_chain(dir, Some(first), gcdt_names)?))
}

/// The config the hocon-reader read (each HOCON file of the chain by name, the env file first)
/// and the rest of its chain, from `rest`, its first base of another format; each file is
/// treated as one this plugin read.
pub fn read_handed_over(
    dir: &Path,
    layers: Vec<(String, Map<String, Value>)>,
    rest: Option<PathBuf>,
    gcdt_names: &mut Vec<(&'static str, &'static str)>,
) -> Result<Map<String, Value>> {
    let mut all = Vec::new();
    for (name, mut config) in layers {
        prepare(&mut config, &name, gcdt_names)?;
        all.push(config);
    }
    all.extend(read_chain(dir, rest, gcdt_names)?);
    Ok(merged(all))
}

/// The layers merged, the farthest base first, so each nearer file overrides it and the env file wins.
fn merged(layers: Vec<Map<String, Value>>) -> Map<String, Value> {
    let mut merged = Map::new();
    for layer in layers.into_iter().rev() {
        merge::deep_merge(&mut merged, layer);
    }
    merged
}

/// gcdt's names read as today's, and the `ignore` list checked, in one file's config.
fn prepare(
    config: &mut Map<String, Value>,
    name: &str,
    gcdt_names: &mut Vec<(&'static str, &'static str)>,
) -> Result<()> {
    for found in legacy::upgrade(config, name)? {
        if !gcdt_names.contains(&found) {
            gcdt_names.push(found);
        }
    }
    ignore_files::config_patterns(config, name).map(drop)
}

/// The config of the file `first` (if any) and then each base's, nearest first, each without its `baseconfig` key.
fn read_chain(
    dir: &Path,
    first: Option<PathBuf>,
    gcdt_names: &mut Vec<(&'static str, &'static str)>,
) -> Result<Vec<Map<String, Value>>> {
    let mut seen: Vec<(PathBuf, String)> = Vec::new();
    let mut layers = Vec::new();
    let mut next = first;
    while let Some(path) = next {
        let name = display_name(dir, &path);
        let identity = fs::canonicalize(&path).unwrap_or_else(|_| path.clone());
        if seen.iter().any(|(other, _)| *other == identity) {
            let chain: Vec<&str> = seen.iter().map(|(_, name)| name.as_str()).collect();
            return Err(Error::new(format!("baseconfig cycle: {} -> {name}", chain.join(" -> "))));
        }
        let mut config = formats::read(&path, &name)?;
        debug!("read config {name}");
        prepare(&mut config, &name, gcdt_names)?;
        next = match config.remove(KEY) {
            None => None,
            Some(value) => {
                let base = base_name(&value, &name)?;
                let base_dir = path.parent().unwrap_or(dir);
                Some(files::find_base_file(base_dir, base, &name)?)
            }
        };
        layers.push(config);
        seen.push((identity, name));
    }
    Ok(layers)
}

/// The file name of the base a `baseconfig` value names.
fn base_name<'a>(value: &'a Value, referrer: &str) -> Result<&'a str> {
    match value {
        Value::String(name) if !name.trim().is_empty() => Ok(name),
        other => Err(Error::new(format!(
            "{referrer}: '{KEY}' must name a config file in the same directory, found {}",
            match other {
                Value::String(_) => "an empty string",
                other => describe(other),
            }
        ))),
    }
}

/// How messages call a file: its path relative to the project directory when inside it.
fn display_name(dir: &Path, path: &Path) -> String {
    path.strip_prefix(dir).unwrap_or(path).display().to_string()
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use serde_json::json;

    /// A project folder holding `files` (name, text).
    pub(crate) fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn message(dir: &tempfile::TempDir) -> String {
        read_env_config(dir.path(), "dev").unwrap_err().message().to_owned()
    }

    #[test]
    fn chain_across_formats_merges_with_the_env_file_winning() {
        let dir = project(&[
            ("fink_dev.json", r#"{"baseconfig": "common", "cloud": {"stack": "dev"}, "level": "dev"}"#),
            ("common.yaml", "baseconfig: root.toml\ncloud:\n  stack: common\n  region: eu-west-1\nlevel: common\n"),
            ("root.toml", "level = \"root\"\nowner = \"ops\"\n[cloud]\nregion = \"us-east-1\"\nsize = 3\n"),
        ]);
        let config = read_env_config(dir.path(), "dev").unwrap();
        assert_eq!(
            Value::Object(config),
            json!({
                "cloud": {"stack": "dev", "region": "eu-west-1", "size": 3},
                "level": "dev",
                "owner": "ops"
            })
        );
    }

    #[test]
    fn a_file_without_baseconfig_is_read_as_is() {
        let dir = project(&[("gcdt_dev.yml", "lambda:\n  name: fn\n")]);
        assert_eq!(Value::Object(read_env_config(dir.path(), "dev").unwrap()), json!({"lambda": {"name": "fn"}}));
    }

    #[test]
    fn gcdt_names_are_read_per_file_before_merging() {
        let dir = project(&[
            ("gcdt_dev.json", r#"{"baseconfig": "base", "cloud": {"parameters": {"Env": "dev"}}}"#),
            ("base.yaml", "kumo:\n  stack:\n    StackName: app\nramuda:\n  name: fn\n"),
        ]);
        assert_eq!(
            Value::Object(read_env_config(dir.path(), "dev").unwrap()),
            json!({"cloud": {"stack": {"StackName": "app"}, "parameters": {"Env": "dev"}}, "lambda": {"name": "fn"}})
        );
        let dir =
            project(&[("gcdt_dev.json", r#"{"baseconfig": "base"}"#), ("base.json", r#"{"yugen": {}, "api": {}}"#)]);
        assert!(message(&dir).starts_with("base.json: both 'yugen' and 'api' are given"), "{}", message(&dir));
    }

    #[test]
    fn handed_over_hocon_layers_continue_into_this_readers_bases() {
        let dir = project(&[("base.yaml", "kumo:\n  stack:\n    StackName: app\nregion: eu-west-1\n")]);
        let layers = vec![
            ("gcdt_dev.conf".to_string(), json!({"cloud": {"parameters": {"Env": "dev"}}, "region": "x"})),
            ("common.conf".to_string(), json!({"region": "y", "owner": "ops"})),
        ];
        let layers = layers.into_iter().map(|(n, c)| (n, c.as_object().unwrap().clone())).collect();
        let mut names = Vec::new();
        let config = read_handed_over(dir.path(), layers, Some(dir.path().join("base.yaml")), &mut names).unwrap();
        assert_eq!(
            Value::Object(config),
            json!({"cloud": {"stack": {"StackName": "app"}, "parameters": {"Env": "dev"}}, "region": "x", "owner": "ops"})
        );
        assert_eq!(names, [("cloud", "kumo")]);
    }

    #[test]
    fn cycle_is_reported_with_the_chain() {
        let dir =
            project(&[("fink_dev.json", r#"{"baseconfig": "base"}"#), ("base.json", r#"{"baseconfig": "fink_dev"}"#)]);
        assert_eq!(message(&dir), "baseconfig cycle: fink_dev.json -> base.json -> fink_dev.json");
    }

    #[test]
    fn a_file_naming_itself_is_a_cycle() {
        let dir = project(&[("fink_dev.toml", "baseconfig = \"fink_dev.toml\"\n")]);
        assert_eq!(message(&dir), "baseconfig cycle: fink_dev.toml -> fink_dev.toml");
    }

    #[test]
    fn missing_base_names_the_file_that_referenced_it() {
        let dir =
            project(&[("fink_dev.json", r#"{"baseconfig": "base"}"#), ("base.json", r#"{"baseconfig": "gone"}"#)]);
        assert!(message(&dir).starts_with("base.json: baseconfig 'gone' not found in "), "{}", message(&dir));
    }

    #[test]
    fn baseconfig_must_be_a_name() {
        let dir = project(&[("fink_dev.json", r#"{"baseconfig": ["base"]}"#)]);
        assert_eq!(
            message(&dir),
            "fink_dev.json: 'baseconfig' must name a config file in the same directory, found a list"
        );
    }

    #[test]
    fn errors_in_a_base_name_the_base() {
        let dir = project(&[("fink_dev.json", r#"{"baseconfig": "base"}"#), ("base.yaml", "a: [1\n")]);
        assert!(message(&dir).starts_with("base.yaml:"), "{}", message(&dir));
        let dir = project(&[("fink_dev.json", r#"{"baseconfig": "base"}"#), ("base.json", r#"{"ignore": 1}"#)]);
        assert_eq!(message(&dir), "base.json: 'ignore' must be a list of strings, found a number");
    }
}
