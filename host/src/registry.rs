//! The plugins found on the search path, the files that were rejected or shadowed, and what each
//! plugin declared (checked against [`crate::declare`]).
//!
//! Finding plugins opens each file once ([`CheckedFile`]) and takes what it declared from the
//! metadata cache when the file is unchanged, so commands that only show what is installed
//! initialise no plugin library. Commands that run the lifecycle call [`Registry::activate`],
//! which loads the enabled plugins from the files opened and checked before.
//!
//! A project's own folder (`.fink/plugins`) is used only when the user trusts the project
//! ([`crate::project_trust`]); its files must be the ones trusted, and a project plugin may not
//! take the name of a user or bundled plugin unless the user's settings allow it.

use std::path::{Path, PathBuf};

use fink_plugin_api::abi::{CommandRunnerBox, HandlerBox, Signal};
use fink_plugin_api::ToolSpec;
use serde_json::Value;

use crate::checked_file::CheckedFile;
use crate::declare;
use crate::error::LoadError;
use crate::hash_cache::HashCache;
use crate::loader;
use crate::loader::Scope;
use crate::pins::Lock;
use crate::plugin_cache::{Described, PluginCache, Subscribed};
use crate::plugin_path::{plugin_files, SearchDir};
use crate::project_trust::{Change, ProjectTrust};
use crate::settings::UserSettings;
use crate::trust;

/// A handler subscribed to a signal; `None` until the plugin is activated.
pub struct Subscription {
    pub signal: Signal,
    pub order: i32,
    /// The runs it fires in.
    pub scope: Scope,
    pub handler: Option<HandlerBox>,
}

/// A tool a plugin contributes; its runner is `None` until the plugin is activated.
pub struct Tool {
    pub spec: ToolSpec,
    pub runner: Option<CommandRunnerBox>,
}

/// A config schema a plugin declares for a section such as `lambda` or `plugins.slack`.
pub struct Schema {
    pub section: String,
    pub schema: Value,
}

/// A plugin found on the search path: what it declared, and once activated, its handlers.
pub struct Plugin {
    pub name: String,
    pub version: String,
    pub description: String,
    pub api_version: String,
    pub path: PathBuf,
    /// Why its folder is on the search path (`project`, `user`, `bundled`, ...).
    pub origin: &'static str,
    /// False once the project config says `plugins.<name>.enabled: false`.
    pub enabled: bool,
    pub subscriptions: Vec<Subscription>,
    pub tools: Vec<Tool>,
    pub schemas: Vec<Schema>,
    /// The open file, until the plugin is activated from it.
    file: Option<CheckedFile>,
    /// Whether its library is loaded and registered (handlers and runners present).
    pub live: bool,
}

impl Plugin {
    /// Whether the plugin takes part in a run of `tool`: it provides the tool, or one of its
    /// subscriptions can fire in that run.
    pub fn takes_part(&self, tool: Option<&str>) -> bool {
        let provides = tool.is_some_and(|t| self.tools.iter().any(|own| own.spec.name == t));
        provides || self.subscriptions.iter().any(|s| s.scope.covers(tool))
    }

    /// What the plugin declared, for the metadata cache.
    pub fn described(&self) -> Described {
        Described {
            name: self.name.clone(),
            version: self.version.clone(),
            description: self.description.clone(),
            api_version: self.api_version.clone(),
            tools: self.tools.iter().map(|t| t.spec.clone()).collect(),
            signals: self
                .subscriptions
                .iter()
                .filter_map(|s| {
                    let signal = s.signal.name()?.to_string();
                    Some(Subscribed { signal, order: s.order, scope: s.scope.clone() })
                })
                .collect(),
            schemas: self.schemas.iter().map(|s| (s.section.clone(), s.schema.clone())).collect(),
        }
    }
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
    /// Library files of an untrusted project's `.fink/plugins`, not opened.
    pub untrusted: Vec<PathBuf>,
}

/// A file that passed its checks, with what it declared, before names are compared.
struct Candidate {
    origin: &'static str,
    plugin: Plugin,
}

/// What loading needs besides the folders.
pub struct Loading<'a> {
    pub project: &'a ProjectTrust,
    pub hashes: &'a mut HashCache,
    pub cache: &'a mut PluginCache,
    pub settings: &'a UserSettings,
}

