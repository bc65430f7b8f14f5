//! Which file to read: the candidate names for an env or a `baseconfig`, and the rule that exactly one exists.
//! `.conf` (HOCON) names are among the candidates so messages list every name an env file may
//! have, but those files are the hocon-reader plugin's to read.

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

/// Whether `name` is a HOCON file, which the hocon-reader plugin reads.
pub fn is_hocon(name: &str) -> bool {
    Path::new(name).extension().is_some_and(|ext| ext == "conf")
}

/// The one config file of `env` in `dir`.
#[cfg(test)]
pub fn find_env_file(dir: &Path, env: &str) -> Result<PathBuf> {
    own_env_file(dir, env)?.ok_or_else(|| missing(dir, env))
}

/// The one JSON, YAML or TOML config file of `env` in `dir`, if there is one.
pub fn own_env_file(dir: &Path, env: &str) -> Result<Option<PathBuf>> {
    let names: Vec<String> = env_candidates(env).into_iter().filter(|name| !is_hocon(name)).collect();
    match existing(dir, &names).as_slice() {
        [] => Ok(None),
        [one] => Ok(Some(dir.join(one))),
        found => Err(Error::new(format!(
            "{} config files for env '{env}': {}; keep one",
            count_word(found.len()),
            and_list(found)
        ))),
    }
}

/// Why `env` has no config: a HOCON file without the hocon-reader to read it, or no file at all.
pub fn missing(dir: &Path, env: &str) -> Error {
    let names = env_candidates(env);
    let hocon: Vec<String> = names.iter().filter(|name| is_hocon(name)).cloned().collect();
    if let Some(file) = existing(dir, &hocon).first() {
        return Error::new(format!("{file} is HOCON, which the hocon-reader plugin reads, and it is not loaded"))
            .with_help("install the hocon-reader plugin (scripts/install.sh installs it), or enable it");
    }
    Error::new(format!("no config file for env '{env}' in {}: looked for {}", dir.display(), names.join(", ")))
        .with_help(format!("create fink_{env}.json (or .yaml, .yml, .toml, .conf) there, or set ENV to another env"))
}

/// Two readers found a config file for `env`: `ours` and `theirs`, which another reader (the
/// hocon-reader) read first. The message is the same whichever reader runs first: both names, in
/// name order.
pub fn two_readers(env: &str, ours: &str, theirs: &str) -> Error {
    let (first, second) = if ours <= theirs { (ours, theirs) } else { (theirs, ours) };
    Error::new(format!("two config files for env '{env}': {first} and {second}; keep one")).with_help(
        "the hocon-reader reads .conf files and the config-reader .json, .yaml, .yml and .toml ones; \
         an env has one config file",
    )
}

/// The one file the `baseconfig` value `name` of file `referrer` means; looked for in `dir`.
pub fn find_base_file(dir: &Path, name: &str, referrer: &str) -> Result<PathBuf> {
    let names = base_candidates(name);
    match existing(dir, &names).as_slice() {
        [one] if is_hocon(one) => Err(Error::new(format!(
            "{referrer}: baseconfig '{name}' is the HOCON file {one}: the bases of a .json, .yaml, .yml or \
             .toml file are of those formats (a .conf env file, read by the hocon-reader, may have HOCON bases)"
        ))),
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
        for name in ["fink_dev.yml", "gcdt_dev.yaml", "fink_dev.toml", "gcdt_dev.json"] {
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
    fn a_hocon_env_file_is_the_hocon_readers() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["gcdt_dev.conf"]);
        assert_eq!(own_env_file(dir.path(), "dev").unwrap(), None);
        let err = find_env_file(dir.path(), "dev").unwrap_err();
        assert_eq!(err.message(), "gcdt_dev.conf is HOCON, which the hocon-reader plugin reads, and it is not loaded");
        touch(dir.path(), &["fink_dev.json"]);
        assert_eq!(own_env_file(dir.path(), "dev").unwrap(), Some(dir.path().join("fink_dev.json")));
    }

    #[test]
    fn two_readers_read_the_same_whichever_came_first() {
        let one = two_readers("dev", "gcdt_dev.conf", "fink_dev.json");
        assert_eq!(one.message(), "two config files for env 'dev': fink_dev.json and gcdt_dev.conf; keep one");
        assert_eq!(one.message(), two_readers("dev", "fink_dev.json", "gcdt_dev.conf").message());
    }

    #[test]
    fn a_hocon_base_of_another_format_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        touch(dir.path(), &["base.conf"]);
        let err = find_base_file(dir.path(), "base", "fink_dev.json").unwrap_err();
        assert!(
            err.message().starts_with("fink_dev.json: baseconfig 'base' is the HOCON file base.conf: "),
            "{}",
            err.message()
        );
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
