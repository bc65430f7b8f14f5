//! The command line: a quick scan for the options needed before plugins load, then the full
//! clap parser with built-in commands and the tools plugins contribute.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use fink_plugin_api::{ArgKind, ArgSpec, ToolSpec};
use serde_json::{Map, Value};

use crate::registry::Registry;

/// Options that matter before plugins are loaded.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Early {
    pub verbosity: i8,
    pub plugins_dirs: Vec<PathBuf>,
    pub project_dir: Option<PathBuf>,
}

/// Reads `-v`/`-q`, `--plugins-dir` and `-C` wherever they appear; clap re-checks them later.
pub fn scan_early(args: &[OsString]) -> Early {
    let mut early = Early::default();
    let mut quiet = false;
    let mut iter = args.iter().skip(1).map(|a| a.to_string_lossy().into_owned());
    while let Some(arg) = iter.next() {
        match arg.as_str() {
            "--" => break,
            "--verbose" => early.verbosity += 1,
            "-q" | "--quiet" => quiet = true,
            "--plugins-dir" => early.plugins_dirs.extend(iter.next().map(PathBuf::from)),
            "-C" => early.project_dir = iter.next().map(PathBuf::from),
            _ => {
                if let Some(dir) = arg.strip_prefix("--plugins-dir=") {
                    early.plugins_dirs.push(PathBuf::from(dir));
                } else if let Some(dir) = arg.strip_prefix("-C").filter(|d| !d.is_empty()) {
                    early.project_dir = Some(PathBuf::from(dir));
                } else if arg.len() > 1 && arg.starts_with('-') && !arg.starts_with("--") {
                    // Combined short flags, e.g. -vv or -vq.
                    let flags = &arg[1..];
                    if flags.chars().all(|c| c == 'v' || c == 'q') {
                        early.verbosity += flags.chars().filter(|c| *c == 'v').count() as i8;
                        quiet |= flags.contains('q');
                    }
                }
            }
        }
    }
    if quiet {
        early.verbosity = -1;
    }
    early
}

/// What the user asked for.
#[derive(Debug, PartialEq)]
pub enum Action {
    Version,
    Plugins,
    Config { show_secrets: bool },
    Tool { tool: String, command: String, arguments: Map<String, Value> },
    UnknownTool(String),
}

/// Global options after full parsing.
#[derive(Debug)]
pub struct Globals {
    pub env: Option<String>,
    pub verbosity: i8,
}

const ABOUT: &str = "Infrastructure-as-code on AWS: deploy CloudFormation stacks, Lambda functions, \
CodeDeploy applications and API Gateway APIs per environment, from config files kept in git.";

/// Argument names and short letters the host keeps for itself.
const RESERVED_NAMES: &[&str] = &["env", "verbose", "quiet", "plugins-dir", "dir", "help", "version"];
const RESERVED_SHORTS: &[char] = &['e', 'v', 'q', 'C', 'h', 'V'];

/// The full parser: built-in commands plus one subcommand per tool of the loaded plugins.
pub fn build(registry: &Registry) -> Command {
    let mut cmd = Command::new("fink")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .allow_external_subcommands(true)
        .after_help("Tools come from plugins; `fink plugins` shows what is installed and where fink looks.")
        .arg(
            Arg::new("env")
                .short('e')
                .long("env")
                .value_name("ENV")
                .global(true)
                .help("Environment to work on (dev, stage, prod, ...); defaults to $ENV"),
        )
        .arg(
            Arg::new("verbose")
                .short('v')
                .long("verbose")
                .action(ArgAction::Count)
                .global(true)
                .help("More detail: -v debug, -vv trace"),
        )
        .arg(
            Arg::new("quiet")
                .short('q')
                .long("quiet")
                .action(ArgAction::SetTrue)
                .global(true)
                .help("Only warnings and errors"),
        )
        .arg(
            Arg::new("plugins-dir")
                .long("plugins-dir")
                .value_name("DIR")
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .global(true)
                .help("Look for plugins in DIR first (repeatable)"),
        )
        .arg(
            Arg::new("dir")
                .short('C')
                .value_name("DIR")
                .value_parser(clap::value_parser!(PathBuf))
                .global(true)
                .help("Project directory (default: the current directory)"),
        )
        .subcommand(Command::new("version").about("Show the versions of fink, the plugin API, tools and plugins"))
        .subcommand(Command::new("plugins").about("List plugins: version, file, status, signals and tools"))
        .subcommand(
            Command::new("config").about("Read, resolve and validate the config for an env and print it as JSON").arg(
                Arg::new("show-secrets")
                    .long("show-secrets")
                    .action(ArgAction::SetTrue)
                    .help("Print values that lookups marked secret instead of ****"),
            ),
        );
    for plugin in &registry.plugins {
        for tool in &plugin.tools {
            cmd = cmd.subcommand(tool_command(&tool.spec, &plugin.name));
        }
    }
    cmd
}

