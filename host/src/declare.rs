//! What a plugin may declare: tools and arguments that fit fink's command line. The host's own
//! names are listed here once, the global options and the built-in commands; the parser
//! ([`crate::cli`]) is built from these lists, and plugins may not take their names.

use fink_plugin_api::{ArgKind, ArgSpec, ToolSpec};

/// How a global option takes its value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Takes {
    /// Counted each time it is given (`-vv`).
    Count,
    /// A switch.
    Flag,
    /// One value, shown in help under this name.
    Value(&'static str),
    /// A folder, repeatable.
    Dirs,
    /// One folder.
    Dir,
    /// Added by clap itself (`--help`, `--version`).
    Clap,
}

/// One of the host's global options; `name` is its id and, unless `long` is false, its long form.
#[derive(Debug, Clone, Copy)]
pub struct GlobalOption {
    pub name: &'static str,
    pub short: Option<char>,
    pub long: bool,
    pub takes: Takes,
    pub help: &'static str,
}

impl GlobalOption {
    const fn new(name: &'static str, short: Option<char>, takes: Takes, help: &'static str) -> Self {
        GlobalOption { name, short, long: true, takes, help }
    }

    /// Only the short form (`-C DIR`).
    const fn short_only(self) -> Self {
        GlobalOption { long: false, ..self }
    }
}

/// The global options, valid anywhere on the line. Plugins may not use their names or shorts.
#[rustfmt::skip]
pub const GLOBAL_OPTIONS: &[GlobalOption] = &[
    GlobalOption::new("env", Some('e'), Takes::Value("ENV"), "Environment to work on (dev, stage, prod, ...); defaults to $ENV"),
    GlobalOption::new("verbose", Some('v'), Takes::Count, "More detail: -v debug, -vv trace"),
    GlobalOption::new("quiet", Some('q'), Takes::Flag, "Only warnings and errors"),
    GlobalOption::new("plugins-dir", None, Takes::Dirs, "Look for plugins in DIR first (repeatable)"),
    GlobalOption::new("dir", Some('C'), Takes::Dir, "Project directory (default: the current directory)").short_only(),
    GlobalOption::new("help", Some('h'), Takes::Clap, "Print help"),
    GlobalOption::new("version", Some('V'), Takes::Clap, "Print version"),
];

/// A command of the host's own.
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    pub about: &'static str,
}

/// The built-in commands; no tool may take their names. `help` is clap's.
pub const BUILTIN_COMMANDS: &[Builtin] = &[
    Builtin { name: "version", about: "Show the versions of fink, the plugin API, tools and plugins" },
    Builtin { name: "plugins", about: "List plugins: version, file, status, signals and tools" },
    Builtin { name: "config", about: "Read, resolve and validate the config for an env and print it as JSON" },
    Builtin {
        name: "completions",
        about: "Print the shell completion script (bash, zsh, fish, powershell), with the installed tools",
    },
    Builtin { name: "plugin", about: "Install, remove or start a plugin: plugin install|remove|new" },
    Builtin {
        name: "trust",
        about: "Let fink run a project's own code (plugins, hooks, Python, generators); --list shows what is trusted",
    },
    Builtin { name: "untrust", about: "Take back the trust `fink trust` gave a folder" },
    Builtin { name: "help", about: "" },
];

/// The command name clap adds to every tool (`fink cloud help deploy`).
const TOOL_HELP_COMMAND: &str = "help";

/// Whether `name` is a global option's name.
pub fn is_reserved_name(name: &str) -> bool {
    GLOBAL_OPTIONS.iter().any(|o| o.name == name)
}

/// Whether `short` is a global option's short letter.
pub fn is_reserved_short(short: char) -> bool {
    GLOBAL_OPTIONS.iter().any(|o| o.short == Some(short))
}

/// Checks what plugin `plugin` declares for a tool so that building the parser cannot fail.
/// Whether another plugin already has the tool is the registry's question.
pub fn check_tool(plugin: &str, spec: &ToolSpec) -> Result<(), String> {
    check_tool_spec(spec).map_err(|e| format!("plugin '{plugin}' declares an unusable tool: {e}"))?;
    if BUILTIN_COMMANDS.iter().any(|b| b.name == spec.name) {
        return Err(format!("plugin '{plugin}' declares a tool named '{}', which is reserved", spec.name));
    }
    Ok(())
}

