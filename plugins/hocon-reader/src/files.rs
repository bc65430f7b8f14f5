//! Which files to read: the env's `.conf` file, the file a `baseconfig` value names, and the rule
//! that one env has one config file, whichever reader finds it.

use std::path::{Path, PathBuf};

use fink_plugin_api::{Error, Result};

/// The extensions a `baseconfig` name without one may take, in the config-reader's order, so a
/// name resolves to the same file in both readers.
const EXTENSIONS: [&str; 5] = ["json", "yaml", "yml", "toml", "conf"];

/// Whether `path` is a HOCON file (this reader's to read).
pub fn is_hocon(path: &Path) -> bool {
    path.extension().is_some_and(|ext| ext == "conf")
}

/// The name of the one HOCON config file of `env` in `dir` (`fink_<env>.conf` or
/// `gcdt_<env>.conf`), if there is one.
pub fn find_env_file(dir: &Path, env: &str) -> Result<Option<String>> {
    let found: Vec<String> = ["fink", "gcdt"]
        .iter()
        .map(|prefix| format!("{prefix}_{env}.conf"))
        .filter(|n| dir.join(n).is_file())
        .collect();
    match found.as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(one.clone())),
        [first, second, ..] => {
            Err(Error::new(format!("two config files for env '{env}': {first} and {second}; keep one")))
        }
    }
}

/// Two readers found a config file for `env`: `ours` and `theirs`, which another reader read
/// first. The message is the same whichever reader runs first: both names, in name order.
pub fn two_readers(env: &str, ours: &str, theirs: &str) -> Error {
    let (first, second) = if ours <= theirs { (ours, theirs) } else { (theirs, ours) };
    Error::new(format!("two config files for env '{env}': {first} and {second}; keep one")).with_help(
        "the hocon-reader reads .conf files and the config-reader .json, .yaml, .yml and .toml ones; \
         an env has one config file",
    )
}

/// The one file the `baseconfig` value `name` of file `referrer` means, looked for in `dir`: the
/// name itself when it has a config extension, otherwise the name with each extension.
pub fn find_base_file(dir: &Path, name: &str, referrer: &str) -> Result<PathBuf> {
    let with_extension = Path::new(name).extension().and_then(|e| e.to_str()).is_some_and(|e| EXTENSIONS.contains(&e));
    let names: Vec<String> = if with_extension {
        vec![name.to_owned()]
    } else {
        EXTENSIONS.iter().map(|ext| format!("{name}.{ext}")).collect()
    };
    let found: Vec<&String> = names.iter().filter(|n| dir.join(n).is_file()).collect();
    match found.as_slice() {
        [one] => Ok(dir.join(one)),
        [] => Err(Error::new(format!(
            "{referrer}: baseconfig '{name}' not found in {}: looked for {}",
            dir.display(),
            names.join(", ")
        ))),
        found => {
            let names: Vec<&str> = found.iter().map(|n| n.as_str()).collect();
            let (last, rest) = names.split_last().unwrap_or((&"", &[]));
            Err(Error::new(format!(
                "{referrer}: baseconfig '{name}' matches {} files: {} and {last}; keep one",
                count_word(found.len()),
                rest.join(", ")
            )))
        }
    }
}

fn count_word(n: usize) -> String {
    const WORDS: [&str; 6] = ["no", "one", "two", "three", "four", "five"];
    WORDS.get(n).map_or_else(|| n.to_string(), |word| (*word).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn dir_with(names: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for name in names {
            fs::write(dir.path().join(name), "a = 1\n").unwrap();
        }
        dir
    }

    #[test]
    fn finds_the_fink_or_gcdt_conf_file_only() {
        assert_eq!(find_env_file(dir_with(&["fink_dev.json"]).path(), "dev").unwrap(), None);
        assert_eq!(
            find_env_file(dir_with(&["gcdt_dev.conf"]).path(), "dev").unwrap().as_deref(),
            Some("gcdt_dev.conf")
        );
        let err = find_env_file(dir_with(&["fink_dev.conf", "gcdt_dev.conf"]).path(), "dev").unwrap_err();
        assert_eq!(err.message(), "two config files for env 'dev': fink_dev.conf and gcdt_dev.conf; keep one");
    }

    #[test]
    fn two_readers_read_the_same_whichever_came_first() {
        let one = two_readers("dev", "gcdt_dev.conf", "fink_dev.json");
        let other = two_readers("dev", "fink_dev.json", "gcdt_dev.conf");
        assert_eq!(one.message(), "two config files for env 'dev': fink_dev.json and gcdt_dev.conf; keep one");
        assert_eq!(one.message(), other.message());
    }

    #[test]
    fn base_names_resolve_as_in_the_config_reader() {
        let dir = dir_with(&["base.conf", "other.yaml", "two.json", "two.conf"]);
        assert_eq!(find_base_file(dir.path(), "base", "x.conf").unwrap(), dir.path().join("base.conf"));
        assert_eq!(find_base_file(dir.path(), "other", "x.conf").unwrap(), dir.path().join("other.yaml"));
        assert_eq!(
            find_base_file(dir.path(), "two", "x.conf").unwrap_err().message(),
            "x.conf: baseconfig 'two' matches two files: two.json and two.conf; keep one"
        );
        let err = find_base_file(dir.path(), "gone", "x.conf").unwrap_err();
        assert!(
            err.message().ends_with("looked for gone.json, gone.yaml, gone.yml, gone.toml, gone.conf"),
            "{}",
            err.message()
        );
    }
}
