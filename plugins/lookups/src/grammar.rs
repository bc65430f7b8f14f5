//! The lookup grammar, following gcdt/fink:
//! `lookup:stack:<stack>[:<output>]`, `lookup:parameter:<name>`, `lookup:secret:<name>[.key]`,
//! `lookup:acm:<host1>:...:<hostN>`, each optionally prefixed by `region:<region>:` and suffixed by
//! `:CONTINUE_IF_NOT_FOUND` (or gcdt's `:optional` for stacks).

/// What to look up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// One output, or all outputs when `output` is `None`.
    Stack { stack: String, output: Option<String> },
    /// An SSM parameter (SecureString decrypted).
    Parameter { name: String },
    /// A Secrets Manager secret; `name.key` reads a key of a JSON secret.
    Secret { name: String },
    /// The ARN of the ISSUED certificate covering every host.
    Acm { hosts: Vec<String> },
}

impl Kind {
    /// The type word as used in `plugins.lookups.lookups`.
    pub fn type_name(&self) -> &'static str {
        match self {
            Kind::Stack { .. } => "stack",
            Kind::Parameter { .. } => "parameter",
            Kind::Secret { .. } => "secret",
            Kind::Acm { .. } => "acm",
        }
    }
}

/// A parsed lookup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lookup {
    pub kind: Kind,
    /// From `region:<region>:`; otherwise the default region applies.
    pub region: Option<String>,
    /// `:CONTINUE_IF_NOT_FOUND` / `:optional`: a missing value becomes empty with a warning.
    pub optional: bool,
}

/// Every lookup type this plugin knows (`region` is a prefix, not a type of its own).
pub const TYPES: &[&str] = &["stack", "parameter", "secret", "acm"];

/// Whether a config string is a lookup at all.
pub fn is_lookup(value: &str) -> bool {
    value.starts_with("lookup:")
}

/// Parses `lookup:...`; the error says what is wrong with it.
pub fn parse(raw: &str) -> Result<Lookup, String> {
    let body = raw.strip_prefix("lookup:").ok_or("not a lookup")?;
    let mut parts: Vec<&str> = body.split(':').collect();
    let mut optional = false;
    if parts.last() == Some(&"CONTINUE_IF_NOT_FOUND") {
        optional = true;
        parts.pop();
    }
    let mut region = None;
    if parts.first() == Some(&"region") {
        let name = parts.get(1).copied().unwrap_or_default();
        if !is_region(name) {
            return Err(format!("'{name}' is not a region (expected e.g. lookup:region:us-east-1:stack:<stack>)"));
        }
        region = Some(name.to_string());
        parts.drain(..2);
    }
    let kind = match parts.as_slice() {
        ["stack", stack, rest @ ..] if !stack.is_empty() => {
            let rest = match rest {
                [head @ .., "optional"] => {
                    optional = true;
                    head
                }
                other => other,
            };
            match rest {
                [] => Kind::Stack { stack: stack.to_string(), output: None },
                [output] if !output.is_empty() => {
                    Kind::Stack { stack: stack.to_string(), output: Some(output.to_string()) }
                }
                _ => return Err("expected lookup:stack:<stack> or lookup:stack:<stack>:<output>".into()),
            }
        }
        ["stack", ..] => return Err("expected lookup:stack:<stack> or lookup:stack:<stack>:<output>".into()),
        ["parameter", name] if !name.is_empty() => Kind::Parameter { name: name.to_string() },
        ["parameter", ..] => return Err("expected lookup:parameter:<name> (names cannot contain ':')".into()),
        ["secret", name] if !name.is_empty() => Kind::Secret { name: name.to_string() },
        ["secret", ..] => return Err("expected lookup:secret:<name> (names cannot contain ':')".into()),
        ["acm", hosts @ ..] if !hosts.is_empty() && hosts.iter().all(|h| !h.is_empty()) => {
            Kind::Acm { hosts: hosts.iter().map(|h| h.to_lowercase()).collect() }
        }
        ["acm", ..] => return Err("expected lookup:acm:<host>[:<host>...]".into()),
        [old @ ("ssl" | "baseami"), ..] => {
            return Err(format!("lookup type '{old}' was retired by gcdt; use lookup:acm or lookup:parameter"))
        }
        [other, ..] => {
            return Err(format!("unknown lookup type '{other}' (known: {}, and the region: prefix)", TYPES.join(", ")))
        }
        [] => return Err("empty lookup".into()),
    };
    Ok(Lookup { kind, region, optional })
}

