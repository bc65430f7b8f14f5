//! Ignore patterns: the config's own `ignore` list plus the lines of `.finkignore`, `.gcdtignore`,
//! `.npmignore` and `~/.finkignore`, unioned in that order.

use std::fs;
use std::io::ErrorKind;
use std::path::{Path, PathBuf};

use fink_plugin_api::{debug, Error, Result};
use serde_json::{Map, Value};

use crate::formats::describe;

/// The config key that holds the patterns.
pub const KEY: &str = "ignore";

/// gcdt's name for the key; still read so migrated configs keep their patterns.
pub const GCDT_KEY: &str = "gcdtignore";

/// Pattern files in the project directory, in the order their lines are added.
const PROJECT_FILES: [&str; 3] = [".finkignore", ".gcdtignore", ".npmignore"];

/// The pattern file in the user's home directory.
const HOME_FILE: &str = ".finkignore";

/// All patterns: `config`'s `ignore` (and `gcdtignore`) lists first, then the pattern files; each once.
pub fn collect(config: &Map<String, Value>, dir: &Path, home: Option<&Path>) -> Result<Vec<String>> {
    let mut lists = vec![config_patterns(config, "config")?];
    for (path, name) in pattern_files(dir, home) {
        if let Some(patterns) = file_patterns(&path, &name)? {
            debug!("read {} ignore patterns from {name}", patterns.len());
            lists.push(patterns);
        }
    }
    Ok(union(lists))
}

/// The patterns listed in a config under `ignore` and `gcdtignore`; `origin` names the config in errors.
pub fn config_patterns(config: &Map<String, Value>, origin: &str) -> Result<Vec<String>> {
    let mut patterns = Vec::new();
    for key in [KEY, GCDT_KEY] {
        let items = match config.get(key) {
            None => continue,
            Some(Value::Array(items)) => items,
            Some(other) => {
                return Err(Error::new(format!(
                    "{origin}: '{key}' must be a list of strings, found {}",
                    describe(other)
                )))
            }
        };
        for (i, item) in items.iter().enumerate() {
            match item {
                Value::String(pattern) => patterns.push(pattern.clone()),
                other => {
                    return Err(Error::new(format!(
                        "{origin}: '{key}' must be a list of strings, item {} is {}",
                        i + 1,
                        describe(other)
                    )))
                }
            }
        }
    }
    Ok(patterns)
}

/// The pattern files to look at, with the names messages use.
fn pattern_files(dir: &Path, home: Option<&Path>) -> Vec<(PathBuf, String)> {
    let project = PROJECT_FILES.iter().map(|name| (dir.join(name), (*name).to_owned()));
    let home = home.map(|home| (home.join(HOME_FILE), format!("~/{HOME_FILE}")));
    project.chain(home).collect()
}

/// The patterns in the file at `path`, or `None` when there is no such file.
fn file_patterns(path: &Path, name: &str) -> Result<Option<Vec<String>>> {
    match fs::read_to_string(path) {
        Ok(text) => Ok(Some(parse_lines(&text))),
        Err(err) if err.kind() == ErrorKind::NotFound => Ok(None),
        Err(err) => Err(Error::new(format!("{name}: cannot read ignore patterns: {err}"))),
    }
}

/// One pattern per line; blank lines and `#` comments are skipped.
fn parse_lines(text: &str) -> Vec<String> {
    text.lines().map(str::trim).filter(|line| !line.is_empty() && !line.starts_with('#')).map(str::to_owned).collect()
}

/// The lists joined in order, keeping the first of each repeated pattern.
fn union(lists: Vec<Vec<String>>) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for pattern in lists.into_iter().flatten() {
        if !all.contains(&pattern) {
            all.push(pattern);
        }
    }
    all
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn map(value: Value) -> Map<String, Value> {
        value.as_object().unwrap().clone()
    }

    #[test]
    fn lines_skip_blanks_and_comments() {
        let text = "# build output\n*.pyc\n\n  trash  \r\n\\#literal\n";
        assert_eq!(parse_lines(text), vec!["*.pyc", "trash", "\\#literal"]);
    }

    #[test]
    fn config_list_comes_first_then_files_in_order_without_repeats() {
        let project = tempfile::tempdir().unwrap();
        let home = tempfile::tempdir().unwrap();
        fs::write(project.path().join(".finkignore"), "a\nshared\n").unwrap();
        fs::write(project.path().join(".gcdtignore"), "# old\nb\nconf\n").unwrap();
        fs::write(project.path().join(".npmignore"), "node_modules\nshared\n").unwrap();
        fs::write(home.path().join(".finkignore"), ".DS_Store\na\n").unwrap();
        let config = map(json!({"ignore": ["conf", "*.pyc"]}));
        let patterns = collect(&config, project.path(), Some(home.path())).unwrap();
        assert_eq!(patterns, vec!["conf", "*.pyc", "a", "shared", "b", "node_modules", ".DS_Store"]);
    }

    #[test]
    fn no_lists_and_no_files_give_no_patterns() {
        let project = tempfile::tempdir().unwrap();
        assert!(collect(&Map::new(), project.path(), None).unwrap().is_empty());
    }

    #[test]
    fn gcdtignore_key_is_read_after_ignore() {
        let config = map(json!({"gcdtignore": ["x", "y"], "ignore": ["y", "z"]}));
        assert_eq!(union(vec![config_patterns(&config, "c").unwrap()]), vec!["y", "z", "x"]);
    }

    #[test]
    fn non_list_ignore_names_the_key_and_origin() {
        let err = config_patterns(&map(json!({"ignore": "*.pyc"})), "fink_dev.json").unwrap_err();
        assert_eq!(err.message(), "fink_dev.json: 'ignore' must be a list of strings, found a string");
        let err = config_patterns(&map(json!({"gcdtignore": ["a", 3]})), "base.yaml").unwrap_err();
        assert_eq!(err.message(), "base.yaml: 'gcdtignore' must be a list of strings, item 2 is a number");
    }

    #[test]
    fn unreadable_pattern_file_is_named() {
        let project = tempfile::tempdir().unwrap();
        fs::create_dir(project.path().join(".npmignore")).unwrap();
        let err = collect(&Map::new(), project.path(), None).unwrap_err();
        assert!(err.message().starts_with(".npmignore: cannot read ignore patterns: "), "{}", err.message());
    }
}
