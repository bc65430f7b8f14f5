//! Finding the projects under a folder and what each one needs: a project is a folder with a
//! `fink_<env>.*` / `gcdt_<env>.*` config that has a `cloud` section. Each config is read as
//! fink reads it (`fink config --raw`, by a child fink: its own plugins, no lookups, no AWS);
//! every `lookup:stack:<name>` in it names a stack it needs, and `cloud.dependsOn` lists folders.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::Command;

use fink_plugin_api::{debug, Error, Result, Value};

/// Config file extensions fink reads.
const EXTENSIONS: &[&str] = &["json", "yaml", "yml", "toml", "py"];

/// Folders never searched.
const SKIPPED: &[&str] = &["node_modules", ".fink", ".git", "target", ".venv"];

/// One project of the tree.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Project {
    /// The folder relative to the root (`.` for the root itself): the project's name.
    pub name: String,
    pub dir: PathBuf,
    /// `cloud.stack.StackName`.
    pub stack: String,
    /// Stacks its lookups read.
    pub needs_stacks: BTreeSet<String>,
    /// `cloud.dependsOn`: folders, relative to the project.
    pub depends_on: Vec<String>,
}

/// The folders under `root` with a config file for `env`, sorted.
pub fn candidates(root: &Path, env: &str) -> Vec<PathBuf> {
    let names: Vec<String> = ["fink", "gcdt"]
        .iter()
        .flat_map(|prefix| EXTENSIONS.iter().map(move |ext| format!("{prefix}_{env}.{ext}")))
        .collect();
    let walk = ignore::WalkBuilder::new(root)
        .hidden(false)
        .require_git(false)
        .filter_entry(|entry| !entry.file_name().to_str().is_some_and(|n| SKIPPED.contains(&n)))
        .build();
    let mut found: Vec<PathBuf> = walk
        .flatten()
        .filter(|entry| entry.file_type().is_some_and(|t| t.is_dir()))
        .map(|entry| entry.into_path())
        .filter(|dir| names.iter().any(|n| dir.join(n).is_file()))
        .collect();
    found.sort();
    found
}

/// Reads each candidate's config with `fink config --raw` (at most `parallel` at once) and keeps
/// the projects with a `cloud` section.
pub fn projects(fink: &Path, root: &Path, env: &str, parallel: usize) -> Result<Vec<Project>> {
    let dirs = candidates(root, env);
    let mut read: Vec<Result<Option<Project>>> = Vec::new();
    for chunk in dirs.chunks(parallel.max(1)) {
        let results: Vec<Result<Option<Project>>> = std::thread::scope(|scope| {
            let handles: Vec<_> = chunk.iter().map(|dir| scope.spawn(move || project(fink, root, dir, env))).collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or_else(|_| Err(Error::new("reading a config panicked"))))
                .collect()
        });
        read.extend(results);
    }
    let mut projects = Vec::new();
    for result in read {
        if let Some(project) = result? {
            projects.push(project);
        }
    }
    Ok(projects)
}

fn project(fink: &Path, root: &Path, dir: &Path, env: &str) -> Result<Option<Project>> {
    let name = name(root, dir);
    let out = Command::new(fink)
        .args(["config", "--raw", "-q", "-e", env, "-C"])
        .arg(dir)
        .output()
        .map_err(|e| Error::new(format!("{name}: cannot run {}: {e}", fink.display())))?;
    if !out.status.success() {
        let stderr = String::from_utf8_lossy(&out.stderr);
        let why = stderr.lines().find(|l| l.starts_with("error:")).unwrap_or("its config cannot be read").trim();
        return Err(Error::new(format!("{name}: {}", why.trim_start_matches("error:").trim())));
    }
    let config: Value = serde_json::from_slice(&out.stdout)
        .map_err(|e| Error::new(format!("{name}: `fink config --raw` printed no JSON: {e}")))?;
    let Some(cloud) = config.get("cloud") else {
        debug!("{name}: no cloud section for this env, not a project");
        return Ok(None);
    };
    let stack = ["StackName", "stackName"]
        .iter()
        .find_map(|key| cloud.pointer(&format!("/stack/{key}")).and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    if stack.is_empty() {
        return Err(Error::new(format!("{name}: cloud.stack.StackName is missing")));
    }
    let depends_on = match cloud.get("dependsOn") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Array(items)) => items
            .iter()
            .map(|i| {
                i.as_str()
                    .map(String::from)
                    .ok_or_else(|| Error::new(format!("{name}: cloud.dependsOn lists folders (strings)")))
            })
            .collect::<Result<_>>()?,
        Some(_) => return Err(Error::new(format!("{name}: cloud.dependsOn must be a list of folders"))),
    };
    let mut needs_stacks = BTreeSet::new();
    stack_lookups(&config, &mut needs_stacks);
    needs_stacks.remove(&stack);
    Ok(Some(Project { name, dir: dir.to_path_buf(), stack, needs_stacks, depends_on }))
}

/// `dir` relative to `root`, `.` for the root.
pub fn name(root: &Path, dir: &Path) -> String {
    match dir.strip_prefix(root) {
        Ok(rel) if rel.as_os_str().is_empty() => ".".to_string(),
        Ok(rel) => rel.display().to_string(),
        Err(_) => dir.display().to_string(),
    }
}

/// The stacks every `lookup:stack:<name>[:<output>]` (with or without a `region:` prefix) reads.
pub fn stack_lookups(value: &Value, found: &mut BTreeSet<String>) {
    match value {
        Value::String(text) => {
            let Some(rest) = text.strip_prefix("lookup:") else { return };
            let mut parts = rest.split(':');
            let mut kind = parts.next();
            if kind == Some("region") {
                parts.next();
                kind = parts.next();
            }
            if kind == Some("stack") {
                if let Some(stack) = parts.next().filter(|s| !s.is_empty()) {
                    found.insert(stack.to_string());
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|i| stack_lookups(i, found)),
        Value::Object(map) => map.values().for_each(|v| stack_lookups(v, found)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn stack_lookups_are_found_anywhere_with_or_without_a_region() {
        let config = json!({"cloud": {"parameters": {
            "Vpc": "lookup:stack:network:VpcId",
            "Db": ["lookup:region:eu-west-1:stack:database:Endpoint"],
            "All": "lookup:stack:shared",
            "Param": "lookup:parameter:/x/y",
            "Plain": "stack:network"
        }}});
        let mut found = BTreeSet::new();
        stack_lookups(&config, &mut found);
        assert_eq!(found.into_iter().collect::<Vec<_>>(), ["database", "network", "shared"]);
    }

    #[test]
    fn candidates_skip_ignored_and_dependency_folders() {
        let root = tempfile::tempdir().unwrap();
        for dir in ["a", "b/c", "node_modules/x", "skipped", ".fink/y"] {
            std::fs::create_dir_all(root.path().join(dir)).unwrap();
            std::fs::write(root.path().join(dir).join("fink_dev.json"), "{}").unwrap();
        }
        std::fs::write(root.path().join("b/gcdt_prod.yaml"), "").unwrap();
        std::fs::write(root.path().join(".gitignore"), "skipped/\n").unwrap();
        let found: Vec<String> = candidates(root.path(), "dev").iter().map(|d| name(root.path(), d)).collect();
        assert_eq!(found, ["a", "b/c"]);
        assert_eq!(candidates(root.path(), "prod").iter().map(|d| name(root.path(), d)).collect::<Vec<_>>(), ["b"]);
    }
}