/// `us-east-1`, `eu-central-2`, `us-gov-west-1`, `cn-north-1`: lowercase words and a number.
fn is_region(name: &str) -> bool {
    let parts: Vec<&str> = name.split('-').collect();
    parts.len() >= 3
        && parts.iter().take(parts.len() - 1).all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts.last().is_some_and(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn stack(stack: &str, output: Option<&str>) -> Kind {
        Kind::Stack { stack: stack.into(), output: output.map(Into::into) }
    }

    #[test]
    fn every_form_parses() {
        assert_eq!(parse("lookup:stack:infra:VpcId").unwrap().kind, stack("infra", Some("VpcId")));
        assert_eq!(parse("lookup:stack:infra").unwrap().kind, stack("infra", None));
        let opt = parse("lookup:stack:infra:VpcId:optional").unwrap();
        assert!(opt.optional);
        assert_eq!(opt.kind, stack("infra", Some("VpcId")));
        let p = parse("lookup:parameter:/app/db.host:CONTINUE_IF_NOT_FOUND").unwrap();
        assert_eq!(p.kind, Kind::Parameter { name: "/app/db.host".into() });
        assert!(p.optional);
        assert_eq!(parse("lookup:secret:slack.webhook").unwrap().kind, Kind::Secret { name: "slack.webhook".into() });
        assert_eq!(
            parse("lookup:acm:foo.example.com:Bar.example.com").unwrap().kind,
            Kind::Acm { hosts: vec!["foo.example.com".into(), "bar.example.com".into()] }
        );
        let r = parse("lookup:region:us-east-1:stack:infra:VpcId").unwrap();
        assert_eq!(r.region.as_deref(), Some("us-east-1"));
        assert_eq!(r.kind, stack("infra", Some("VpcId")));
    }

    #[test]
    fn malformed_and_unknown_lookups_are_errors() {
        assert!(parse("lookup:stack").unwrap_err().contains("expected lookup:stack:<stack>"));
        assert!(parse("lookup:stack:a:b:c").is_err());
        assert!(parse("lookup:parameter:a:b").unwrap_err().contains("cannot contain ':'"));
        assert!(parse("lookup:acm").is_err());
        assert!(parse("lookup:nope:x").unwrap_err().contains("unknown lookup type 'nope'"));
        assert!(parse("lookup:ssl:x").unwrap_err().contains("retired"));
        assert!(parse("lookup:region:mars:stack:a").unwrap_err().contains("'mars' is not a region"));
        assert!(parse("lookup:").is_err());
    }
}

/// Property tests: every lookup written out parses back to itself; anything else is an error
/// that says what is wrong, never a panic.
#[cfg(test)]
pub mod proptests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    const SUFFIX: &str = "CONTINUE_IF_NOT_FOUND";

    /// A name as the grammar allows it: no `:`, not empty, and not the optional suffix (which, last,
    /// would be read as the suffix).
    fn name() -> impl Strategy<Value = String> {
        prop_oneof!["[A-Za-z0-9/._-]{1,16}", "[^:]{1,8}", Just("optional".to_string()), Just("region".to_string())]
            .prop_filter("the suffix", |n| n != SUFFIX)
    }

    fn region() -> impl Strategy<Value = String> {
        "[a-z]{2,5}(-[a-z]{2,9}){1,2}-[0-9]{1,2}"
    }

    fn kind() -> impl Strategy<Value = Kind> {
        prop_oneof![
            (name(), proptest::option::of(name())).prop_map(|(stack, output)| Kind::Stack { stack, output }),
            name().prop_map(|name| Kind::Parameter { name }),
            name().prop_map(|name| Kind::Secret { name }),
            // Hosts are compared case-insensitively, so the parser lowercases them.
            proptest::collection::vec("[a-z0-9*.-]{1,12}", 1..4).prop_map(|hosts| Kind::Acm { hosts }),
        ]
    }

    fn lookup() -> impl Strategy<Value = Lookup> {
        (kind(), proptest::option::of(region()), any::<bool>())
            .prop_map(|(kind, region, optional)| Lookup { kind, region, optional })
            // A stack output named `optional` can only be read as optional (`...:optional:optional`).
            .prop_filter("inexpressible", |l| {
                l.optional || !matches!(&l.kind, Kind::Stack { output: Some(o), .. } if o == "optional")
            })
    }

    /// `lookup` as text; `spelling` picks among the ways to write an optional stack lookup.
    fn render(lookup: &Lookup, spelling: u8) -> String {
        let mut parts = vec!["lookup".to_string()];
        if let Some(region) = &lookup.region {
            parts.extend(["region".to_string(), region.clone()]);
        }
        parts.push(lookup.kind.type_name().to_string());
        match &lookup.kind {
            Kind::Stack { stack, output } => {
                parts.push(stack.clone());
                parts.extend(output.clone());
            }
            Kind::Parameter { name } | Kind::Secret { name } => parts.push(name.clone()),
            Kind::Acm { hosts } => parts.extend(hosts.iter().cloned()),
        }
        if lookup.optional {
            let stack_output = match &lookup.kind {
                Kind::Stack { output, .. } => Some(output.as_deref()),
                _ => None,
            };
            // `:optional` is gcdt's spelling for stacks; it must be used for an output named `optional`.
            let suffixes: &[&str] = match stack_output {
                Some(Some("optional")) => &["optional", "optional:CONTINUE_IF_NOT_FOUND"],
                Some(_) => &["optional", SUFFIX, "optional:CONTINUE_IF_NOT_FOUND"],
                None => &[SUFFIX],
            };
            parts.push(suffixes[spelling as usize % suffixes.len()].to_string());
        }
        parts.join(":")
    }

    /// The reasons the docs list for round 1 (syntax).
    const REASONS: &[&str] = &[
        "expected lookup:stack:<stack> or lookup:stack:<stack>:<output>",
        "expected lookup:parameter:<name> (names cannot contain ':')",
        "expected lookup:secret:<name> (names cannot contain ':')",
        "expected lookup:acm:<host>[:<host>...]",
        "unknown lookup type '",
        "lookup type '",
        "' is not a region (expected e.g. lookup:region:us-east-1:stack:<stack>)",
        "empty lookup",
    ];

    /// Parts a broken lookup is made of.
    fn part() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::sample::select(vec![
                "stack",
                "parameter",
                "secret",
                "acm",
                "region",
                "us-east-1",
                "mars",
                "eu-west-",
                SUFFIX,
                "optional",
                "ssl",
                "baseami",
                "",
                " ",
                "Stack",
                "a",
                "b.c",
                "/p/q",
            ])
            .prop_map(String::from),
            "[^:]{0,6}",
        ]
    }

    pub fn broken_lookup() -> impl Strategy<Value = String> {
        prop_oneof![
            proptest::collection::vec(part(), 0..6).prop_map(|parts| format!("lookup:{}", parts.join(":"))),
            "lookup:\\PC{0,20}",
        ]
    }

    proptest! {
        #![proptest_config(Config { cases: 3000, failure_persistence: None, ..Config::default() })]

        #[test]
        fn every_lookup_written_out_parses_back((expected, spelling) in (lookup(), any::<u8>())) {
            let text = render(&expected, spelling);
            prop_assert!(is_lookup(&text));
            prop_assert_eq!(parse(&text), Ok(expected), "{}", text);
        }

        /// Whatever parses, parses again the same when written out: there is one meaning per lookup.
        #[test]
        fn any_lookup_text_parses_to_a_lookup_or_a_documented_reason(text in broken_lookup(), spelling in any::<u8>()) {
            match parse(&text) {
                Ok(lookup) => {
                    let again = render(&lookup, spelling);
                    prop_assert_eq!(parse(&again), Ok(lookup), "{} written as {}", text, again);
                }
                Err(reason) => {
                    prop_assert!(REASONS.iter().any(|r| reason.contains(r)), "{}: {}", text, reason);
                }
            }
        }

        /// Hosts in any case read as lowercase.
        #[test]
        fn acm_hosts_read_lowercase(hosts in proptest::collection::vec("[A-Za-z0-9*.-]{1,12}", 1..4)) {
            let parsed = parse(&format!("lookup:acm:{}", hosts.join(":")));
            let lower = hosts.iter().map(|h| h.to_lowercase()).collect();
            prop_assert_eq!(parsed.map(|l| l.kind), Ok(Kind::Acm { hosts: lower }));
        }
    }
}
