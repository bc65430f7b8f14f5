//! The user's own fink settings, `<config dir>/fink/settings.json` (`~/.config/fink/settings.json`
//! on Linux): choices only the user may make, never a project. A file someone else could change
//! is not used.

use std::path::PathBuf;

use serde::Deserialize;

use crate::trust;

/// The settings fink reads from the user's file.
#[derive(Debug, Default, Clone, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct UserSettings {
    /// Plugin names a trusted project's `.fink/plugins` may provide in place of the user's or the
    /// bundled plugin of that name.
    pub project_plugin_overrides: Vec<String>,
}

impl UserSettings {
    /// The settings file's path.
    pub fn path() -> Option<PathBuf> {
        dirs::config_dir().map(|d| d.join("fink").join("settings.json"))
    }

    /// The path for messages.
    pub fn shown_path() -> String {
        UserSettings::path().map(|p| p.display().to_string()).unwrap_or_else(|| "~/.config/fink/settings.json".into())
    }

    /// Reads the settings; a missing file is the defaults, a broken one is the defaults with a warning.
    pub fn read() -> UserSettings {
        let Some(path) = UserSettings::path() else { return UserSettings::default() };
        let Ok(text) = std::fs::read_to_string(&path) else { return UserSettings::default() };
        if let Err(error) = trust::check_file(&path) {
            tracing::warn!("not using your settings {}: {error}", path.display());
            return UserSettings::default();
        }
        serde_json::from_str(&text).unwrap_or_else(|e| {
            tracing::warn!("{}: {e}; using the defaults", path.display());
            UserSettings::default()
        })
    }

    /// Whether a project plugin named `name` may replace the user's or the bundled one.
    pub fn allows_project_override(&self, name: &str) -> bool {
        self.project_plugin_overrides.iter().any(|n| n == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_are_listed_by_name() {
        let settings: UserSettings = serde_json::from_str(r#"{"projectPluginOverrides": ["lookups"]}"#).unwrap();
        assert!(settings.allows_project_override("lookups"));
        assert!(!settings.allows_project_override("credentials"));
        assert!(!UserSettings::default().allows_project_override("lookups"));
    }
}
