//! The description of a tool a plugin contributes: its commands and their arguments.
//!
//! Sent to the host as JSON, so later 1.x versions can add fields (unknown fields are ignored and
//! missing ones take their defaults); the host builds `fink <tool> <command> --help` from it.

use serde::{Deserialize, Serialize};

/// A tool such as `cloud` or `lambda`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ToolSpec {
    /// The word after `fink`.
    pub name: String,
    /// One line for `fink --help`.
    pub about: String,
    /// The tool's commands.
    pub commands: Vec<CommandSpec>,
    /// Older names that still run the tool, with a deprecation warning: gcdt's `kumo` for
    /// `cloud` (since 1.1; a 1.0 host ignores them). Left out of the JSON when empty.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub aliases: Vec<String>,
}

impl ToolSpec {
    /// A tool with no commands yet.
    pub fn new(name: impl Into<String>, about: impl Into<String>) -> Self {
        ToolSpec { name: name.into(), about: about.into(), commands: Vec::new(), aliases: Vec::new() }
    }

    /// Adds an older name for the tool (since 1.1).
    pub fn alias(mut self, name: impl Into<String>) -> Self {
        self.aliases.push(name.into());
        self
    }

    /// Adds a command.
    pub fn command(mut self, command: CommandSpec) -> Self {
        self.commands.push(command);
        self
    }

    /// The commands' names, in the order `--help` lists them (since 1.1).
    pub fn command_names(&self) -> Vec<&str> {
        self.commands.iter().map(|c| c.name.as_str()).collect()
    }
}

/// One command of a tool, e.g. `cloud deploy`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct CommandSpec {
    /// The command word.
    pub name: String,
    /// One line of help.
    pub about: String,
    /// Longer help shown by `--help`.
    pub long_about: Option<String>,
    /// Arguments in the order they are shown.
    pub args: Vec<ArgSpec>,
    /// Whether the command needs the tool's config section (`fink_<env>.*` must have `<tool>`).
    pub needs_config: bool,
    /// Whether the command talks to AWS (credential checks are skipped when not).
    pub needs_aws: bool,
}

impl Default for CommandSpec {
    fn default() -> Self {
        CommandSpec {
            name: String::new(),
            about: String::new(),
            long_about: None,
            args: Vec::new(),
            needs_config: true,
            needs_aws: true,
        }
    }
}

impl CommandSpec {
    /// A command with no arguments.
    pub fn new(name: impl Into<String>, about: impl Into<String>) -> Self {
        CommandSpec { name: name.into(), about: about.into(), ..Default::default() }
    }

    /// Sets the long help text.
    pub fn long_about(mut self, text: impl Into<String>) -> Self {
        self.long_about = Some(text.into());
        self
    }

    /// Adds an argument.
    pub fn arg(mut self, arg: ArgSpec) -> Self {
        self.args.push(arg);
        self
    }

    /// Marks the command as working without the tool's config section.
    pub fn without_config(mut self) -> Self {
        self.needs_config = false;
        self
    }

    /// Marks the command as not calling AWS.
    pub fn without_aws(mut self) -> Self {
        self.needs_aws = false;
        self
    }
}

/// How an argument is given on the command line.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ArgKind {
    /// `--name` without a value.
    Flag,
    /// `--name VALUE`.
    #[default]
    Option,
    /// A bare value by position.
    Positional,
}

/// One argument of a command.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct ArgSpec {
    /// Long name (`--name`) and the key in `context.arguments`.
    pub name: String,
    /// Help text.
    pub help: String,
    /// Flag, option or positional.
    pub kind: ArgKind,
    /// Optional one-letter short form (`-f`).
    pub short: Option<char>,
    /// Whether it must be given.
    pub required: bool,
    /// Whether it may be given several times (the value becomes a list).
    pub multiple: bool,
    /// Default value.
    pub default: Option<String>,
    /// Name of the value in help, e.g. `FILE`.
    pub value_name: Option<String>,
    /// Allowed values.
    pub possible_values: Vec<String>,
    /// A flag that, when given, makes the command run without the tool's config and without
    /// AWS of its own, e.g. `cloud deploy --all`, which runs a fink per project (since 1.1; left
    /// out of the JSON when false).
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub standalone: bool,
}

