//! hello-tool: an example plugin that adds the `hello` tool, declares a schema for its config
//! section `hello` and logs a line when the command has finished.
//!
//! Copy this crate to start your own plugin. `register` lists everything the plugin does. The
//! handlers are plain functions over `Invocation`/`Event`, and the logic they share is pure
//! functions that the tests call directly.
// Tests may unwrap; `[lints.clippy]` in Cargo.toml denies it everywhere else.
#![cfg_attr(test, allow(clippy::unwrap_used))]

use fink_plugin_api::{
    export_plugin, info, json, ArgSpec, CommandSpec, Error, Event, Invocation, Registration,
    Result, Signal, Tool, Value,
};
use serde::Deserialize;

export_plugin! {
    name: "hello-tool",
    description: "Example plugin: the `hello` tool greets you",
    register: register,
}

/// The tool's name. It is also the name of the tool's config section.
const TOOL: &str = "hello";
/// The greeting used when the config doesn't set `hello.greeting`. The schema declares it as the
/// default, so the host fills it in.
const DEFAULT_GREETING: &str = "Hello";
/// The context key that `hello greet` sets for the handlers that run after it.
const GREETED: &str = "hello_greeted";

/// Lists everything this plugin does: one tool, one config schema, one subscription.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.add_tool(tool());
    plugin.config_schema(TOOL, config_schema());
    // Lower runs first and the default is 1000, so this line comes before other plugins' output.
    plugin.on_with_order(Signal::COMMAND_FINALIZED, 500, report);
    Ok(())
}

/// `fink hello greet` and `fink hello info`, each listed once with the function that runs it.
/// The host builds `--help` from the specs.
fn tool() -> Tool {
    Tool::new(TOOL, "Greets you (example plugin)")
        // Greeting
        .command(
            CommandSpec::new("greet", "Print a greeting")
                .long_about(
                    "Prints '<greeting>, <name>!'. The greeting comes from `hello.greeting` in the \
                     config (default \"Hello\"). The name comes from --name, then `hello.name`, then \
                     your user name.",
                )
                .arg(
                    ArgSpec::option("name", "Who to greet")
                        .short('n')
                        .value_name("NAME"),
                )
                .arg(ArgSpec::flag("shout", "Greet in capitals"))
                // Needs the `hello` config section (the default) but never calls AWS.
                .without_aws(),
            greet,
        )
        // Inspection
        .command(
            CommandSpec::new("info", "Show the env and the `hello` config section")
                .without_config()
                .without_aws(),
            show_info,
        )
}

/// The `hello` section, read with `call.tool_section::<Settings>()`. A missing section reads as
/// `{}`; a wrong type is an error naming the key, e.g. ``config 'hello.greeting': invalid type:
/// integer `3`, expected a string``.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
struct Settings {
    greeting: Option<String>,
    name: Option<String>,
}

/// The JSON Schema of the `hello` section. The host fills in the defaults after the config is read
/// and reports every violation, e.g. `hello.greeting: expected string, got 5`.
fn config_schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "greeting": { "type": "string", "default": DEFAULT_GREETING },
            "name": { "type": "string" }
        }
    })
}

fn greet(call: &mut Invocation) -> Result<()> {
    let settings: Settings = call.tool_section()?;
    let word = settings.greeting.as_deref().unwrap_or(DEFAULT_GREETING);
    let name = call
        .value("name")
        .or(settings.name.as_deref())
        .or_else(|| call.user())
        .unwrap_or("stranger")
        .trim()
        .to_owned();
    println!("{}", greeting(word, &name, call.flag("shout"))?);
    // Handlers that run later (here `report`) see this key.
    call.set_context(GREETED, name);
    Ok(())
}

fn show_info(call: &mut Invocation) -> Result<()> {
    println!("{}", info_text(call.env(), call.tool_config()));
    Ok(())
}

/// Runs on `command_finalized` for every tool, so it reacts only when `hello greet` ran.
fn report(event: &mut Event) -> Result<()> {
    if let Some(name) = event.context_str(GREETED) {
        info!("greeted {name} in env {}", event.env().unwrap_or("?"));
    }
    Ok(())
}