fn tool_command(spec: &ToolSpec, plugin: &str) -> Command {
    let mut cmd = Command::new(spec.name.clone())
        .about(format!("{} [plugin {plugin}]", spec.about))
        .subcommand_required(true)
        .arg_required_else_help(true);
    for command in &spec.commands {
        let mut sub = Command::new(command.name.clone()).about(command.about.clone());
        if let Some(long) = &command.long_about {
            sub = sub.long_about(long.clone());
        }
        for arg in &command.args {
            sub = sub.arg(clap_arg(arg));
        }
        cmd = cmd.subcommand(sub);
    }
    cmd
}

fn clap_arg(spec: &ArgSpec) -> Arg {
    let mut arg = Arg::new(spec.name.clone()).help(spec.help.clone()).required(spec.required);
    match spec.kind {
        ArgKind::Flag => {
            arg = arg.long(spec.name.clone()).action(ArgAction::SetTrue).required(false);
        }
        ArgKind::Option => {
            arg = arg.long(spec.name.clone());
            arg = arg.action(if spec.multiple { ArgAction::Append } else { ArgAction::Set });
        }
        ArgKind::Positional => {
            arg = arg.value_name(spec.name.to_uppercase());
            if spec.multiple {
                arg = arg.num_args(1..).action(ArgAction::Append);
            }
        }
    }
    if let Some(short) = spec.short {
        arg = arg.short(short);
    }
    if spec.kind != ArgKind::Flag {
        if let Some(default) = &spec.default {
            arg = arg.default_value(default.clone());
        }
        if let Some(name) = &spec.value_name {
            arg = arg.value_name(name.clone());
        }
        if !spec.possible_values.is_empty() {
            arg = arg.value_parser(clap::builder::PossibleValuesParser::new(spec.possible_values.clone()));
        }
    }
    arg
}

/// Checks a tool spec so that building the parser cannot fail: names are words, unique, and do
/// not take the host's global options.
pub fn check_tool_spec(spec: &ToolSpec) -> Result<(), String> {
    let word = |s: &str| !s.is_empty() && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !word(&spec.name) {
        return Err(format!("invalid tool name '{}'", spec.name));
    }
    let mut commands = Vec::new();
    for command in &spec.commands {
        if !word(&command.name) || commands.contains(&command.name.as_str()) || command.name == "help" {
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
            if !word(&arg.name) || names.contains(&arg.name.as_str()) || RESERVED_NAMES.contains(&arg.name.as_str()) {
                return Err(format!("{at}: invalid, repeated or reserved argument name '{}'", arg.name));
            }
            names.push(arg.name.as_str());
            if let Some(short) = arg.short {
                if !short.is_ascii_alphanumeric() || shorts.contains(&short) || RESERVED_SHORTS.contains(&short) {
                    return Err(format!("{at}: invalid, repeated or reserved short option '-{short}'"));
                }
                shorts.push(short);
            }
        }
    }
    Ok(())
}

