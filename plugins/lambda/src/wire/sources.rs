//! `lambda.lambda.events` read into event sources.
//!
//! Two forms are accepted:
//!
//! * gcdt's list: `[{"event_source": {...}}, ...]` (the `event_source` wrapper may be left out).
//!   The keys of each source decide its kind:
//!   - `schedule` (+ `name`, optional `description`): an EventBridge rule with that ScheduleExpression;
//!   - `pattern` (an object, + `name`, optional `description`): an EventBridge rule with that EventPattern;
//!   - either rule may have `input_path` (e.g. `$.detail`): the part of the event the function gets;
//!   - `arn` `arn:aws:s3:::BUCKET` + `events` (list), optional `prefix`, `suffix`: an S3 notification;
//!   - `arn` `arn:aws:sns:...`: an SNS subscription;
//!   - `arn` `arn:aws:cloudfront::ACCOUNT:distribution/ID` + `cloudfront_event` (viewer-request,
//!     viewer-response, origin-request or origin-response), optional `path_pattern` (the cache
//!     behaviour; default: the default one) and `include_body`: a CloudFront trigger (Lambda@Edge);
//!   - `arn` `arn:aws:kinesis:...`, `arn:aws:dynamodb:...:table/T/stream/...` or `arn:aws:sqs:...`,
//!     optional `starting_position` (kinesis/dynamodb; default `LATEST`), `batch_size`, `enabled`
//!     (default true): a Lambda event source mapping.
//! * the map: `{"s3Sources": [...], "timeSchedules": [...]}` with exactly these keys:
//!   - `s3Sources[]`: `bucket` (required), `type` (the S3 event, default `s3:ObjectCreated:*`),
//!     optional `prefix`, `suffix`;
//!   - `timeSchedules[]`: `ruleName` (required), `scheduleExpression` (required), optional
//!     `ruleDescription`.

use fink_plugin_api::{Error, Result, Value};

use super::cloudfront::{Trigger, EVENTS};

/// One event source, as wire connects it.
#[derive(Debug, Clone, PartialEq)]
pub enum Source {
    /// An EventBridge rule: a schedule or an event pattern (JSON text).
    Rule {
        name: String,
        description: Option<String>,
        schedule: Option<String>,
        pattern: Option<String>,
        /// The target's InputPath: the JSONPath of the part of the event the function gets.
        input_path: Option<String>,
    },
    S3 {
        bucket: String,
        events: Vec<String>,
        prefix: Option<String>,
        suffix: Option<String>,
    },
    Sns {
        topic_arn: String,
    },
    /// A CloudFront trigger (Lambda@Edge).
    CloudFront(Trigger),
    /// Kinesis, DynamoDB streams and SQS: an event source mapping.
    Mapping {
        arn: String,
        starting_position: Option<String>,
        batch_size: Option<i32>,
        enabled: bool,
    },
}

impl Source {
    /// How the report names this source, e.g. `schedule rule 'nightly'`.
    pub fn label(&self) -> String {
        match self {
            Source::Rule { name, schedule: Some(_), .. } => format!("schedule rule '{name}'"),
            Source::Rule { name, .. } => format!("pattern rule '{name}'"),
            Source::S3 { bucket, events, .. } => format!("s3 bucket '{bucket}' ({})", events.join(", ")),
            Source::Sns { topic_arn } => format!("sns topic '{topic_arn}'"),
            Source::Mapping { arn, .. } => format!("{} '{arn}'", service(arn).unwrap_or("stream")),
            Source::CloudFront(t) => {
                format!("cloudfront distribution '{}' ({}, {})", t.distribution, t.event, t.behaviour())
            }
        }
    }
}

