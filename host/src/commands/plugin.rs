//! `fink plugin install|remove`: puts checked plugin files into the user's or the project's
//! plugins folder, or takes one out, keeping the folder's `plugins.lock` (if it has one) in step.
//! `fink plugin new` is in [`super::plugin_new`].

use std::path::{Path, PathBuf};

use crate::atomic::{self, Staged};
use crate::cli::{KeyCommand, PluginCommand, Scope};
use crate::error::Failure;
use crate::hash_cache::HashCache;
use crate::pins::{self, Lock};
use crate::plugin_path;
use crate::project_trust::{self, Grant, Store};
use crate::publishers::{self, Keys, Publisher};
use crate::registry::Registry;
use crate::session::Session;
use crate::trust;

/// Runs a `fink plugin` command.
pub fn run(registry: &Registry, session: &Session, command: &PluginCommand) -> Result<(), Failure> {
    match command {
        PluginCommand::Install { files, scope, force, allow_unsigned } => {
            let folder = folder(*scope, session)?;
            let names = install(registry, &folder, files, *force, *allow_unsigned)?;
            warn_if_shadowed(registry, session, &folder, &names);
            if *scope == Scope::Project {
                record_project_trust(session, &folder);
            }
            Ok(())
        }
        PluginCommand::Remove { name, scope } => remove(registry, &folder(*scope, session)?, name),
        PluginCommand::New { name, tool } => super::plugin_new::run(session, name, *tool),
        PluginCommand::Key(command) => key(command),
    }
}

/// `fink plugin key add|list|remove`.
fn key(command: &KeyCommand) -> Result<(), Failure> {
    let mut keys = Keys::read();
    let mut out = String::new();
    match command {
        KeyCommand::Add { key, name } => {
            // A path to a minisign.pub file, or the key itself.
            let text = match std::fs::read_to_string(key) {
                Ok(text) => text,
                Err(_) if !key.contains('/') && !key.ends_with(".pub") => key.clone(),
                Err(e) => return Err(Failure::new(format!("cannot read the key file {key}: {e}"))),
            };
            let added = keys.add(&text, name.as_deref()).map_err(Failure::usage)?;
            let path = keys.write().map_err(|e| Failure::new(format!("cannot record the key: {e}")))?;
            outln!(out, "trusting publisher {} (key {}) for `fink plugin install`", added.name, added.id);
            outln!(out, "  recorded in {}", path.display());
        }
        KeyCommand::List => {
            for key in &keys.keys {
                outln!(out, "{}  key {}  {}", key.name, key.id, key.public_key);
            }
            if keys.keys.is_empty() {
                outln!(out, "no publisher keys; `fink plugin key add <KEY> --name <NAME>` trusts one");
            }
        }
        KeyCommand::Remove { name } => {
            let Some(removed) = keys.remove(name) else {
                return Err(Failure::new(format!("no publisher key named '{name}'"))
                    .with_help("`fink plugin key list` shows the keys"));
            };
            keys.write().map_err(|e| Failure::new(format!("cannot record the change: {e}")))?;
            outln!(out, "removed publisher {} (key {})", removed.name, removed.id);
        }
    }
    super::emit(&out);
    Ok(())
}

/// A library the user installed into a trusted project's folder with fink itself is one they
/// chose: its hash joins the project's trust. In an untrusted project it is not loaded until the
/// project is trusted, which the user is told.
fn record_project_trust(session: &Session, folder: &Path) {
    match &session.trust.grant {
        Some(Grant::Recorded(entry)) => {
            let mut store = Store::read();
            let mut hashes = HashCache::new();
            let Some(recorded) = store.projects.iter_mut().find(|e| e.path == entry.path) else { return };
            for file in plugin_path::plugin_files(folder) {
                let file = project_trust::canonical(&file);
                match hashes.sha256(&file) {
                    Ok(hash) => {
                        recorded.plugins.insert(file, hash);
                    }
                    Err(error) => tracing::warn!("cannot read {}: {error}", file.display()),
                }
            }
            hashes.save();
            if let Err(error) = store.write() {
                tracing::warn!("could not record the installed plugin in your trusted projects: {error}");
            }
        }
        Some(Grant::Environment(_)) => {}
        None => tracing::warn!(
            "{} is not a trusted project, so fink does not load the plugins in {}; if you trust it, run `{}`",
            session.trust.dir.display(),
            folder.display(),
            session.trust.trust_command()
        ),
    }
}

fn folder(scope: Scope, session: &Session) -> Result<PathBuf, Failure> {
    match scope {
        Scope::Project => Ok(plugin_path::project_folder(&session.project_dir)),
        Scope::User => plugin_path::user_folder().ok_or_else(|| {
            Failure::new("there is no user plugins folder (HOME is not set)").with_help("pass --project")
        }),
    }
}

