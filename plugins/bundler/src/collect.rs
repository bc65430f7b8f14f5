//! Which files of a folder go into the zip: a walk of the folder that leaves out what the ignore
//! patterns match (gitignore semantics, relative to the folder), what `.finkignore` files inside it
//! match, and the bundler's own files (the zip, its temporary files, the staging folder).
//! Git's `.gitignore` files play no part; hidden files are included unless a pattern matches.

use std::path::{Path, PathBuf};

use fink_plugin_api::{Error, Result};
use ignore::gitignore::{Gitignore, GitignoreBuilder};
use ignore::WalkBuilder;

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
/// leaving out what `patterns`, `.finkignore` files and `skip` exclude.
pub fn folder(root: &Path, target: &str, patterns: &[String], skip: &Skip) -> Result<Vec<Entry>> {
    let ignored = matcher(root, patterns)?;
    let skip = skip.clone();
    let walker = WalkBuilder::new(root)
        .standard_filters(false)
        .follow_links(true)
        .add_custom_ignore_filename(IGNORE_FILE)
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
        .build();
    let mut entries = Vec::new();
    for dent in walker {
        let dent = dent.map_err(|e| Error::new(format!("cannot read {}: {e}", root.display())))?;
        if !dent.file_type().is_some_and(|t| t.is_file()) {
            continue;
        }
        let relative = dent.path().strip_prefix(root).unwrap_or(dent.path());
        let mut name: Vec<String> = Vec::new();
        if !target.is_empty() {
            name.push(target.to_string());
        }
        name.extend(relative.components().map(|c| c.as_os_str().to_string_lossy().into_owned()));
        entries.push(Entry::file(name.join("/"), dent.path())?);
    }
    Ok(entries)
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
