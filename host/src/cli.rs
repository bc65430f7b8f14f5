//! The command line: a quick scan for the options needed before plugins load, then the full
//! clap parser with the global options and built-in commands (listed in [`crate::declare`]) and
//! the tools plugins contribute.

use std::ffi::OsString;
use std::path::PathBuf;

use clap::{Arg, ArgAction, ArgMatches, Command};
use fink_plugin_api::{ArgKind, ArgSpec, ToolSpec};
use serde_json::{Map, Value};

use crate::declare::{GlobalOption, Takes, BUILTIN_COMMANDS, GLOBAL_OPTIONS};
use crate::registry::Registry;
use crate::session::{Needs, ToolCommand};

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
            "--verbose" => early.verbosity = early.verbosity.saturating_add(1),
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
                        let more = flags.chars().filter(|c| *c == 'v').count().min(usize::from(MAX_VERBOSITY));
                        early.verbosity = early.verbosity.saturating_add(more as i8);
                        quiet |= flags.contains('q');
                    }
                }
            }
        }
    }
    if quiet {
        early.verbosity = -1;
    }
    early.verbosity = early.verbosity.min(MAX_VERBOSITY as i8);
    early
}

/// More `-v` than this is a usage error; `-vv` is the most detail there is.
pub const MAX_VERBOSITY: u8 = 8;

/// A usage error when `-v` was given more often than [`MAX_VERBOSITY`], wherever it appears.
pub fn check_verbosity(args: &[OsString]) -> Result<(), String> {
    let mut count = 0usize;
    for arg in args.iter().skip(1).map(|a| a.to_string_lossy()) {
        if arg == "--" {
            break;
        }
        if arg == "--verbose" {
            count += 1;
        } else if arg.len() > 1
            && arg.starts_with('-')
            && !arg.starts_with("--")
            && arg[1..].chars().all(|c| c == 'v' || c == 'q')
        {
            count += arg.chars().filter(|c| *c == 'v').count();
        }
    }
    if count > usize::from(MAX_VERBOSITY) {
        return Err(format!("-v given {count} times; at most {MAX_VERBOSITY} (-vv already shows everything)"));
    }
    Ok(())
}

/// What the user asked for.
#[derive(Debug, PartialEq)]
pub enum Action {
    Version,
    Plugins,
    Config { show_secrets: bool, raw: bool },
    Completions(clap_complete::Shell),
    Plugin(PluginCommand),
    Trust { dir: Option<PathBuf>, list: bool },
    Untrust { dir: Option<PathBuf> },
    Tool(ToolCommand),
    UnknownTool(String),
}

/// Which plugins folder a command works on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The user's folder (`~/.local/share/fink/plugins`), the default.
    User,
    /// The project's `.fink/plugins/`.
    Project,
}

/// `fink plugin <command>`, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PluginCommand {
    Install { files: Vec<PathBuf>, scope: Scope, force: bool, allow_unsigned: bool },
    Remove { name: String, scope: Scope },
    New { name: String, tool: bool },
    Key(KeyCommand),
}

/// `fink plugin key <command>`, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyCommand {
    Add { key: String, name: Option<String> },
    List,
    Remove { name: String },
}

/// Global options after full parsing.
#[derive(Debug)]
pub struct Globals {
    pub env: Option<String>,
    pub verbosity: i8,
}

const ABOUT: &str = "Infrastructure-as-code on AWS: deploy CloudFormation stacks, Lambda functions, \
CodeDeploy applications and API Gateway APIs per environment, from config files kept in git.";