/// Warns when a plugin just installed is found earlier on the search path, in another folder:
/// fink uses that one.
fn warn_if_shadowed(registry: &Registry, session: &Session, folder: &Path, names: &[String]) {
    let position = |dir: &Path| session.search_dirs.iter().position(|d| same_path(&d.path, dir));
    let Some(installed_at) = position(folder) else { return };
    for plugin in registry.plugins.iter().filter(|p| names.contains(&p.name)) {
        let earlier = plugin.path.parent().and_then(position).is_some_and(|p| p < installed_at);
        if earlier {
            tracing::warn!(
                "plugin '{}' is also in {}, which fink searches first, so that one is used (`fink plugins` shows the search path)",
                plugin.name,
                plugin.path.display()
            );
        }
    }
}

/// A file checked and copied next to its destination, waiting to be renamed into place.
struct Ready {
    staged: Staged,
    /// The file's signature, staged next to it (`<dest>.minisig`), when it has one.
    signature: Option<Staged>,
    /// Who signed it, or why it is installed without a verified publisher (`--allow-unsigned`).
    publisher: Result<Publisher, publishers::Unverified>,
    source: PathBuf,
    name: String,
    version: String,
    dest: PathBuf,
    /// Files this one replaces (with --force), with the plugin each held if known.
    replaces: Vec<(PathBuf, Option<String>)>,
}

/// Checks every file, then puts them all in place; if one fails its check, none is installed.
/// Returns the names of the plugins installed.
fn install(
    registry: &Registry,
    folder: &Path,
    files: &[PathBuf],
    force: bool,
    allow_unsigned: bool,
) -> Result<Vec<String>, Failure> {
    let keys = Keys::read();
    atomic::create_folder(folder, 0o755)
        .map_err(|e| Failure::new(format!("cannot create the plugins folder {}: {e}", folder.display())))?;
    trust::check_folder(folder).map_err(|e| Failure::new(format!("plugins folder {}: {e}", folder.display())))?;
    let mut lock = read_lock(folder)?;
    let installed = registry.in_folder(folder);
    let mut ready: Vec<Ready> = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        match stage(file, folder, &installed, &ready, force, &keys, allow_unsigned) {
            Ok(item) => ready.push(item),
            Err(problem) => problems.push(problem),
        }
    }
    if !problems.is_empty() {
        let headline = match problems.len() {
            1 => problems.remove(0),
            n => format!("{n} files not installed:\n  {}", problems.join("\n  ")),
        };
        let failure = Failure::new(headline);
        return Err(if files.len() > 1 { failure.with_help("nothing was installed") } else { failure });
    }
    let mut out = String::new();
    let names: Vec<String> = ready.iter().map(|r| r.name.clone()).collect();
    for item in ready {
        if let Some(lock) = lock.as_mut() {
            let hash = pins::sha256_file(item.staged.path())
                .map_err(|e| Failure::new(format!("cannot read {}: {e}", item.staged.path().display())))?;
            for name in item.replaces.iter().filter_map(|(_, name)| name.as_deref()) {
                lock.remove(name);
            }
            let publisher = item.publisher.as_ref().ok().map(ToString::to_string);
            lock.set(&item.name, &hash, publisher.as_deref());
        }
        let signature_dest = publishers::signature_path(&item.dest);
        match item.signature {
            Some(signature) => signature
                .commit()
                .map_err(|e| Failure::new(format!("cannot install {}: {e}", signature_dest.display())))?,
            // An old signature would not match the new file.
            None => match atomic::remove(&signature_dest) {
                Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
                    return Err(Failure::new(format!("cannot remove {}: {e}", signature_dest.display())))
                }
                _ => {}
            },
        }
        item.staged.commit().map_err(|e| Failure::new(format!("cannot install {}: {e}", item.dest.display())))?;
        for (old, _) in item.replaces.iter().filter(|(old, _)| *old != item.dest) {
            atomic::remove(old).map_err(|e| Failure::new(format!("cannot remove {}: {e}", old.display())))?;
            let _ = atomic::remove(&publishers::signature_path(old));
        }
        outln!(
            out,
            "installed {} {} as {} (from {})",
            item.name,
            item.version,
            item.dest.display(),
            item.source.display()
        );
        match &item.publisher {
            Ok(publisher) => outln!(out, "  signed by {publisher}"),
            Err(why) => outln!(out, "  unsigned: {why}; installed because of --allow-unsigned"),
        }
        for (old, name) in &item.replaces {
            let held = name.as_ref().map(|n| format!(" (plugin {n})")).unwrap_or_default();
            outln!(out, "  replaced {}{held}", old.display());
        }
    }
    if let Some(lock) = lock {
        write_lock(&lock)?;
        outln!(out, "pinned in {}", lock.path.display());
    }
    super::emit(&out);
    Ok(names)
}

