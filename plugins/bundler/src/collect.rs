//! Which files of a folder go into the zip: a walk of the folder that leaves out what the ignore
//! patterns match (gitignore semantics, relative to the folder), what `.finkignore` files inside it
//! match, and the bundler's own files (the zip, its temporary files, the staging folder).
//! Git's `.gitignore` files play no part; hidden files are included unless a pattern matches.

use std::path::{Path, PathBuf};
use std::sync::Mutex;

use fink_plugin_api::{Error, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::{WalkBuilder, WalkState};

use crate::archive::{self, Entry};

/// The pattern file a source folder (or any folder inside it) may hold; never bundled itself.
pub const IGNORE_FILE: &str = ".finkignore";

/// What a walk never includes, whatever the patterns say.
#[derive(Debug, Clone, Default)]
pub struct Skip {
    /// Absolute, canonical paths: the output zip, the staging folder.
    pub paths: Vec<PathBuf>,
    /// File names skipped at any depth (`.finkignore`, the staging marker).
    pub names: Vec<String>,
    /// The zip's file name, to skip its temporary files.
    pub zip_name: String,
}

/// A matcher for `patterns` rooted at `root`; an invalid pattern is named in the error.
pub fn matcher(root: &Path, patterns: &[String]) -> Result<Gitignore> {
    let mut builder = GitignoreBuilder::new(root);
    for pattern in patterns {
        builder.add_line(None, pattern).map_err(|e| Error::new(format!("invalid ignore pattern '{pattern}': {e}")))?;
    }
    builder.build().map_err(|e| Error::new(format!("invalid ignore patterns: {e}")))
}

/// The files under `root` (a canonical folder) as zip entries below `target` (`""` for the root),
/// leaving out what `patterns`, `.finkignore` files and `skip` exclude. In no particular order:
/// the folder is walked on one thread per core, and the archive sorts the entries.
pub fn folder(root: &Path, target: &str, patterns: &[String], skip: &Skip) -> Result<Vec<Entry>> {
    let ignored = matcher(root, patterns)?;
    let skip = skip.clone();
    let threads = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1);
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(true)
        .add_custom_ignore_filename(IGNORE_FILE)
        .threads(threads)
        .filter_entry(move |dent| {
            if dent.depth() == 0 {
                return true;
            }
            let name = dent.file_name().to_string_lossy();
            if skip.names.iter().any(|n| *n == name)
                || archive::is_temp_of(&name, &skip.zip_name)
                || skip.paths.iter().any(|p| p == dent.path())
            {
                return false;
            }
            let is_dir = dent.file_type().is_some_and(|t| t.is_dir());
            !ignored.matched(dent.path(), is_dir).is_ignore()
        })
        .build_parallel();
    let found: Mutex<Vec<Entry>> = Mutex::new(Vec::new());
    let failed: Mutex<Option<Error>> = Mutex::new(None);
    walker.run(|| {
        Box::new(|dent| {
            let entry = match dent {
                Ok(dent) if !dent.file_type().is_some_and(|t| t.is_file()) => return WalkState::Continue,
                Ok(dent) => entry(root, target, dent.path()),
                Err(e) => Err(Error::new(format!("cannot read {}: {e}", root.display()))),
            };
            match entry {
                Ok(entry) => {
                    found.lock().unwrap_or_else(|e| e.into_inner()).push(entry);
                    WalkState::Continue
                }
                Err(err) => {
                    failed.lock().unwrap_or_else(|e| e.into_inner()).get_or_insert(err);
                    WalkState::Quit
                }
            }
        })
    });
    if let Some(err) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(err);
    }
    Ok(found.into_inner().unwrap_or_else(|e| e.into_inner()))
}