/// The event sources of `lambda.lambda.events`; none when it is absent.
pub fn parse(events: Option<&Value>) -> Result<Vec<Source>> {
    match events {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::Array(items)) => items
            .iter()
            .enumerate()
            .map(|(i, item)| {
                let at = format!("lambda.lambda.events[{i}]");
                let source = item.get("event_source").unwrap_or(item);
                from_list_item(source).map_err(|e| Error::new(format!("{at}: {e}")).with_help(list_help()))
            })
            .collect(),
        Some(Value::Object(map)) => {
            let mut sources = Vec::new();
            for (key, value) in map {
                if !matches!(key.as_str(), "s3Sources" | "timeSchedules") {
                    return Err(Error::new(format!("lambda.lambda.events.{key}: unknown key"))
                        .with_help("the map form accepts s3Sources and timeSchedules"));
                }
                let items = value
                    .as_array()
                    .ok_or_else(|| Error::new(format!("lambda.lambda.events.{key}: expected a list")))?;
                for (i, item) in items.iter().enumerate() {
                    let at = format!("lambda.lambda.events.{key}[{i}]");
                    let source = match key.as_str() {
                        "s3Sources" => from_s3_source(item),
                        _ => from_time_schedule(item),
                    };
                    sources.push(source.map_err(|e| Error::new(format!("{at}: {e}")))?);
                }
            }
            Ok(sources)
        }
        Some(_) => Err(Error::new("lambda.lambda.events: expected a list or a map").with_help(list_help())),
    }
}

fn list_help() -> &'static str {
    "an event source has `schedule` and `name`, `pattern` and `name`, or an `arn` of S3 (with `events`), \
     SNS, Kinesis, DynamoDB streams, SQS or a CloudFront distribution (with `cloudfront_event`)"
}

fn from_list_item(source: &Value) -> Result<Source, String> {
    if !source.is_object() {
        return Err("expected an object".into());
    }
    if let Some(schedule) = source.get("schedule") {
        let schedule = schedule.as_str().ok_or("`schedule` must be a string")?;
        return Ok(Source::Rule {
            name: rule_name(source, "name")?,
            description: text(source, "description")?,
            schedule: Some(schedule.to_string()),
            pattern: None,
            input_path: input_path(source)?,
        });
    }
    if let Some(pattern) = source.get("pattern") {
        if !pattern.is_object() {
            return Err("`pattern` must be an object (an EventBridge event pattern)".into());
        }
        return Ok(Source::Rule {
            name: rule_name(source, "name")?,
            description: text(source, "description")?,
            schedule: None,
            pattern: Some(pattern.to_string()),
            input_path: input_path(source)?,
        });
    }
    let arn = text(source, "arn")?.ok_or("unknown event source: no `schedule`, `pattern` or `arn`")?;
    match service(&arn) {
        Some("s3") => {
            let bucket = arn.rsplit(':').next().unwrap_or_default().to_string();
            if bucket.is_empty() || bucket.contains('/') {
                return Err(format!("`arn` '{arn}' is not a bucket ARN (arn:aws:s3:::BUCKET)"));
            }
            let events: Vec<String> = match source.get("events") {
                Some(Value::Array(list)) => list
                    .iter()
                    .map(|e| e.as_str().map(String::from).ok_or("`events` must be a list of strings"))
                    .collect::<Result<_, _>>()?,
                Some(Value::String(one)) => vec![one.clone()],
                _ => return Err("an S3 source needs `events`, e.g. [\"s3:ObjectCreated:*\"]".into()),
            };
            if events.is_empty() {
                return Err("`events` is empty".into());
            }
            Ok(Source::S3 { bucket, events, prefix: text(source, "prefix")?, suffix: text(source, "suffix")? })
        }
        Some("sns") => Ok(Source::Sns { topic_arn: arn }),
        Some("kinesis" | "sqs") => mapping(source, arn),
        Some("dynamodb") if arn.contains("/stream/") => mapping(source, arn),
        Some("cloudfront") => cloudfront(source, &arn),
        _ => Err(format!(
            "unknown event source arn '{arn}' (not S3, SNS, Kinesis, a DynamoDB stream, SQS or a CloudFront distribution)"
        )),
    }
}