impl Registry {
    /// Finds every plugin in `dirs` for the project `project`, with the user's caches.
    pub fn load(dirs: &[SearchDir], project: &ProjectTrust) -> Registry {
        let settings = UserSettings::read();
        let mut loading =
            Loading { project, hashes: &mut HashCache::new(), cache: &mut PluginCache::new(), settings: &settings };
        Registry::load_with(dirs, &mut loading)
    }

    /// Finds every plugin file in `dirs`, first name wins (but see the project rule above). A
    /// folder someone else could change, or whose `plugins.lock` is unreadable, loads none of its
    /// files.
    pub fn load_with(dirs: &[SearchDir], loading: &mut Loading<'_>) -> Registry {
        let mut registry = Registry::default();
        let mut candidates = Vec::new();
        for dir in dirs {
            let files = plugin_files(&dir.path);
            if files.is_empty() {
                continue;
            }
            if dir.origin == "project" && !loading.project.trusted() {
                registry.untrusted.extend(files);
                continue;
            }
            let folder_ok = trust::check_folder(&dir.path).and_then(|()| trust::check_ancestors(&dir.path));
            if let Err(error) = folder_ok {
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
                tracing::debug!("found plugin file {}", path.display());
                match registry.candidate(&path, dir.origin, lock.as_ref(), loading) {
                    Ok(plugin) => candidates.push(Candidate { origin: dir.origin, plugin }),
                    Err(error) => registry.reject(&path, error),
                }
            }
        }
        loading.hashes.save();
        loading.cache.save();
        registry.choose(candidates, loading.settings);
        registry
    }

    /// Opens, checks and registers one file as the loader does for every file, without trust
    /// checks or pins, and without comparing it with other plugins (`fink plugin install`).
    pub fn inspect(path: &Path) -> Result<Plugin, LoadError> {
        let file = CheckedFile::open_to_inspect(path)?;
        let (module, info) = loader::open(file)?;
        let loaded = loader::register(module, info, path.to_path_buf())?;
        Registry::default().to_plugin(loaded, "inspected")
    }

    /// One file: opened once, checked (owner and mode, headers, the lock's pin, the project's
    /// trust), then described from the cache or by loading it.
    fn candidate(
        &self,
        path: &Path,
        origin: &'static str,
        lock: Option<&Lock>,
        loading: &mut Loading<'_>,
    ) -> Result<Plugin, LoadError> {
        let file = CheckedFile::open(path)?;
        let project = origin == "project";
        // Pins and project trust are checked before the library is loaded: its code never runs.
        let sha256 = if lock.is_some() || project { Some(file.sha256(loading.hashes)?) } else { None };
        let pinned = match (lock, &sha256) {
            (Some(lock), Some(hash)) => Some(lock.check(path, hash)?),
            _ => None,
        };
        if let (true, Some(hash)) = (project, &sha256) {
            if let Some(change) = loading.project.library_change(path, hash) {
                let since = match change {
                    Change::Added => "was added",
                    Change::Changed => "changed",
                };
                return Err(LoadError::ChangedSinceTrust {
                    what: since.to_string(),
                    project: loading.project.dir.clone(),
                    fix: loading.project.trust_command(),
                });
            }
        }
        let identity = file.identity();
        let cached = identity.as_deref().and_then(|id| loading.cache.get(id, sha256.as_deref()));
        let plugin = match cached {
            Some(described) => Registry::cached_plugin(described, path, origin, file),
            None => {
                let (module, info) = loader::open(file)?;
                let loaded = loader::register(module, info, path.to_path_buf())?;
                let plugin = self.to_plugin(loaded, origin)?;
                if let Some(identity) = identity {
                    loading.cache.put(identity, sha256, plugin.described());
                }
                plugin
            }
        };
        if let (Some(pinned), Some(lock)) = (pinned, lock) {
            if pinned != plugin.name {
                return Err(LoadError::PinnedForAnother { name: plugin.name, lock: lock.path.clone(), pinned });
            }
        }
        Ok(plugin)
    }

