//! The `baseconfig` chain through HOCON files: the env file, then the `.conf` file its
//! `baseconfig` names, and so on. A base of another format ends this reader's part: the
//! config-reader reads it and its bases.

use std::fs;
use std::path::{Path, PathBuf};

use fink_plugin_api::{debug, Error, Result};
use serde_json::{Map, Value};

use crate::{files, parse};

/// The key naming the base config.
const KEY: &str = "baseconfig";

/// What this reader read of a chain.
#[derive(Debug, Default)]
pub struct Chain {
    /// Each HOCON file's config (without `baseconfig`) by its name, the env file first.
    pub layers: Vec<(String, Map<String, Value>)>,
    /// The first base of another format, for the config-reader to read.
    pub rest: Option<PathBuf>,
}

/// Reads the HOCON file `first` of the project `dir` and its HOCON bases.
pub fn read(dir: &Path, first: PathBuf) -> Result<Chain> {
    let mut chain = Chain::default();
    let mut seen: Vec<PathBuf> = Vec::new();
    let mut next = first;
    loop {
        let name = next.strip_prefix(dir).unwrap_or(&next).display().to_string();
        let identity = fs::canonicalize(&next).unwrap_or_else(|_| next.clone());
        if seen.contains(&identity) {
            let names: Vec<&str> = chain.layers.iter().map(|(n, _)| n.as_str()).collect();
            return Err(Error::new(format!("baseconfig cycle: {} -> {name}", names.join(" -> "))));
        }
        let mut config = parse::read(&next, &name)?;
        debug!("read config {name}");
        let base = match config.remove(KEY) {
            None => None,
            Some(value) => {
                let base = base_name(&value, &name)?;
                Some(files::find_base_file(next.parent().unwrap_or(dir), base, &name)?)
            }
        };
        chain.layers.push((name, config));
        seen.push(identity);
        match base {
            None => return Ok(chain),
            Some(path) if files::is_hocon(&path) => next = path,
            Some(path) => {
                chain.rest = Some(path);
                return Ok(chain);
            }
        }
    }
}

/// The file name of the base a `baseconfig` value names.
fn base_name<'a>(value: &'a Value, referrer: &str) -> Result<&'a str> {
    match value {
        Value::String(name) if !name.trim().is_empty() => Ok(name),
        other => Err(Error::new(format!(
            "{referrer}: '{KEY}' must name a config file in the same directory, found {}",
            match other {
                Value::String(_) => "an empty string",
                Value::Array(_) => "a list",
                Value::Object(_) => "an object",
                Value::Number(_) => "a number",
                Value::Bool(_) => "true/false",
                Value::Null => "nothing (null or an empty document)",
            }
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn project(files: &[(&str, &str)]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in files {
            fs::write(dir.path().join(name), text).unwrap();
        }
        dir
    }

    fn chain_of(dir: &tempfile::TempDir) -> Result<Chain> {
        read(dir.path(), dir.path().join("gcdt_dev.conf"))
    }

    #[test]
    fn hocon_bases_are_read_nearest_first() {
        let dir = project(&[
            ("gcdt_dev.conf", "baseconfig = common\nkumo { stack { StackName = dev } }\n"),
            ("common.conf", "baseconfig = \"root.conf\"\nregion = eu-west-1\n"),
            ("root.conf", "owner = ops\n"),
        ]);
        let chain = chain_of(&dir).unwrap();
        let names: Vec<&str> = chain.layers.iter().map(|(n, _)| n.as_str()).collect();
        assert_eq!(names, ["gcdt_dev.conf", "common.conf", "root.conf"]);
        assert_eq!(Value::Object(chain.layers[0].1.clone()), json!({"kumo": {"stack": {"StackName": "dev"}}}));
        assert!(chain.rest.is_none());
    }

    #[test]
    fn a_base_of_another_format_is_left_to_the_config_reader() {
        let dir = project(&[("gcdt_dev.conf", "baseconfig = base\na = 1\n"), ("base.yaml", "b: 2\n")]);
        let chain = chain_of(&dir).unwrap();
        assert_eq!(chain.layers.len(), 1);
        assert_eq!(chain.rest, Some(dir.path().join("base.yaml")));
    }

    #[test]
    fn cycles_and_bad_names_are_errors() {
        let dir = project(&[("gcdt_dev.conf", "baseconfig = base\n"), ("base.conf", "baseconfig = gcdt_dev\n")]);
        assert_eq!(
            chain_of(&dir).unwrap_err().message(),
            "baseconfig cycle: gcdt_dev.conf -> base.conf -> gcdt_dev.conf"
        );
        let dir = project(&[("gcdt_dev.conf", "baseconfig = [a]\n")]);
        assert_eq!(
            chain_of(&dir).unwrap_err().message(),
            "gcdt_dev.conf: 'baseconfig' must name a config file in the same directory, found a list"
        );
        let dir = project(&[("gcdt_dev.conf", "baseconfig = base\n"), ("base.conf", "a = {\n")]);
        assert!(chain_of(&dir).unwrap_err().message().starts_with("base.conf:"));
    }
}