/// Reads the parsed command line.
pub fn action(matches: &ArgMatches, registry: &Registry) -> (Globals, Action) {
    let verbosity = if matches.get_flag("quiet") { -1 } else { matches.get_count("verbose") as i8 };
    let env = matches
        .get_one::<String>("env")
        .cloned()
        .or_else(|| std::env::var("ENV").ok())
        .filter(|e| !e.trim().is_empty())
        .map(|e| e.trim().to_lowercase());
    let globals = Globals { env, verbosity };
    let action = match matches.subcommand() {
        Some(("version", _)) => Action::Version,
        Some(("plugins", _)) => Action::Plugins,
        Some(("config", args)) => Action::Config { show_secrets: args.get_flag("show-secrets") },
        Some((tool, sub)) => match (registry.find_tool(tool), sub.subcommand()) {
            (Some((pi, ti)), Some((command, args))) => {
                let spec = &registry.plugins[pi].tools[ti].spec;
                let arguments = spec
                    .commands
                    .iter()
                    .find(|c| c.name == command)
                    .map(|c| arguments(&c.args, args))
                    .unwrap_or_default();
                Action::Tool { tool: tool.to_string(), command: command.to_string(), arguments }
            }
            _ => Action::UnknownTool(tool.to_string()),
        },
        None => Action::UnknownTool(String::new()),
    };
    (globals, action)
}

fn arguments(specs: &[ArgSpec], matches: &ArgMatches) -> Map<String, Value> {
    let mut out = Map::new();
    for spec in specs {
        let value = match spec.kind {
            ArgKind::Flag => Some(Value::Bool(matches.get_flag(&spec.name))),
            _ if spec.multiple => {
                matches.get_many::<String>(&spec.name).map(|v| Value::Array(v.cloned().map(Value::String).collect()))
            }
            _ => matches.get_one::<String>(&spec.name).cloned().map(Value::String),
        };
        if let Some(value) = value {
            out.insert(spec.name.clone(), value);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn os(args: &[&str]) -> Vec<OsString> {
        args.iter().map(OsString::from).collect()
    }

    #[test]
    fn early_scan_finds_dirs_and_verbosity_anywhere() {
        let early =
            scan_early(&os(&["fink", "cloud", "deploy", "-vv", "--plugins-dir", "a", "--plugins-dir=b", "-C", "p"]));
        assert_eq!(early.verbosity, 2);
        assert_eq!(early.plugins_dirs, vec![PathBuf::from("a"), PathBuf::from("b")]);
        assert_eq!(early.project_dir, Some(PathBuf::from("p")));
        assert_eq!(scan_early(&os(&["fink", "--", "-v"])).verbosity, 0);
        // Quiet wins, as in the full parser.
        assert_eq!(scan_early(&os(&["fink", "-q", "-v"])).verbosity, -1);
        assert_eq!(scan_early(&os(&["fink", "-vq"])).verbosity, -1);
    }

    #[test]
    fn tool_specs_may_not_take_global_options() {
        let spec = ToolSpec::new("demo", "d")
            .command(fink_plugin_api::CommandSpec::new("run", "r").arg(ArgSpec::option("env", "x")));
        assert!(check_tool_spec(&spec).unwrap_err().contains("reserved argument name 'env'"));
        let spec = ToolSpec::new("demo", "d")
            .command(fink_plugin_api::CommandSpec::new("run", "r").arg(ArgSpec::flag("force", "x").short('v')));
        assert!(check_tool_spec(&spec).is_err());
        let ok = ToolSpec::new("demo", "d")
            .command(fink_plugin_api::CommandSpec::new("run", "r").arg(ArgSpec::flag("force", "x").short('f')));
        assert!(check_tool_spec(&ok).is_ok());
    }

    #[test]
    fn positional_layouts_clap_cannot_parse_are_refused() {
        use fink_plugin_api::CommandSpec;
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
    fn parser_is_consistent() {
        build(&Registry::default()).debug_assert();
    }
}