/// Copies `file` next to its destination in `folder` and checks the copy as fink loads plugins
/// (so what is checked is what goes into place). The problem is one line naming the file.
fn stage(
    file: &Path,
    folder: &Path,
    installed: &[(String, PathBuf)],
    ready: &[Ready],
    force: bool,
    keys: &Keys,
    allow_unsigned: bool,
) -> Result<Ready, String> {
    let shown = file.display();
    if !file.is_file() {
        return Err(format!("cannot install {shown}: no such file"));
    }
    let ext = std::env::consts::DLL_EXTENSION;
    let Some(file_name) = file.file_name().filter(|_| file.extension().is_some_and(|e| e == ext)) else {
        return Err(format!(
            "cannot install {shown}: not a .{ext} file (fink loads only *.{ext} from plugins folders)"
        ));
    };
    let dest = folder.join(file_name);
    let staged =
        Staged::copy(file, &dest, 0o644).map_err(|e| format!("cannot copy {shown} to {}: {e}", folder.display()))?;
    // The signature is checked on the staged copy: what is verified is what goes into place.
    let publisher = keys.verify(staged.path(), file);
    if let (Err(why), false) = (&publisher, allow_unsigned) {
        return Err(format!("cannot install {shown}: {why}; `--allow-unsigned` installs it anyway"));
    }
    let signature = match publisher {
        Ok(_) => Some(
            Staged::copy(&publishers::signature_path(file), &publishers::signature_path(&dest), 0o644)
                .map_err(|e| format!("cannot copy the signature of {shown}: {e}"))?,
        ),
        Err(_) => None,
    };
    let plugin = Registry::inspect(staged.path()).map_err(|e| format!("cannot install {shown}: {e}"))?;
    let name = plugin.name.clone();
    if let Some(earlier) = ready.iter().find(|r| r.name == name || r.dest == dest) {
        return Err(format!(
            "cannot install {shown}: {} already installs plugin '{}' as {}",
            earlier.source.display(),
            earlier.name,
            earlier.dest.display()
        ));
    }
    let mut replaces = Vec::new();
    if let Some((_, old)) = installed.iter().find(|(n, _)| *n == name) {
        if !force {
            return Err(format!(
                "plugin '{name}' is already installed in {} as {}; pass --force to replace it",
                folder.display(),
                old.display()
            ));
        }
        replaces.push((old.clone(), Some(name.clone())));
    }
    let same_file = |p: &PathBuf| same_path(p, &dest);
    if dest.exists() && !replaces.iter().any(|(p, _)| same_file(p)) {
        let held = installed.iter().find(|(_, p)| same_file(p)).map(|(n, _)| n.clone());
        if !force {
            let what = match &held {
                Some(other) => format!("plugin '{other}'"),
                None => "a file fink did not load".to_string(),
            };
            return Err(format!("{} already exists ({what}); pass --force to replace it", dest.display()));
        }
        replaces.push((dest.clone(), held));
    }
    Ok(Ready {
        staged,
        signature,
        publisher,
        source: file.to_path_buf(),
        name,
        version: plugin.version,
        dest,
        replaces,
    })
}

/// Removes the plugin `name` (or the plugin file of that name) from `folder`.
fn remove(registry: &Registry, folder: &Path, name: &str) -> Result<(), Failure> {
    let installed = registry.in_folder(folder);
    let by_name = installed.iter().find(|(n, _)| n == name).map(|(_, p)| p.clone());
    // A file fink could not load has no plugin name: it goes by its file name.
    let by_file = || {
        let path = folder.join(name);
        let library = path.extension().is_some_and(|e| e == std::env::consts::DLL_EXTENSION);
        (library && !name.contains('/') && path.is_file()).then_some(path)
    };
    let Some(path) = by_name.or_else(by_file) else {
        let there: Vec<&str> = installed.iter().map(|(n, _)| n.as_str()).collect();
        let help = if there.is_empty() {
            "it has no plugins fink loads; `fink plugins` shows where each plugin is".to_string()
        } else {
            format!("installed there: {}; `fink plugins` shows where each plugin is", there.join(", "))
        };
        return Err(Failure::new(format!("no plugin '{name}' in {}", folder.display())).with_help(help));
    };
    let mut lock = read_lock(folder)?;
    atomic::remove(&path).map_err(|e| Failure::new(format!("cannot remove {}: {e}", path.display())))?;
    let _ = atomic::remove(&publishers::signature_path(&path));
    let mut out = String::new();
    outln!(out, "removed {name}: {}", path.display());
    if let Some(lock) = lock.as_mut().filter(|l| l.pinned(name).is_some()) {
        lock.remove(name);
        write_lock(lock)?;
        outln!(out, "unpinned in {}", lock.path.display());
    }
    super::emit(&out);
    Ok(())
}

fn read_lock(folder: &Path) -> Result<Option<Lock>, Failure> {
    Lock::read(folder).map_err(|e| Failure::new(format!("{}: {e}", folder.join(pins::LOCK_FILE).display())))
}

fn write_lock(lock: &Lock) -> Result<(), Failure> {
    lock.write().map_err(|e| Failure::new(format!("cannot write {}: {e}", lock.path.display())))
}

fn same_path(a: &Path, b: &Path) -> bool {
    a == b || matches!((a.canonicalize(), b.canonicalize()), (Ok(x), Ok(y)) if x == y)
}
