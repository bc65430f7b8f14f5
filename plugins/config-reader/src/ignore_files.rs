//! Ignore patterns: the config's own `ignore` list plus the lines of `.finkignore`, `.gcdtignore`,
//! `.npmignore`, `~/.finkignore` and `~/.ramudaignore` (gcdt's), unioned in that order.

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

/// The pattern files in the user's home directory: fink's, then gcdt's (ramuda's).
const HOME_FILES: [&str; 2] = [".finkignore", ".ramudaignore"];

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
    let home =
        home.into_iter().flat_map(|home| HOME_FILES.iter().map(move |name| (home.join(name), format!("~/{name}"))));
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

/// The lists joined in order, keeping the first of each repeated pattern, unless a pattern of the
/// other kind (`!pattern` against a plain one) came after that first copy: the last matching
/// pattern decides, so then the later copy is kept in its place and the earlier one dropped.
/// Either way the union leaves out exactly the files the joined lists leave out.
fn union(lists: Vec<Vec<String>>) -> Vec<String> {
    let negated = |pattern: &str| pattern.starts_with('!');
    let mut all: Vec<String> = Vec::new();
    for pattern in lists.into_iter().flatten() {
        match all.iter().position(|p| *p == pattern) {
            None => all.push(pattern),
            Some(first) => {
                if all[first + 1..].iter().any(|p| negated(p) != negated(&pattern)) {
                    all.remove(first);
                    all.push(pattern);
                }
            }
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
        fs::write(home.path().join(".ramudaignore"), "*.swp\n.DS_Store\n").unwrap();
        let config = map(json!({"ignore": ["conf", "*.pyc"]}));
        let patterns = collect(&config, project.path(), Some(home.path())).unwrap();
        assert_eq!(patterns, vec!["conf", "*.pyc", "a", "shared", "b", "node_modules", ".DS_Store", "*.swp"]);
    }

    #[test]
    fn a_repeated_pattern_after_a_negation_is_kept_in_its_later_place() {
        // Regression: config `[a, !a]` and `.finkignore` `a` gave `[a, !a]`, which bundles `a`,
        // though `.finkignore` leaves it out and the joined lists `[a, !a, a]` do too.
        let lists = vec![strings(&["a", "!a"]), strings(&["a"])];
        assert_eq!(union(lists), strings(&["!a", "a"]));
        let lists = vec![strings(&["!k", "*.log"]), strings(&["!k"])];
        assert_eq!(union(lists), strings(&["*.log", "!k"]));
        // Without a pattern of the other kind in between, the first copy stays where it is.
        assert_eq!(union(vec![strings(&["a", "b", "c"]), strings(&["b"])]), strings(&["a", "b", "c"]));
        assert_eq!(union(vec![strings(&["a", "b", "!c"]), strings(&["b"])]), strings(&["a", "!c", "b"]));
    }

    fn strings(items: &[&str]) -> Vec<String> {
        items.iter().map(|s| s.to_string()).collect()
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

/// Property tests: the union leaves out what the joined lists leave out, with each pattern once.
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    /// Patterns from a few names, plain and negated, so lists repeat each other's patterns.
    fn list() -> impl Strategy<Value = Vec<String>> {
        let pattern = (proptest::sample::select(vec!["a", "b", "c", "a*", "*"]), any::<bool>())
            .prop_map(|(name, negated)| if negated { format!("!{name}") } else { name.to_string() });
        proptest::collection::vec(pattern, 0..5)
    }

    /// Whether gitignore's rule (the last matching pattern decides) leaves `file` out. The model
    /// only needs each pattern to match a fixed set of files; here, by its name's letters.
    fn left_out(patterns: &[String], file: &str) -> bool {
        let matches = |name: &str| match name {
            "*" => true,
            "a*" => file.starts_with('a'),
            name => file == name,
        };
        patterns.iter().rev().find_map(|p| {
            let (negated, name) = p.strip_prefix('!').map_or((false, p.as_str()), |n| (true, n));
            matches(name).then_some(!negated)
        }) == Some(true)
    }

    proptest! {
        #![proptest_config(Config { cases: 3000, failure_persistence: None, ..Config::default() })]

        #[test]
        fn the_union_decides_like_the_joined_lists(lists in proptest::collection::vec(list(), 0..5)) {
            let joined: Vec<String> = lists.concat();
            let all = union(lists);
            for file in ["a", "ab", "b", "c", "d"] {
                prop_assert_eq!(left_out(&all, file), left_out(&joined, file), "{} with {:?} and {:?}", file, all, joined);
            }
            // Each pattern of each list, once.
            for pattern in &joined {
                prop_assert_eq!(all.iter().filter(|p| *p == pattern).count(), 1, "{}", pattern);
            }
            prop_assert!(all.iter().all(|p| joined.contains(p)));
            // Without negations, the order of first appearance.
            if !joined.iter().any(|p| p.starts_with('!')) {
                let mut first: Vec<String> = Vec::new();
                for p in &joined {
                    if !first.contains(p) {
                        first.push(p.clone());
                    }
                }
                prop_assert_eq!(all, first);
            }
        }
    }
}