impl ArgSpec {
    fn of(kind: ArgKind, name: impl Into<String>, help: impl Into<String>) -> Self {
        ArgSpec { name: name.into(), help: help.into(), kind, ..Default::default() }
    }

    /// A boolean `--name` flag.
    pub fn flag(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self::of(ArgKind::Flag, name, help)
    }

    /// A `--name VALUE` option.
    pub fn option(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self::of(ArgKind::Option, name, help)
    }

    /// A positional argument.
    pub fn positional(name: impl Into<String>, help: impl Into<String>) -> Self {
        Self::of(ArgKind::Positional, name, help)
    }

    /// When this flag is given, the command needs no config and no AWS itself (since 1.1).
    pub fn standalone(mut self) -> Self {
        self.standalone = true;
        self
    }

    /// Adds a short form.
    pub fn short(mut self, c: char) -> Self {
        self.short = Some(c);
        self
    }

    /// Makes it required.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// Allows it several times.
    pub fn multiple(mut self) -> Self {
        self.multiple = true;
        self
    }

    /// Sets a default value.
    pub fn default_value(mut self, value: impl Into<String>) -> Self {
        self.default = Some(value.into());
        self
    }

    /// Sets the value's name in help.
    pub fn value_name(mut self, name: impl Into<String>) -> Self {
        self.value_name = Some(name.into());
        self
    }

    /// Restricts the allowed values.
    pub fn possible_values<I, S>(mut self, values: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        self.possible_values = values.into_iter().map(Into::into).collect();
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_are_ignored_and_missing_ones_defaulted() {
        let spec: ToolSpec = serde_json::from_str(
            r#"{"name":"cloud","future":1,"commands":[{"name":"list","args":[{"name":"json","kind":"flag"}]}]}"#,
        )
        .unwrap();
        assert_eq!(spec.commands[0].args[0].kind, ArgKind::Flag);
        assert!(spec.commands[0].needs_config);
    }

    /// The JSON the host receives is the contract: this pins every field's name and form. A change
    /// here must stay readable by every 1.x host (add fields, never rename or retype them).
    #[test]
    fn the_json_shape_of_a_tool_spec_is_pinned() {
        let spec = ToolSpec::new("demo", "A demo").command(
            CommandSpec::new("run", "Run it")
                .long_about("Longer.")
                .without_config()
                .without_aws()
                .arg(ArgSpec::flag("force", "Really").short('f'))
                .arg(ArgSpec::option("name", "Who").value_name("NAME").default_value("x").required())
                .arg(ArgSpec::option("color", "Which").possible_values(["red"]).multiple())
                .arg(ArgSpec::positional("files", "What").multiple()),
        );
        let golden = serde_json::json!({
            "name": "demo", "about": "A demo",
            "commands": [{
                "name": "run", "about": "Run it", "long_about": "Longer.",
                "needs_config": false, "needs_aws": false,
                "args": [
                    {"name": "force", "help": "Really", "kind": "flag", "short": "f", "required": false,
                     "multiple": false, "default": null, "value_name": null, "possible_values": []},
                    {"name": "name", "help": "Who", "kind": "option", "short": null, "required": true,
                     "multiple": false, "default": "x", "value_name": "NAME", "possible_values": []},
                    {"name": "color", "help": "Which", "kind": "option", "short": null, "required": false,
                     "multiple": true, "default": null, "value_name": null, "possible_values": ["red"]},
                    {"name": "files", "help": "What", "kind": "positional", "short": null, "required": false,
                     "multiple": true, "default": null, "value_name": null, "possible_values": []}
                ]
            }]
        });
        assert_eq!(serde_json::to_value(&spec).unwrap(), golden);
        let back: ToolSpec = serde_json::from_value(golden).unwrap();
        assert_eq!(back, spec);
        let aliased = ToolSpec::new("cloud", "c").alias("kumo");
        assert_eq!(serde_json::to_value(&aliased).unwrap()["aliases"], serde_json::json!(["kumo"]));
    }
}