/// `Hello, ana!`, or `HELLO, ANA!` when shouting.
fn greeting(word: &str, name: &str, shout: bool) -> Result<String> {
    if name.is_empty() {
        return Err(Error::new("there is nobody to greet: the name is empty")
            .with_help("pass --name NAME or set hello.name in the config"));
    }
    let text = format!("{word}, {name}!");
    Ok(if shout { text.to_uppercase() } else { text })
}

fn info_text(env: Option<&str>, section: Option<&Value>) -> String {
    let section = match section {
        Some(value) => value.to_string(),
        None => "(no `hello` section in the config)".to_owned(),
    };
    format!("env: {}\nhello: {section}", env.unwrap_or("(none)"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Runs `command` as fink would and returns what it left in the context.
    fn context_after(command: &str, context: &str, config: &str) -> Value {
        let mut call = Invocation::new(command, context, config);
        tool().run(&mut call).unwrap();
        call.context().clone()
    }

    #[test]
    fn greeting_uses_word_and_name_and_can_shout() {
        assert_eq!(greeting("Moin", "ana", false).unwrap(), "Moin, ana!");
        assert_eq!(greeting("Hello", "ana", true).unwrap(), "HELLO, ANA!");
    }

    #[test]
    fn an_empty_name_is_an_error_with_help() {
        let err = greeting("Hello", "", false).unwrap_err();
        assert!(err.message().contains("nobody to greet"));
        assert!(err.help().is_some());
    }

    #[test]
    fn greet_prefers_the_argument_then_the_config_then_the_user() {
        let config = r#"{"hello":{"greeting":"Moin","name":"bo"}}"#;
        let ctx = r#"{"tool":"hello","user":"ana","arguments":{"name":"cy","shout":false}}"#;
        assert_eq!(context_after("greet", ctx, config)[GREETED], "cy");
        let ctx = r#"{"tool":"hello","user":"ana","arguments":{"shout":false}}"#;
        assert_eq!(context_after("greet", ctx, config)[GREETED], "bo");
        assert_eq!(
            context_after("greet", ctx, r#"{"hello":{}}"#)[GREETED],
            "ana"
        );
    }

    #[test]
    fn a_wrong_type_in_the_section_names_its_key() {
        let ctx = r#"{"tool":"hello","user":"ana","arguments":{"shout":false}}"#;
        let mut call = Invocation::new("greet", ctx, r#"{"hello":{"greeting":3}}"#);
        assert_eq!(
            tool().run(&mut call).unwrap_err().message(),
            "config 'hello.greeting': invalid type: integer `3`, expected a string"
        );
    }

    #[test]
    fn info_changes_nothing_and_needs_no_config() {
        let mut call = Invocation::new("info", r#"{"tool":"hello","env":"dev"}"#, "{}");
        tool().run(&mut call).unwrap();
        let changes = call.into_changes();
        assert!(changes.context.is_none() && changes.config.is_none());
        assert_eq!(
            info_text(Some("dev"), None),
            "env: dev\nhello: (no `hello` section in the config)"
        );
        assert_eq!(
            info_text(None, Some(&json!({"greeting": "Hi"}))),
            "env: (none)\nhello: {\"greeting\":\"Hi\"}"
        );
    }

    #[test]
    fn unknown_commands_are_errors() {
        let mut call = Invocation::new("wave", r#"{"tool":"hello"}"#, "{}");
        assert_eq!(
            tool().run(&mut call).unwrap_err().message(),
            "tool 'hello' has no command 'wave'"
        );
    }

    #[test]
    fn spec_and_schema_agree() {
        let tool = tool();
        let spec = tool.spec();
        let names: Vec<&str> = spec.commands.iter().map(|c| c.name.as_str()).collect();
        assert_eq!(names, ["greet", "info"]);
        assert!(spec.commands[0].needs_config && !spec.commands[1].needs_config);
        assert!(spec.commands.iter().all(|c| !c.needs_aws));
        assert_eq!(
            config_schema()["properties"]["greeting"]["default"],
            DEFAULT_GREETING
        );
    }

    #[test]
    fn report_only_reads_the_context() {
        let mut event = Event::new(
            Signal::COMMAND_FINALIZED,
            r#"{"hello_greeted":"ana"}"#,
            "{}",
        );
        report(&mut event).unwrap();
        assert!(event.into_changes().context.is_none());
    }
}