    /// Keeps the first plugin of each name, in search order; a project plugin that takes the
    /// name of a user or bundled plugin is refused unless the user's settings allow it.
    fn choose(&mut self, candidates: Vec<Candidate>, settings: &UserSettings) {
        let guarded: Vec<(String, PathBuf)> = candidates
            .iter()
            .filter(|c| matches!(c.origin, "user" | "bundled"))
            .map(|c| (c.plugin.name.clone(), c.plugin.path.clone()))
            .collect();
        for candidate in candidates {
            let plugin = candidate.plugin;
            if candidate.origin == "project" && !settings.allows_project_override(&plugin.name) {
                if let Some((_, other)) = guarded.iter().find(|(name, _)| *name == plugin.name) {
                    let error = LoadError::ProjectShadows { name: plugin.name.clone(), other: other.clone() };
                    self.reject(&plugin.path, error);
                    continue;
                }
            }
            if let Some(winner) = self.plugins.iter().find(|p| p.name == plugin.name) {
                tracing::debug!("{} shadowed by {}", plugin.path.display(), winner.path.display());
                let winner = winner.path.clone();
                self.shadowed.push(Shadowed { path: plugin.path, name: plugin.name, winner });
                continue;
            }
            if let Some(tool) = plugin.tools.iter().find(|t| self.tool_owner(&t.spec.name).is_some()) {
                let owner = self.tool_owner(&tool.spec.name).unwrap_or_default().to_string();
                let error = LoadError::BadInfo(format!(
                    "plugin '{}' declares tool '{}', which plugin '{owner}' already provides",
                    plugin.name, tool.spec.name
                ));
                self.reject(&plugin.path, error);
                continue;
            }
            self.plugins.push(plugin);
        }
        for shadowed in &self.shadowed {
            tracing::warn!(
                "plugin '{}' found twice: using {}, ignoring {}",
                shadowed.name,
                shadowed.winner.display(),
                shadowed.path.display()
            );
        }
    }

    /// Loads and registers the enabled plugins that take part in a run of `tool` (`None`: a
    /// built-in command such as `fink config`), from the files opened and checked when they were
    /// found: the plugin that provides the tool, and those with a subscription that can fire in
    /// such a run. A plugin that fails now is rejected.
    pub fn activate(&mut self, tool: Option<&str>) {
        let mut failed = Vec::new();
        for (index, plugin) in self.plugins.iter_mut().enumerate() {
            if plugin.live || !plugin.enabled || !plugin.takes_part(tool) {
                continue;
            }
            let Some(file) = plugin.file.take() else { continue };
            tracing::debug!("loading plugin '{}' from {}", plugin.name, plugin.path.display());
            let loaded =
                loader::open(file).and_then(|(module, info)| loader::register(module, info, plugin.path.clone()));
            match loaded.and_then(|l| Registry::default().to_plugin(l, plugin.origin)) {
                Ok(fresh) if fresh.name == plugin.name => {
                    let enabled = plugin.enabled;
                    *plugin = Plugin { enabled, ..fresh };
                }
                Ok(fresh) => failed.push((
                    index,
                    LoadError::BadInfo(format!("the file now holds plugin '{}', not '{}'", fresh.name, plugin.name)),
                )),
                Err(error) => failed.push((index, error)),
            }
        }
        for (index, error) in failed.into_iter().rev() {
            let plugin = self.plugins.remove(index);
            self.reject(&plugin.path, error);
        }
    }

    fn reject(&mut self, path: &Path, error: LoadError) {
        self.rejected.push(Rejected { path: path.to_path_buf(), error, folder: false });
    }

    /// A plugin from the cached description of the file `file`, not loaded yet.
    fn cached_plugin(described: Described, path: &Path, origin: &'static str, file: CheckedFile) -> Plugin {
        let subscriptions = described
            .signals
            .into_iter()
            .filter_map(|s| {
                let signal = Signal::from_name(&s.signal)?;
                Some(Subscription { signal, order: s.order, scope: s.scope, handler: None })
            })
            .collect();
        let tools = described.tools.into_iter().map(|spec| Tool { spec, runner: None }).collect();
        let schemas = described.schemas.into_iter().map(|(section, schema)| Schema { section, schema }).collect();
        Plugin {
            name: described.name,
            version: described.version,
            description: described.description,
            api_version: described.api_version,
            path: path.to_path_buf(),
            origin,
            enabled: true,
            subscriptions,
            tools,
            schemas,
            file: Some(file),
            live: false,
        }
    }

