//! The loaded plugins, the files that were rejected or shadowed, and what each plugin declared
//! (checked against [`crate::declare`]).

use std::path::{Path, PathBuf};

use fink_plugin_api::abi::{CommandRunnerBox, HandlerBox, Signal};
use fink_plugin_api::ToolSpec;
use serde_json::Value;

use crate::declare;
use crate::error::LoadError;
use crate::hash_cache::HashCache;
use crate::loader;
use crate::pins::Lock;
use crate::plugin_path::{plugin_files, SearchDir};
use crate::trust;

/// The plugin `lock` pins the file at `path` as.
fn pinned_as(lock: &Lock, path: &Path, hashes: &mut HashCache) -> Result<String, LoadError> {
    let actual = hashes.sha256(path).map_err(|e| LoadError::Damaged { reason: format!("cannot be read: {e}") })?;
    lock.check(path, &actual)
}

/// A handler subscribed to a signal.
pub struct Subscription {
    pub signal: Signal,
    pub order: i32,
    pub handler: HandlerBox,
}

/// A tool a plugin contributes.
pub struct Tool {
    pub spec: ToolSpec,
    pub runner: CommandRunnerBox,
}

/// A config schema a plugin declares for a section such as `lambda` or `plugins.slack`.
pub struct Schema {
    pub section: String,
    pub schema: Value,
}

/// A plugin that loaded and registered.
pub struct Plugin {
    pub name: String,
    pub version: String,
    pub description: String,
    pub api_version: String,
    pub path: PathBuf,
    /// False once the project config says `plugins.<name>.enabled: false`.
    pub enabled: bool,
    pub subscriptions: Vec<Subscription>,
    pub tools: Vec<Tool>,
    pub schemas: Vec<Schema>,
}

/// A plugin file that was not loaded, or a plugins folder none of whose files were.
pub struct Rejected {
    pub path: PathBuf,
    pub error: LoadError,
    /// The whole folder was refused (untrusted, or its `plugins.lock` is).
    pub folder: bool,
}

impl Rejected {
    /// `plugin <file>` or `plugins folder <folder>`, for messages.
    pub fn subject(&self) -> String {
        let what = if self.folder { "plugins folder" } else { "plugin" };
        format!("{what} {}", self.path.display())
    }
}

/// A plugin file skipped because an earlier file has the same plugin name.
pub struct Shadowed {
    pub path: PathBuf,
    pub name: String,
    pub winner: PathBuf,
}

/// Everything found on the plugin search path.
#[derive(Default)]
pub struct Registry {
    pub plugins: Vec<Plugin>,
    pub rejected: Vec<Rejected>,
    pub shadowed: Vec<Shadowed>,
}

impl Registry {
    /// Loads every plugin file in `dirs`, first name wins. A folder someone else could change,
    /// or whose `plugins.lock` is unreadable, loads none of its files.
    pub fn load(dirs: &[SearchDir]) -> Registry {
        Registry::load_with(dirs, &mut HashCache::new())
    }

    /// [`Registry::load`] with the hashes of pinned files from `hashes`.
    pub fn load_with(dirs: &[SearchDir], hashes: &mut HashCache) -> Registry {
        let mut registry = Registry::default();
        for dir in dirs {
            let files = plugin_files(&dir.path);
            if files.is_empty() {
                continue;
            }
            if let Err(error) = trust::check_folder(&dir.path) {
                registry.rejected.push(Rejected { path: dir.path.clone(), error, folder: true });
                continue;
            }
            let lock = match Lock::read(&dir.path) {
                Ok(lock) => lock,
                Err(error) => {
                    registry.rejected.push(Rejected { path: dir.path.clone(), error, folder: true });
                    continue;
                }
            };
            for path in files {
                registry.load_file(&path, lock.as_ref(), hashes);
            }
        }
        hashes.save();
        for shadowed in &registry.shadowed {
            tracing::debug!("{} shadowed by {}", shadowed.path.display(), shadowed.winner.display());
        }
        registry
    }

    /// Opens, checks and registers one file as the loader does for every file, without trust
    /// checks or pins, and without comparing it with other plugins (`fink plugin install`).
    pub fn inspect(path: &Path) -> Result<Plugin, LoadError> {
        let (module, info) = loader::open(path)?;
        loader::register(module, info, path.to_path_buf()).and_then(|l| Registry::default().to_plugin(l))
    }