/// The full parser: built-in commands plus one subcommand per tool of the loaded plugins.
pub fn build(registry: &Registry) -> Command {
    let mut cmd = Command::new("fink")
        .version(env!("CARGO_PKG_VERSION"))
        .about(ABOUT)
        .subcommand_required(true)
        .arg_required_else_help(true)
        .allow_external_subcommands(true)
        .after_help("Tools come from plugins; `fink plugins` shows what is installed and where fink looks.");
    for option in GLOBAL_OPTIONS {
        if let Some(arg) = global_arg(option) {
            cmd = cmd.arg(arg);
        }
    }
    for builtin in BUILTIN_COMMANDS.iter().filter(|b| b.name != "help") {
        let mut sub = Command::new(builtin.name).about(builtin.about);
        if builtin.name == "completions" {
            sub = sub.arg(
                Arg::new("shell")
                    .required(true)
                    .value_parser(clap::value_parser!(clap_complete::Shell))
                    .help("The shell: bash, zsh, fish or powershell (elvish too)"),
            );
        }
        if builtin.name == "plugin" {
            sub = plugin_command(sub);
        }
        if builtin.name == "trust" || builtin.name == "untrust" {
            sub = sub.arg(
                Arg::new("dir")
                    .value_name("DIR")
                    .value_parser(clap::value_parser!(PathBuf))
                    .help("The project, or a folder whose projects all get it (default: the project directory)"),
            );
        }
        if builtin.name == "trust" {
            sub = sub.arg(
                Arg::new("list")
                    .long("list")
                    .action(ArgAction::SetTrue)
                    .conflicts_with("dir")
                    .help("Show the trusted folders instead"),
            );
        }
        if builtin.name == "config" {
            sub = sub
                .arg(
                    Arg::new("show-secrets")
                        .long("show-secrets")
                        .action(ArgAction::SetTrue)
                        .help("Print values that lookups marked secret instead of ****"),
                )
                .arg(
                    Arg::new("raw")
                        .long("raw")
                        .action(ArgAction::SetTrue)
                        .help("Print the config as read, before lookups, defaults and validation (no AWS)"),
                );
        }
        cmd = cmd.subcommand(sub);
    }
    // An alias may not hide a built-in command, a tool or an earlier alias.
    let mut taken: Vec<String> = BUILTIN_COMMANDS.iter().map(|b| b.name.to_string()).collect();
    taken.extend(registry.plugins.iter().flat_map(|p| p.tools.iter().map(|t| t.spec.name.clone())));
    for plugin in &registry.plugins {
        for tool in &plugin.tools {
            let mut sub = tool_command(&tool.spec, &plugin.name);
            for alias in &tool.spec.aliases {
                if taken.contains(alias) {
                    tracing::debug!("alias '{alias}' of tool '{}' is taken; it is not used", tool.spec.name);
                    continue;
                }
                taken.push(alias.clone());
                sub = sub.alias(alias.clone());
            }
            cmd = cmd.subcommand(sub);
        }
    }
    cmd
}

/// Run through a link named after a tool or one of its aliases (`cloud`, `kumo`), fink runs
/// that tool: `cloud deploy -e dev` is `fink cloud deploy -e dev`.
pub fn through_link(mut args: Vec<OsString>, registry: &Registry) -> Vec<OsString> {
    let Some(program) = args.first().and_then(|a| std::path::Path::new(a).file_name()) else { return args };
    let program = program.to_string_lossy().into_owned();
    let is_tool = registry
        .plugins
        .iter()
        .flat_map(|p| &p.tools)
        .any(|t| t.spec.name == program || t.spec.aliases.contains(&program));
    if program != "fink" && is_tool {
        args[0] = OsString::from("fink");
        args.insert(1, OsString::from(program));
    }
    args
}

/// The alias the command line names a tool by, with the tool's name: `kumo` → `cloud`.
pub fn alias_used(args: &[OsString], registry: &Registry) -> Option<(String, String)> {
    let tools: Vec<&ToolSpec> = registry.plugins.iter().flat_map(|p| p.tools.iter().map(|t| &t.spec)).collect();
    for arg in args.iter().skip(1).map(|a| a.to_string_lossy()) {
        if tools.iter().any(|t| t.name == arg) {
            return None;
        }
        if let Some(tool) = tools.iter().find(|t| t.aliases.iter().any(|a| *a == arg)) {
            return Some((arg.into_owned(), tool.name.clone()));
        }
    }
    None
}