    fn to_plugin(&self, loaded: loader::Loaded, origin: &'static str) -> Result<Plugin, LoadError> {
        let name = loaded.info.name.to_string();
        let mut tools = Vec::new();
        for (json, runner) in loaded.collected.tools {
            let spec: ToolSpec = serde_json::from_str(&json)
                .map_err(|e| LoadError::BadInfo(format!("plugin '{name}' declared an unreadable tool: {e}")))?;
            declare::check_tool(&name, &spec).map_err(LoadError::BadInfo)?;
            tools.push(Tool { spec, runner: Some(runner) });
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
            .filter(|(signal, _, _, _)| {
                let known = signal.name().is_some();
                if !known {
                    tracing::debug!("plugin '{name}' subscribed to unknown {signal}; ignored");
                }
                known
            })
            .map(|(signal, order, handler, scope)| Subscription { signal, order, scope, handler: Some(handler) })
            .collect();
        Ok(Plugin {
            version: loaded.info.version.to_string(),
            description: loaded.info.description.to_string(),
            api_version: loaded.info.api_version.to_string(),
            path: loaded.path,
            origin,
            enabled: true,
            subscriptions,
            tools,
            schemas,
            name,
            file: None,
            live: true,
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

    /// The enabled subscriptions to `signal` that fire in a run of `tool`, as (plugin,
    /// subscription) indices: lower order first, ties by plugin name.
    pub fn subscribers(&self, signal: Signal, tool: Option<&str>) -> Vec<(usize, usize)> {
        let mut found: Vec<(i32, &str, usize, usize)> = Vec::new();
        for (pi, plugin) in self.plugins.iter().enumerate().filter(|(_, p)| p.enabled) {
            for (si, sub) in plugin.subscriptions.iter().enumerate() {
                if sub.signal == signal && sub.scope.covers(tool) {
                    found.push((sub.order, plugin.name.as_str(), pi, si));
                }
            }
        }
        found.sort_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));
        found.into_iter().map(|(_, _, pi, si)| (pi, si)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn plugin(name: &str, tool: Option<&str>, subscriptions: &[(Signal, Scope)]) -> Plugin {
        Plugin {
            name: name.into(),
            version: "1.0.0".into(),
            description: String::new(),
            api_version: "1.3.0".into(),
            path: PathBuf::from(format!("/p/lib{name}.so")),
            origin: "bundled",
            enabled: true,
            subscriptions: subscriptions
                .iter()
                .map(|(signal, scope)| Subscription {
                    signal: *signal,
                    order: 100,
                    scope: scope.clone(),
                    handler: None,
                })
                .collect(),
            tools: tool.map(|t| Tool { spec: ToolSpec::new(t, "a tool"), runner: None }).into_iter().collect(),
            schemas: vec![],
            file: None,
            live: false,
        }
    }

    #[test]
    fn a_run_takes_the_plugins_whose_subscriptions_can_fire_in_it_and_the_tools_own() {
        let registry = Registry {
            plugins: vec![
                plugin(
                    "cloud",
                    Some("cloud"),
                    &[(Signal::CONFIG_VALIDATION_FINALIZED, Scope::Tools(vec!["cloud".into()]))],
                ),
                plugin("lambda", Some("lambda"), &[]),
                plugin("bundler", None, &[(Signal::BUNDLE_PRE, Scope::ToolCommands)]),
                plugin("reader", None, &[(Signal::CONFIG_READ_INIT, Scope::Any)]),
            ],
            ..Registry::default()
        };
        let taking_part = |tool: Option<&str>| -> Vec<&str> {
            registry.plugins.iter().filter(|p| p.takes_part(tool)).map(|p| p.name.as_str()).collect()
        };
        assert_eq!(taking_part(Some("lambda")), ["lambda", "bundler", "reader"]);
        assert_eq!(taking_part(Some("cloud")), ["cloud", "bundler", "reader"]);
        assert_eq!(taking_part(None), ["reader"]);
        assert_eq!(registry.subscribers(Signal::CONFIG_VALIDATION_FINALIZED, Some("lambda")), vec![]);
        assert_eq!(registry.subscribers(Signal::CONFIG_VALIDATION_FINALIZED, Some("cloud")), vec![(0, 0)]);
        assert_eq!(registry.subscribers(Signal::BUNDLE_PRE, None), vec![]);
    }
}