    fn load_file(&mut self, path: &Path, lock: Option<&Lock>, hashes: &mut HashCache) {
        tracing::debug!("loading plugin file {}", path.display());
        if let Err(error) = trust::check_file(path) {
            return self.reject(path, error);
        }
        // Pins are checked before the file is opened: an unpinned library's code never runs.
        let pinned = match lock.map(|lock| pinned_as(lock, path, hashes)).transpose() {
            Ok(pinned) => pinned,
            Err(error) => return self.reject(path, error),
        };
        let (module, info) = match loader::open(path) {
            Ok(found) => found,
            Err(error) => return self.reject(path, error),
        };
        if let (Some(pinned), Some(lock)) = (pinned, lock) {
            if pinned != info.name.as_str() {
                let error =
                    LoadError::PinnedForAnother { name: info.name.to_string(), lock: lock.path.clone(), pinned };
                return self.reject(path, error);
            }
        }
        if let Some(winner) = self.plugins.iter().find(|p| p.name == info.name.as_str()) {
            tracing::warn!(
                "plugin '{}' found twice: using {}, ignoring {}",
                info.name,
                winner.path.display(),
                path.display()
            );
            let winner = winner.path.clone();
            self.shadowed.push(Shadowed { path: path.to_path_buf(), name: info.name.to_string(), winner });
            return;
        }
        match loader::register(module, info, path.to_path_buf()).and_then(|l| self.to_plugin(l)) {
            Ok(plugin) => self.plugins.push(plugin),
            Err(error) => self.reject(path, error),
        }
    }

    fn reject(&mut self, path: &Path, error: LoadError) {
        self.rejected.push(Rejected { path: path.to_path_buf(), error, folder: false });
    }

    fn to_plugin(&self, loaded: loader::Loaded) -> Result<Plugin, LoadError> {
        let name = loaded.info.name.to_string();
        let mut tools = Vec::new();
        for (json, runner) in loaded.collected.tools {
            let spec: ToolSpec = serde_json::from_str(&json)
                .map_err(|e| LoadError::BadInfo(format!("plugin '{name}' declared an unreadable tool: {e}")))?;
            declare::check_tool(&name, &spec).map_err(LoadError::BadInfo)?;
            if let Some(owner) = self.tool_owner(&spec.name) {
                return Err(LoadError::BadInfo(format!(
                    "plugin '{name}' declares tool '{}', which plugin '{owner}' already provides",
                    spec.name
                )));
            }
            tools.push(Tool { spec, runner });
        }
        let mut schemas = Vec::new();
        for (section, json) in loaded.collected.schemas {
            let schema: Value = serde_json::from_str(&json).map_err(|e| {
                LoadError::BadInfo(format!("plugin '{name}' declared an unreadable schema for '{section}': {e}"))
            })?;
            schemas.push(Schema { section, schema });
        }
        let subscriptions = loaded
            .collected
            .subscriptions
            .into_iter()
            .filter(|(signal, _, _)| {
                let known = signal.name().is_some();
                if !known {
                    tracing::debug!("plugin '{name}' subscribed to unknown {signal}; ignored");
                }
                known
            })
            .map(|(signal, order, handler)| Subscription { signal, order, handler })
            .collect();
        Ok(Plugin {
            version: loaded.info.version.to_string(),
            description: loaded.info.description.to_string(),
            api_version: loaded.info.api_version.to_string(),
            path: loaded.path,
            enabled: true,
            subscriptions,
            tools,
            schemas,
            name,
        })
    }

    /// The plugins (loaded or shadowed) whose file is in `dir`, as (name, file).
    pub fn in_folder(&self, dir: &Path) -> Vec<(String, PathBuf)> {
        let dir = dir.canonicalize().unwrap_or_else(|_| dir.to_path_buf());
        let inside = |path: &Path| {
            let parent = path.parent().map(|p| p.canonicalize().unwrap_or_else(|_| p.to_path_buf()));
            parent.as_deref() == Some(dir.as_path())
        };
        let loaded = self.plugins.iter().map(|p| (&p.name, &p.path));
        let shadowed = self.shadowed.iter().map(|s| (&s.name, &s.path));
        loaded.chain(shadowed).filter(|(_, path)| inside(path)).map(|(n, p)| (n.clone(), p.clone())).collect()
    }

    /// The plugin that provides `tool`.
    pub fn tool_owner(&self, tool: &str) -> Option<&str> {
        self.plugins.iter().find(|p| p.tools.iter().any(|t| t.spec.name == tool)).map(|p| p.name.as_str())
    }

    /// (plugin index, tool index) of `tool`.
    pub fn find_tool(&self, tool: &str) -> Option<(usize, usize)> {
        self.plugins
            .iter()
            .enumerate()
            .find_map(|(pi, p)| p.tools.iter().position(|t| t.spec.name == tool).map(|ti| (pi, ti)))
    }

    /// The enabled subscriptions to `signal` as (plugin, subscription) indices: lower order first,
    /// ties by plugin name.
    pub fn subscribers(&self, signal: Signal) -> Vec<(usize, usize)> {
        let mut found: Vec<(i32, &str, usize, usize)> = Vec::new();
        for (pi, plugin) in self.plugins.iter().enumerate().filter(|(_, p)| p.enabled) {
            for (si, sub) in plugin.subscriptions.iter().enumerate() {
                if sub.signal == signal {
                    found.push((sub.order, plugin.name.as_str(), pi, si));
                }
            }
        }
        found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        found.into_iter().map(|(_, _, pi, si)| (pi, si)).collect()
    }
}
