//! Which file to read: the candidate names for an env or a `baseconfig`, and the rule that exactly one exists.

use std::path::{Path, PathBuf};

use fink_plugin_api::{Error, Result};

/// The extensions a config file may have, in the order they are looked for.
pub const EXTENSIONS: [&str; 5] = ["json", "yaml", "yml", "toml", "conf"];

/// The prefixes of env config files: fink's own, then gcdt's for projects migrating from gcdt.
const PREFIXES: [&str; 2] = ["fink", "gcdt"];

/// The file names that may hold the config of `env`, e.g. `fink_dev.json` ... `gcdt_dev.toml`.
pub fn env_candidates(env: &str) -> Vec<String> {
    PREFIXES.iter().flat_map(|prefix| EXTENSIONS.iter().map(move |ext| format!("{prefix}_{env}.{ext}"))).collect()
}

/// The file names a `baseconfig` value may mean: the name itself when it already has a config
/// extension, otherwise the name with each extension.
pub fn base_candidates(name: &str) -> Vec<String> {
    if has_config_extension(name) {
        vec![name.to_owned()]
    } else {
        EXTENSIONS.iter().map(|ext| format!("{name}.{ext}")).collect()
    }
}

fn has_config_extension(name: &str) -> bool {
    Path::new(name).extension().and_then(|ext| ext.to_str()).is_some_and(|ext| EXTENSIONS.contains(&ext))
}

/// The one config file of `env` in `dir`.
pub fn find_env_file(dir: &Path, env: &str) -> Result<PathBuf> {
    let names = env_candidates(env);
    match existing(dir, &names).as_slice() {
        [one] => Ok(dir.join(one)),
        [] => Err(Error::new(format!(
            "no config file for env '{env}' in {}: looked for {}",
            dir.display(),
            names.join(", ")
        ))
        .with_help(format!("create fink_{env}.json (or .yaml, .yml, .toml, .conf) there, or set ENV to another env"))),
        found => Err(Error::new(format!(
            "{} config files for env '{env}': {}; keep one",
            count_word(found.len()),
            and_list(found)
        ))),
    }
}

/// The one file the `baseconfig` value `name` of file `referrer` means; looked for in `dir`.
pub fn find_base_file(dir: &Path, name: &str, referrer: &str) -> Result<PathBuf> {
    let names = base_candidates(name);
    match existing(dir, &names).as_slice() {
        [one] => Ok(dir.join(one)),
        [] => Err(Error::new(format!(
            "{referrer}: baseconfig '{name}' not found in {}: looked for {}",
            dir.display(),
            names.join(", ")
        ))),
        found => Err(Error::new(format!(
            "{referrer}: baseconfig '{name}' matches {} files: {}; keep one",
            count_word(found.len()),
            and_list(found)
        ))),
    }
}

/// The names of `names` that are files in `dir`, in the order given.
fn existing(dir: &Path, names: &[String]) -> Vec<String> {
    names.iter().filter(|name| dir.join(name).is_file()).cloned().collect()
}

/// `a`, `a and b`, `a, b and c`.
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

fn count_word(n: usize) -> String {
    const WORDS: [&str; 9] = ["no", "one", "two", "three", "four", "five", "six", "seven", "eight"];
    WORDS.get(n).map_or_else(|| n.to_string(), |word| (*word).to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn touch(dir: &Path, names: &[&str]) {
        for name in names {
            fs::write(dir.join(name), "{}").unwrap();
        }
    }

    #[test]
    fn env_candidates_are_fink_first_then_gcdt() {
        let names = env_candidates("dev");
        assert_eq!(names.len(), 10);
        assert_eq!(names[0], "fink_dev.json");
        assert_eq!(names[3], "fink_dev.toml");
        assert_eq!(names[4], "fink_dev.conf");
        assert_eq!(names[5], "gcdt_dev.json");
    }

    #[test]
    fn finds_the_one_env_file_in_any_format_or_prefix() {
        for name in ["fink_dev.yml", "gcdt_dev.yaml", "fink_dev.toml", "gcdt_dev.conf"] {
            let dir = tempfile::tempdir().unwrap();
            touch(dir.path(), &[name, "fink_prod.json"]);
            assert_eq!(find_env_file(dir.path(), "dev").unwrap(), dir.path().join(name));
        }
    }

    #[test]
    fn two_env_files_name_both() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["fink_dev.json", "fink_dev.yaml"]);
        let err = find_env_file(dir.path(), "dev").unwrap_err();
        assert_eq!(err.message(), "two config files for env 'dev': fink_dev.json and fink_dev.yaml; keep one");
    }

    #[test]
    fn three_env_files_across_prefixes_name_all() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["fink_dev.json", "fink_dev.toml", "gcdt_dev.json"]);
        let err = find_env_file(dir.path(), "dev").unwrap_err();
        assert_eq!(
            err.message(),
            "three config files for env 'dev': fink_dev.json, fink_dev.toml and gcdt_dev.json; keep one"
        );
    }

    #[test]
    fn missing_env_file_lists_every_name_and_the_dir() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_env_file(dir.path(), "dev").unwrap_err();
        let expected = format!(
            "no config file for env 'dev' in {}: looked for fink_dev.json, fink_dev.yaml, fink_dev.yml, \
             fink_dev.toml, fink_dev.conf, gcdt_dev.json, gcdt_dev.yaml, gcdt_dev.yml, gcdt_dev.toml, gcdt_dev.conf",
            dir.path().display()
        );
        assert_eq!(err.message(), expected);
        assert!(err.help().unwrap().contains("fink_dev.json"));
    }

    #[test]
    fn a_directory_is_not_a_config_file() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir(dir.path().join("fink_dev.json")).unwrap();
        assert!(find_env_file(dir.path(), "dev").unwrap_err().message().starts_with("no config file"));
    }

    #[test]
    fn base_name_may_carry_its_extension() {
        assert_eq!(base_candidates("base.yaml"), vec!["base.yaml"]);
        assert_eq!(base_candidates("base").len(), 5);
        assert_eq!(
            base_candidates("base.v2"),
            vec!["base.v2.json", "base.v2.yaml", "base.v2.yml", "base.v2.toml", "base.v2.conf"]
        );
    }

    #[test]
    fn missing_base_names_the_referring_file() {
        let dir = tempfile::tempdir().unwrap();
        let err = find_base_file(dir.path(), "base", "fink_dev.json").unwrap_err();
        assert!(err.message().starts_with("fink_dev.json: baseconfig 'base' not found in "));
        assert!(err.message().ends_with("looked for base.json, base.yaml, base.yml, base.toml, base.conf"));
    }

    #[test]
    fn two_base_files_are_ambiguous() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["base.json", "base.toml"]);
        let err = find_base_file(dir.path(), "base", "fink_dev.json").unwrap_err();
        assert_eq!(
            err.message(),
            "fink_dev.json: baseconfig 'base' matches two files: base.json and base.toml; keep one"
        );
        assert_eq!(find_base_file(dir.path(), "base.toml", "x").unwrap(), dir.path().join("base.toml"));
    }
}