/// The entry for the file at `path` under `root`, named below `target`.
fn entry(root: &Path, target: &str, path: &Path) -> Result<Entry> {
    let relative = path.strip_prefix(root).unwrap_or(path);
    let mut name: Vec<String> = Vec::new();
    if !target.is_empty() {
        name.push(target.to_string());
    }
    name.extend(relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()));
    Entry::file(name.join("/"), path)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree(files: &[&str]) -> tempfile::TempDir {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, format!("content of {file}")).unwrap();
        }
        dir
    }

    fn names(root: &Path, target: &str, patterns: &[&str], skip: &Skip) -> Vec<String> {
        let root = std::fs::canonicalize(root).unwrap();
        let patterns: Vec<String> = patterns.iter().map(|p| p.to_string()).collect();
        let mut names: Vec<String> =
            folder(&root, target, &patterns, skip).unwrap().into_iter().map(|e| e.name).collect();
        names.sort();
        names
    }

    #[test]
    fn includes_hidden_files_and_ignores_gitignore() {
        let dir = tree(&["app.py", ".env.example", "pkg/.hidden", ".gitignore", "ignored-by-git.txt"]);
        std::fs::write(dir.path().join(".gitignore"), "ignored-by-git.txt\n").unwrap();
        assert_eq!(
            names(dir.path(), "", &[], &Skip::default()),
            vec![".env.example", ".gitignore", "app.py", "ignored-by-git.txt", "pkg/.hidden"]
        );
    }

    #[test]
    fn patterns_use_gitignore_semantics_relative_to_the_folder() {
        let dir = tree(&[
            "a.py",
            "a.pyc",
            "sub/b.pyc",
            "tests/t.py",
            "sub/tests/t2.py",
            "build/x",
            "sub/build/y",
            "keep.log",
            "drop.log",
        ]);
        let patterns = ["*.pyc", "tests/", "/build", "*.log", "!keep.log"];
        assert_eq!(
            names(dir.path(), "app", &patterns, &Skip::default()),
            vec!["app/a.py", "app/keep.log", "app/sub/build/y"]
        );
    }

    #[test]
    fn finkignore_files_apply_to_their_folder_and_are_not_bundled() {
        let dir = tree(&["a.txt", "secret.txt", "sub/b.txt", "sub/local.txt", "sub/secret.txt"]);
        std::fs::write(dir.path().join(".finkignore"), "secret.txt\n").unwrap();
        std::fs::write(dir.path().join("sub/.finkignore"), "local.txt\n").unwrap();
        let skip = Skip { names: vec![IGNORE_FILE.to_string()], ..Skip::default() };
        assert_eq!(names(dir.path(), "", &[], &skip), vec!["a.txt", "sub/b.txt"]);
    }

    #[test]
    fn skips_the_zip_its_temp_files_and_the_staging_folder() {
        let dir = tree(&["a.txt", "bundle.zip", ".bundle.zip.x1.tmp", ".fink/bundle/lambda/dep.py", ".fink/other"]);
        let root = std::fs::canonicalize(dir.path()).unwrap();
        let skip = Skip {
            paths: vec![root.join("bundle.zip"), root.join(".fink/bundle")],
            names: Vec::new(),
            zip_name: "bundle.zip".to_string(),
        };
        assert_eq!(names(dir.path(), "", &[], &skip), vec![".fink/other", "a.txt"]);
    }

    #[test]
    fn an_invalid_pattern_is_named() {
        let dir = tree(&["a"]);
        let err = folder(dir.path(), "", &["{a".to_string()], &Skip::default()).unwrap_err();
        assert!(err.message().starts_with("invalid ignore pattern '{a'"), "{}", err.message());
    }
}

/// Property tests for the ignore union: the top-level `ignore` list, `<section>.bundling.ignore`
/// and `.finkignore` files. A file left out by any one of them alone is left out by all together
/// (except what a `!pattern` in the section list re-includes, as documented), a file none of them
/// leaves out is bundled, and any pattern text is an error naming it, never a panic.
#[cfg(test)]
mod proptests {
    use super::*;
    use crate::request::Bundling;
    use proptest::prelude::*;
    use proptest::test_runner::Config;
    use serde_json::json;
    use std::collections::BTreeSet;

    /// Few names, so patterns and files meet often.
    const NAMES: &[&str] = &["a.py", "b.log", "c", ".env", "build", "tests", "keep.log", "x y"];

    /// Files of a tree: paths of up to three names; a path that another one goes through is a folder.
    fn tree() -> impl Strategy<Value = BTreeSet<String>> {
        let path = proptest::collection::vec(proptest::sample::select(NAMES), 1..=3).prop_map(|p| p.join("/"));
        proptest::collection::btree_set(path, 1..14).prop_map(|paths| {
            let folders: BTreeSet<String> =
                paths.iter().flat_map(|p| p.match_indices('/').map(move |(i, _)| p[..i].to_string())).collect();
            paths.into_iter().filter(|p| !folders.contains(p)).collect()
        })
    }