/// `fink plugin install|remove|new`.
fn plugin_command(cmd: Command) -> Command {
    let scoped = |cmd: Command| {
        cmd.arg(
            Arg::new("project")
                .long("project")
                .action(ArgAction::SetTrue)
                .conflicts_with("user")
                .help("The project's plugins folder, .fink/plugins/"),
        )
        .arg(
            Arg::new("user")
                .long("user")
                .action(ArgAction::SetTrue)
                .help("Your user plugins folder, ~/.local/share/fink/plugins (the default)"),
        )
    };
    let install = Command::new("install")
        .about("Check plugin files and copy them into a plugins folder")
        .arg(
            Arg::new("files")
                .value_name("FILE")
                .required(true)
                .num_args(1..)
                .action(ArgAction::Append)
                .value_parser(clap::value_parser!(PathBuf))
                .help("Plugin libraries (*.so), e.g. target/release/libfink_plugin_x.so"),
        )
        .arg(
            Arg::new("force")
                .long("force")
                .action(ArgAction::SetTrue)
                .help("Replace a plugin of the same name (or a file of the same name) in the folder"),
        )
        .arg(
            Arg::new("allow-unsigned")
                .long("allow-unsigned")
                .action(ArgAction::SetTrue)
                .help("Install files without a valid signature (<FILE>.minisig) from a publisher key you trust"),
        );
    let key = Command::new("key")
        .about("The publisher keys whose signatures `plugin install` accepts: key add|list|remove")
        .subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(
            Command::new("add")
                .about("Trust a publisher's minisign public key (the base64 line, or a minisign.pub file)")
                .arg(Arg::new("key").value_name("KEY").required(true).help("The public key, or the path of its file"))
                .arg(
                    Arg::new("name").long("name").value_name("NAME").help("The publisher's name (default: the key id)"),
                ),
        )
        .subcommand(Command::new("list").about("Show the trusted publisher keys"))
        .subcommand(
            Command::new("remove")
                .about("Stop trusting a publisher key")
                .arg(Arg::new("name").value_name("NAME").required(true).help("The publisher's name or the key id")),
        );
    let remove = Command::new("remove")
        .about("Remove a plugin from a plugins folder")
        .arg(Arg::new("name").value_name("NAME").required(true).help("The plugin's name (or a file name there)"));
    let new = Command::new("new")
        .about("Write a new plugin crate into the folder NAME")
        .arg(
            Arg::new("name")
                .value_name("NAME")
                .required(true)
                .help("The plugin's name: lowercase letters, digits, '-'"),
        )
        .arg(
            Arg::new("tool")
                .long("tool")
                .action(ArgAction::SetTrue)
                .help("Give it a tool, `fink NAME greet`, instead of a greeting when fink starts"),
        );
    cmd.subcommand_required(true)
        .arg_required_else_help(true)
        .subcommand(scoped(install))
        .subcommand(scoped(remove))
        .subcommand(new)
        .subcommand(key)
}

/// The `fink plugin` command the parser found.
fn plugin_action(args: &ArgMatches) -> Option<PluginCommand> {
    let scope = |m: &ArgMatches| if m.get_flag("project") { Scope::Project } else { Scope::User };
    let name = |m: &ArgMatches| m.get_one::<String>("name").cloned().unwrap_or_default();
    Some(match args.subcommand()? {
        ("install", m) => PluginCommand::Install {
            files: m.get_many::<PathBuf>("files").into_iter().flatten().cloned().collect(),
            scope: scope(m),
            force: m.get_flag("force"),
            allow_unsigned: m.get_flag("allow-unsigned"),
        },
        ("key", m) => PluginCommand::Key(match m.subcommand()? {
            ("add", k) => KeyCommand::Add {
                key: k.get_one::<String>("key").cloned().unwrap_or_default(),
                name: k.get_one::<String>("name").cloned(),
            },
            ("list", _) => KeyCommand::List,
            ("remove", k) => KeyCommand::Remove { name: name(k) },
            _ => return None,
        }),
        ("remove", m) => PluginCommand::Remove { name: name(m), scope: scope(m) },
        ("new", m) => PluginCommand::New { name: name(m), tool: m.get_flag("tool") },
        _ => return None,
    })
}