fn cloudfront(source: &Value, arn: &str) -> Result<Source, String> {
    let distribution = arn
        .rsplit(':')
        .next()
        .and_then(|r| r.strip_prefix("distribution/"))
        .filter(|id| !id.is_empty() && !id.contains('/'))
        .ok_or_else(|| {
            format!("`arn` '{arn}' is not a distribution ARN (arn:aws:cloudfront::ACCOUNT:distribution/ID)")
        })?;
    let event = text(source, "cloudfront_event")?
        .ok_or_else(|| format!("a CloudFront trigger needs `cloudfront_event`: one of {}", EVENTS.join(", ")))?;
    if !EVENTS.contains(&event.as_str()) {
        return Err(format!("`cloudfront_event` '{event}' is not one of {}", EVENTS.join(", ")));
    }
    let include_body = match source.get("include_body") {
        None | Some(Value::Null) => false,
        Some(flag) => flag.as_bool().ok_or("`include_body` must be true or false")?,
    };
    Ok(Source::CloudFront(Trigger {
        distribution: distribution.to_string(),
        path_pattern: text(source, "path_pattern")?.filter(|p| !p.is_empty() && p != "*"),
        event,
        include_body,
    }))
}

fn mapping(source: &Value, arn: String) -> Result<Source, String> {
    let batch_size = match source.get("batch_size") {
        None | Some(Value::Null) => None,
        Some(size) => Some(
            size.as_i64()
                .and_then(|n| i32::try_from(n).ok())
                .filter(|n| *n > 0)
                .ok_or("`batch_size` must be a positive integer")?,
        ),
    };
    let enabled = match source.get("enabled") {
        None | Some(Value::Null) => true,
        Some(flag) => flag.as_bool().ok_or("`enabled` must be true or false")?,
    };
    let starting_position = match text(source, "starting_position")? {
        Some(position) => Some(position),
        None if service(&arn) == Some("sqs") => None,
        None => Some("LATEST".to_string()),
    };
    Ok(Source::Mapping { arn, starting_position, batch_size, enabled })
}

fn from_s3_source(item: &Value) -> Result<Source, String> {
    let bucket = text(item, "bucket")?.filter(|b| !b.is_empty()).ok_or("needs `bucket`")?;
    let event = text(item, "type")?.unwrap_or_else(|| "s3:ObjectCreated:*".to_string());
    Ok(Source::S3 { bucket, events: vec![event], prefix: text(item, "prefix")?, suffix: text(item, "suffix")? })
}

fn from_time_schedule(item: &Value) -> Result<Source, String> {
    let schedule = text(item, "scheduleExpression")?.ok_or("needs `scheduleExpression`")?;
    Ok(Source::Rule {
        name: rule_name(item, "ruleName")?,
        description: text(item, "ruleDescription")?,
        schedule: Some(schedule),
        pattern: None,
        input_path: None,
    })
}

/// A rule's `input_path`: a JSONPath, which EventBridge wants to start with `$`.
fn input_path(source: &Value) -> Result<Option<String>, String> {
    match text(source, "input_path")? {
        Some(path) if !path.starts_with('$') => {
            Err(format!("`input_path` '{path}' must be a JSONPath starting with `$`"))
        }
        path => Ok(path),
    }
}

/// The service of an ARN (`arn:PARTITION:SERVICE:...`).
pub fn service(arn: &str) -> Option<&str> {
    let mut parts = arn.split(':');
    (parts.next() == Some("arn")).then_some(())?;
    parts.next()?;
    parts.next()
}

fn text(source: &Value, key: &str) -> Result<Option<String>, String> {
    match source.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(format!("`{key}` must be a string")),
    }
}