    /// gitignore patterns made of the tree's names, wildcards, anchors, folder slashes and negations.
    fn pattern() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            3 => proptest::sample::select(NAMES),
            2 => proptest::sample::select(vec!["*", "**", "*.py", "*.log", "?", "[ab]*", "b*", "*e*"]),
        ];
        (
            proptest::sample::select(vec!["", "", "", "!", "/", "**/"]),
            proptest::collection::vec(piece, 1..=3),
            proptest::sample::select(vec!["", "", "/", "/**"]),
        )
            .prop_map(|(head, pieces, tail)| format!("{head}{}{tail}", pieces.join("/")))
    }

    fn patterns() -> impl Strategy<Value = Vec<String>> {
        proptest::collection::vec(pattern(), 0..4)
    }

    fn skip() -> Skip {
        Skip { names: vec![IGNORE_FILE.to_string()], ..Skip::default() }
    }

    /// What the bundler takes from `root` with `patterns` (and whatever `.finkignore` files are there).
    fn kept(root: &Path, patterns: &[String]) -> std::result::Result<BTreeSet<String>, TestCaseError> {
        let entries = folder(root, "", patterns, &skip()).map_err(|e| TestCaseError::fail(e.message().to_owned()))?;
        Ok(entries.into_iter().map(|e| e.name).collect())
    }

    fn write_tree(files: &BTreeSet<String>) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        for file in files {
            let path = dir.path().join(file);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, file).unwrap();
        }
        let root = std::fs::canonicalize(dir.path()).unwrap();
        (dir, root)
    }

    /// The folder `at` picks among the tree's folders ("" is the root).
    fn folder_of(files: &BTreeSet<String>, at: usize) -> String {
        let folders: Vec<String> = std::iter::once(String::new())
            .chain(files.iter().flat_map(|p| p.match_indices('/').map(move |(i, _)| p[..i].to_string())))
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        folders[at % folders.len()].clone()
    }

    /// Fewer cases than elsewhere: each one writes a folder tree and walks it four times.
    fn config(cases: u32) -> Config {
        Config { cases, failure_persistence: None, ..Config::default() }
    }

    proptest! {
        #![proptest_config(config(400))]

        #[test]
        fn the_union_leaves_out_what_any_source_leaves_out_and_keeps_the_rest(
            files in tree(),
            top in patterns(),
            section in patterns(),
            finkignore in patterns(),
            nested in proptest::option::of((any::<usize>(), patterns())),
        ) {
            let (_dir, root) = write_tree(&files);
            let all: BTreeSet<String> = files.iter().cloned().collect();
            // Each list alone, before any .finkignore exists.
            let by_top = kept(&root, &top)?;
            let by_section = kept(&root, &section)?;
            std::fs::write(root.join(IGNORE_FILE), finkignore.join("\n")).unwrap();
            if let Some((at, lines)) = &nested {
                std::fs::write(root.join(folder_of(&files, *at)).join(IGNORE_FILE), lines.join("\n")).unwrap();
            }
            let by_files = kept(&root, &[])?;
            // All together, the lists joined as the bundler joins them from the config.
            let config = json!({"ignore": top.clone(), "lambda": {"bundling": {"ignore": section.clone()}}});
            let union = Bundling::from_config(&config, "lambda").map_err(|e| TestCaseError::fail(e.message().to_owned()))?.ignore;
            prop_assert_eq!(&union, &[top.clone(), section.clone()].concat());
            let together = kept(&root, &union)?;

            prop_assert!(by_top.is_subset(&all) && by_section.is_subset(&all) && by_files.is_subset(&all));
            // Left out by one source: left out by the union.
            prop_assert!(together.is_subset(&by_section), "{:?} not left out", together.difference(&by_section).collect::<Vec<_>>());
            prop_assert!(together.is_subset(&by_files), "{:?} not left out", together.difference(&by_files).collect::<Vec<_>>());
            if !section.iter().any(|p| p.starts_with('!')) {
                prop_assert!(together.is_subset(&by_top), "{:?} not left out", together.difference(&by_top).collect::<Vec<_>>());
            }
            // Left out by none: kept.
            let by_none: BTreeSet<String> = by_top.intersection(&by_section).filter(|f| by_files.contains(*f)).cloned().collect();
            prop_assert!(by_none.is_subset(&together), "{:?} left out", by_none.difference(&together).collect::<Vec<_>>());
        }

    }

    proptest! {
        #![proptest_config(config(200))]

        /// A `!pattern` in the section list re-includes what the top-level list left out.
        #[test]
        fn a_section_negation_re_includes_a_top_level_exclusion(files in tree(), at in any::<usize>()) {
            let (_dir, root) = write_tree(&files);
            let file = files.iter().nth(at % files.len()).unwrap().clone();
            let union = [format!("/{file}"), format!("!/{file}")];
            prop_assert!(!kept(&root, &union[..1])?.contains(&file));
            prop_assert!(kept(&root, &union)?.contains(&file));
        }
    }

    /// Any pattern text, in the config or in a `.finkignore`: files are bundled or left out, or
    /// the error names the pattern (or the `.finkignore` line); nothing panics. One tree for all cases.
    #[test]
    fn any_pattern_is_used_or_named_in_the_error() {
        let files: BTreeSet<String> = ["a", "b/c", ".d", "{a}", "[x]"].iter().map(|f| f.to_string()).collect();
        let (_dir, root) = write_tree(&files);
        let text = || proptest::collection::vec(prop_oneof!["\\PC{0,12}", "[*?\\[\\]{}!/\\\\a,-]{0,8}"], 0..4);
        let mut runner = proptest::test_runner::TestRunner::new(config(1500));
        let result = runner.run(&(text(), text()), |(listed, lines)| {
            match folder(&root, "", &listed, &skip()) {
                Ok(entries) => prop_assert!(entries.iter().all(|e| files.contains(&e.name))),
                Err(err) => prop_assert!(
                    listed.iter().any(|p| err.message().starts_with(&format!("invalid ignore pattern '{p}': "))),
                    "{}",
                    err.message()
                ),
            }
            std::fs::write(root.join(IGNORE_FILE), lines.join("\n")).unwrap();
            match folder(&root, "", &[], &skip()) {
                Ok(entries) => prop_assert!(entries.iter().all(|e| files.contains(&e.name))),
                Err(err) => prop_assert!(
                    err.message().contains(IGNORE_FILE) && err.message().contains("line"),
                    "{}",
                    err.message()
                ),
            }
            Ok(())
        });
        if let Err(failure) = result {
            panic!("{failure}");
        }
    }
}