/// The clap argument for a global option; `None` for those clap adds itself.
fn global_arg(option: &GlobalOption) -> Option<Arg> {
    let mut arg = Arg::new(option.name).help(option.help).global(true);
    if option.long {
        arg = arg.long(option.name);
    }
    if let Some(short) = option.short {
        arg = arg.short(short);
    }
    Some(match option.takes {
        Takes::Count => arg.action(ArgAction::Count),
        Takes::Flag => arg.action(ArgAction::SetTrue),
        Takes::Value(name) => arg.value_name(name),
        Takes::Dirs => arg.value_name("DIR").action(ArgAction::Append).value_parser(clap::value_parser!(PathBuf)),
        Takes::Dir => arg.value_name("DIR").value_parser(clap::value_parser!(PathBuf)),
        Takes::Clap => return None,
    })
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

/// Reads the parsed command line: the global options, and what to do, with a tool command
/// resolved against the registry (the only place a tool is looked up).
pub fn action(matches: &ArgMatches, registry: &Registry) -> (Globals, Action) {
    let verbosity = if matches.get_flag("quiet") { -1 } else { matches.get_count("verbose").min(MAX_VERBOSITY) as i8 };
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
        Some(("config", args)) => {
            Action::Config { show_secrets: args.get_flag("show-secrets"), raw: args.get_flag("raw") }
        }
        Some(("plugin", args)) => match plugin_action(args) {
            Some(command) => Action::Plugin(command),
            None => Action::UnknownTool("plugin".to_string()),
        },
        Some(("trust", args)) => {
            Action::Trust { dir: args.get_one::<PathBuf>("dir").cloned(), list: args.get_flag("list") }
        }
        Some(("untrust", args)) => Action::Untrust { dir: args.get_one::<PathBuf>("dir").cloned() },
        Some(("completions", args)) => match args.get_one::<clap_complete::Shell>("shell") {
            Some(shell) => Action::Completions(*shell),
            None => Action::UnknownTool("completions".to_string()),
        },
        Some((tool, sub)) => {
            match sub.subcommand().and_then(|(command, args)| resolve(registry, tool, command, args)) {
                Some(call) => Action::Tool(call),
                None => Action::UnknownTool(tool.to_string()),
            }
        }
        None => Action::UnknownTool(String::new()),
    };
    (globals, action)
}

fn resolve(registry: &Registry, tool: &str, command: &str, args: &ArgMatches) -> Option<ToolCommand> {
    let (plugin, index) = registry.find_tool(tool)?;
    let spec = registry.plugins[plugin].tools[index].spec.commands.iter().find(|c| c.name == command)?;
    Some(ToolCommand {
        tool: tool.to_string(),
        command: command.to_string(),
        plugin,
        index,
        needs: {
            // A standalone flag (`cloud deploy --all`) runs the command without config or AWS of its own.
            let standalone =
                spec.args.iter().any(|a| a.standalone && a.kind == ArgKind::Flag && args.get_flag(&a.name));
            Needs { aws: spec.needs_aws && !standalone, config: spec.needs_config && !standalone }
        },
        arguments: arguments(&spec.args, args),
    })
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
    fn hundreds_of_v_flags_are_a_usage_error_not_an_overflow() {
        let many = format!("-{}", "v".repeat(200));
        let args = os(&["fink", "version", &many, "--verbose"]);
        assert_eq!(scan_early(&args).verbosity, MAX_VERBOSITY as i8);
        assert_eq!(check_verbosity(&args).unwrap_err(), "-v given 201 times; at most 8 (-vv already shows everything)");
        assert!(check_verbosity(&os(&["fink", "-vv", "version"])).is_ok());
    }

    #[test]
    fn parser_is_consistent() {
        build(&Registry::default()).debug_assert();
    }

    #[test]
    fn the_parser_has_exactly_the_declared_global_options_and_built_in_commands() {
        let mut cmd = build(&Registry::default());
        cmd.build();
        let mut options: Vec<(String, Option<char>)> =
            cmd.get_arguments().map(|a| (a.get_id().to_string(), a.get_short())).collect();
        let mut declared: Vec<(String, Option<char>)> =
            GLOBAL_OPTIONS.iter().map(|o| (o.name.to_string(), o.short)).collect();
        options.sort();
        declared.sort();
        assert_eq!(options, declared);
        let commands: Vec<&str> = cmd.get_subcommands().map(|c| c.get_name()).collect();
        let builtins: Vec<&str> = BUILTIN_COMMANDS.iter().map(|b| b.name).collect();
        assert_eq!(commands, builtins);
    }

    #[test]
    fn the_early_scan_reads_what_the_parser_reads() {
        let args = os(&["fink", "version", "-vv", "--plugins-dir", "a", "-C", "/"]);
        let matches = build(&Registry::default()).try_get_matches_from(&args).unwrap();
        let (globals, action) = action(&matches, &Registry::default());
        let early = scan_early(&args);
        assert_eq!((globals.verbosity, action), (early.verbosity, Action::Version));
        let dirs: Vec<&PathBuf> = matches.get_many::<PathBuf>("plugins-dir").unwrap().collect();
        assert_eq!(dirs, early.plugins_dirs.iter().collect::<Vec<_>>());
        assert_eq!(matches.get_one::<PathBuf>("dir"), early.project_dir.as_ref());
    }
}