fn rule_name(source: &Value, key: &str) -> Result<String, String> {
    let name = text(source, key)?.ok_or(format!("a rule needs `{key}`"))?;
    let valid = !name.is_empty()
        && name.len() <= 64
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_'));
    if valid {
        Ok(name)
    } else {
        Err(format!("`{key}` '{name}' is not a valid rule name (1-64 of A-Z a-z 0-9 . - _)"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn reads_gcdts_list_form() {
        let sources = parse(Some(&json!([
            {"event_source": {"name": "nightly", "schedule": "rate(1 day)", "description": "d"}},
            {"event_source": {"name": "on-ec2", "pattern": {"source": ["aws.ec2"]}, "input_path": "$.detail"}},
            {"event_source": {"arn": "arn:aws:s3:::photos", "events": ["s3:ObjectCreated:*"], "suffix": ".jpg"}},
            {"event_source": {"arn": "arn:aws:sns:eu-west-1:123456789012:topic"}},
            {"event_source": {"arn": "arn:aws:kinesis:eu-west-1:123456789012:stream/s", "batch_size": 50,
                              "starting_position": "TRIM_HORIZON"}},
            {"arn": "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/2017", "enabled": false},
            {"event_source": {"arn": "arn:aws:sqs:eu-west-1:123456789012:q"}}
        ])))
        .unwrap();
        assert_eq!(sources.len(), 7);
        assert_eq!(
            sources[0],
            Source::Rule {
                name: "nightly".into(),
                description: Some("d".into()),
                schedule: Some("rate(1 day)".into()),
                pattern: None,
                input_path: None
            }
        );
        assert_eq!(sources[1].label(), "pattern rule 'on-ec2'");
        assert!(matches!(&sources[1], Source::Rule { input_path: Some(p), .. } if p == "$.detail"));
        assert_eq!(
            sources[2],
            Source::S3 {
                bucket: "photos".into(),
                events: vec!["s3:ObjectCreated:*".into()],
                prefix: None,
                suffix: Some(".jpg".into())
            }
        );
        assert!(matches!(&sources[3], Source::Sns { topic_arn } if topic_arn.ends_with(":topic")));
        assert!(
            matches!(&sources[4], Source::Mapping { batch_size: Some(50), enabled: true, starting_position: Some(p), .. } if p == "TRIM_HORIZON")
        );
        assert!(
            matches!(&sources[5], Source::Mapping { enabled: false, starting_position: Some(p), .. } if p == "LATEST")
        );
        assert!(matches!(&sources[6], Source::Mapping { starting_position: None, .. }));
    }

    #[test]
    fn reads_the_map_form() {
        let sources = parse(Some(&json!({
            "s3Sources": [{"bucket": "b", "type": "s3:ObjectCreated:*", "suffix": ".jpg", "prefix": "x/"}],
            "timeSchedules": [{"ruleName": "r", "ruleDescription": "every minute", "scheduleExpression": "rate(1 minute)"}]
        })))
        .unwrap();
        assert_eq!(
            sources,
            vec![
                Source::S3 {
                    bucket: "b".into(),
                    events: vec!["s3:ObjectCreated:*".into()],
                    prefix: Some("x/".into()),
                    suffix: Some(".jpg".into())
                },
                Source::Rule {
                    name: "r".into(),
                    description: Some("every minute".into()),
                    schedule: Some("rate(1 minute)".into()),
                    pattern: None,
                    input_path: None
                },
            ]
        );
    }

    #[test]
    fn problems_name_the_event_source() {
        let err = |v| parse(Some(&v)).unwrap_err().to_string();
        assert!(err(json!([{"event_source": {"name": "x", "schedule": "rate(1 day)"}}, {"event_source": {"foo": 1}}]))
            .starts_with("lambda.lambda.events[1]: unknown event source"));
        assert!(err(json!([{"arn": "arn:aws:ec2:eu-west-1:1:instance/i"}]))
            .starts_with("lambda.lambda.events[0]: unknown event source arn"));
        assert!(err(json!([{"arn": "arn:aws:s3:::b"}])).contains("needs `events`"));
        assert!(err(json!([{"schedule": "rate(1 day)"}])).contains("a rule needs `name`"));
        assert!(err(json!([{"schedule": "rate(1 day)", "name": "a b"}])).contains("not a valid rule name"));
        assert!(err(json!([{"pattern": {}, "name": "p", "input_path": "detail"}])).contains("`input_path` 'detail'"));
        assert!(err(json!([{"pattern": {}, "name": "p", "input_path": 3}])).contains("`input_path` must be a string"));
        assert!(err(json!({"timeSchedules": [{"ruleName": "r"}]})).starts_with("lambda.lambda.events.timeSchedules[0]"));
        assert!(err(json!({"sqsSources": []})).contains("unknown key"));
        assert!(err(json!("x")).contains("expected a list or a map"));
        assert!(parse(None).unwrap().is_empty());
    }
}