/// Names are words, unique, and do not take the host's global options.
pub fn check_tool_spec(spec: &ToolSpec) -> Result<(), String> {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !word(&spec.name) {
        return Err(format!("invalid tool name '{}'", spec.name));
    }
    let mut commands = Vec::new();
    for command in &spec.commands {
        if !word(&command.name) || commands.contains(&command.name.as_str()) || command.name == TOOL_HELP_COMMAND {
            return Err(format!("tool '{}': invalid or repeated command name '{}'", spec.name, command.name));
        }
        commands.push(command.name.as_str());
        let mut names = Vec::new();
        let mut shorts = Vec::new();
        let positionals: Vec<&ArgSpec> = command.args.iter().filter(|a| a.kind == ArgKind::Positional).collect();
        for (i, arg) in positionals.iter().enumerate() {
            let at = format!("tool '{}' command '{}'", spec.name, command.name);
            if arg.multiple && i + 1 < positionals.len() {
                return Err(format!("{at}: the multi-valued positional '{}' must be the last positional", arg.name));
            }
            if arg.short.is_some() {
                return Err(format!("{at}: the positional '{}' cannot have a short option", arg.name));
            }
            if arg.required && positionals[..i].iter().any(|p| !p.required) {
                return Err(format!("{at}: the required positional '{}' follows an optional one", arg.name));
            }
        }
        for arg in &command.args {
            let at = format!("tool '{}' command '{}'", spec.name, command.name);
            if !word(&arg.name) || names.contains(&arg.name.as_str()) || is_reserved_name(&arg.name) {
                return Err(format!("{at}: invalid, repeated or reserved argument name '{}'", arg.name));
            }
            names.push(arg.name.as_str());
            if let Some(short) = arg.short {
                if !short.is_ascii_alphanumeric() || shorts.contains(&short) || is_reserved_short(short) {
                    return Err(format!("{at}: invalid, repeated or reserved short option '-{short}'"));
                }
                shorts.push(short);
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::CommandSpec;

    #[test]
    fn tool_specs_may_not_take_global_options() {
        let spec = ToolSpec::new("demo", "d").command(CommandSpec::new("run", "r").arg(ArgSpec::option("env", "x")));
        assert!(check_tool_spec(&spec).unwrap_err().contains("reserved argument name 'env'"));
        let spec = ToolSpec::new("demo", "d")
            .command(CommandSpec::new("run", "r").arg(ArgSpec::flag("force", "x").short('v')));
        assert!(check_tool_spec(&spec).is_err());
        let ok = ToolSpec::new("demo", "d")
            .command(CommandSpec::new("run", "r").arg(ArgSpec::flag("force", "x").short('f')));
        assert!(check_tool_spec(&ok).is_ok());
    }

    #[test]
    fn positional_layouts_clap_cannot_parse_are_refused() {
        let spec = |cmd: CommandSpec| check_tool_spec(&ToolSpec::new("demo", "d").command(cmd));
        assert!(spec(CommandSpec::new("help", "h")).is_err());
        let many_then_one = CommandSpec::new("run", "r")
            .arg(ArgSpec::positional("files", "f").multiple())
            .arg(ArgSpec::positional("more", "m"));
        assert!(spec(many_then_one).unwrap_err().contains("must be the last positional"));
        assert!(spec(CommandSpec::new("run", "r").arg(ArgSpec::positional("x", "x").short('x'))).is_err());
        let required_after_optional = CommandSpec::new("run", "r")
            .arg(ArgSpec::positional("a", "a"))
            .arg(ArgSpec::positional("b", "b").required());
        assert!(spec(required_after_optional).is_err());
    }

    #[test]
    fn tools_may_not_take_built_in_command_names() {
        for name in ["version", "plugins", "config", "help"] {
            let spec = ToolSpec::new(name, "x");
            let error = check_tool("p", &spec).unwrap_err();
            assert_eq!(error, format!("plugin 'p' declares a tool named '{name}', which is reserved"));
        }
        let error = check_tool("p", &ToolSpec::new("", "x")).unwrap_err();
        assert_eq!(error, "plugin 'p' declares an unusable tool: invalid tool name ''");
        assert!(check_tool("p", &ToolSpec::new("hello", "x")).is_ok());
    }

    /// docs/fink.md lists the reserved names and shorts as they are here.
    #[test]
    fn the_guide_lists_the_reserved_names() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../docs/fink.md");
        let doc = std::fs::read_to_string(path).unwrap().split_whitespace().collect::<Vec<_>>().join(" ");
        let names: Vec<String> = GLOBAL_OPTIONS.iter().map(|o| format!("`{}`", o.name)).collect();
        let names = format!("(reserved: {})", names.join(", "));
        assert!(doc.contains(&names), "docs/fink.md should say {names}");
        let shorts: Vec<String> = GLOBAL_OPTIONS.iter().filter_map(|o| o.short).map(String::from).collect();
        let shorts = format!("(reserved: `{}`)", shorts.join(" "));
        assert!(doc.contains(&shorts), "docs/fink.md should say {shorts}");
        let tools: Vec<String> = BUILTIN_COMMANDS.iter().map(|b| format!("`{}`", b.name)).collect();
        let tools = format!("(the built-in commands: {})", tools.join(", "));
        assert!(doc.contains(&tools), "docs/fink.md should say {tools}");
    }
}
