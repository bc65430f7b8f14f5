//! say-hello: greets the user when fink starts and says goodbye when it ends.
//!
//! The smallest useful plugin, and the one to copy: export it, subscribe in `register`, keep each
//! handler a plain function.

use fink_plugin_api::{export_plugin, info, Event, Registration, Result, Signal};

export_plugin! {
    name: "say-hello",
    description: "Greets you when fink starts and says goodbye when it ends",
    register: register,
}

/// Lists everything this plugin does: two subscriptions.
fn register(plugin: &mut Registration) -> Result<()> {
    plugin.on(Signal::INITIALIZED, say_hello);
    // Run late so the goodbye comes after other plugins' closing words.
    plugin.on_with_order(Signal::FINALIZED, 2000, say_bye);
    Ok(())
}

fn say_hello(event: &mut Event) -> Result<()> {
    info!("{}", greeting(event.user()));
    Ok(())
}

fn say_bye(event: &mut Event) -> Result<()> {
    info!("{}", farewell(event.user(), event.error().is_some()));
    Ok(())
}

fn greeting(user: Option<&str>) -> String {
    format!("MoinMoin {}!", user.unwrap_or("stranger"))
}

fn farewell(user: Option<&str>, failed: bool) -> String {
    let user = user.unwrap_or("stranger");
    if failed {
        format!("Sorry it didn't work out this time, {user}. Bye!")
    } else {
        format!("Bye {user}. Talk to you soon!")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn greets_by_name_or_as_stranger() {
        assert_eq!(greeting(Some("ana")), "MoinMoin ana!");
        assert_eq!(greeting(None), "MoinMoin stranger!");
    }

    #[test]
    fn goodbye_depends_on_the_outcome() {
        assert_eq!(farewell(Some("ana"), false), "Bye ana. Talk to you soon!");
        assert!(farewell(Some("ana"), true).starts_with("Sorry"));
    }

    #[test]
    fn handlers_read_the_user_from_the_context() {
        let mut event = Event::new(Signal::INITIALIZED, r#"{"user":"ana"}"#, "{}");
        assert!(say_hello(&mut event).is_ok());
        assert!(event.into_changes().context.is_none());
    }
}
