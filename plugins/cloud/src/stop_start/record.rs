//! The record `cloud stop` leaves on a resource it scales to zero: one tag per original value
//! (`fink:stopped:MinSize` = `1`, ...). Stop writes it before changing anything and never
//! overwrites it; start restores from it and then removes it. Pure decisions, no AWS calls.

use std::collections::BTreeMap;

/// The prefix of every record tag.
pub const PREFIX: &str = "fink:stopped:";

/// The tag that records `field`.
pub fn key(field: &str) -> String {
    format!("{PREFIX}{field}")
}

/// Values by field name, in the order the resource kind lists its fields.
pub type Values = Vec<(&'static str, i32)>;

/// What stop does with a resource whose current values are `current`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StopPlan {
    /// Write these tags (the current values), then scale to zero.
    Record(Vec<(String, String)>),
    /// An earlier stop recorded the original values: keep them, scale to zero if not already.
    Keep(Values),
    /// Already at zero and nothing recorded: there is nothing worth recording or changing.
    AlreadyZero,
}

/// Decides what stop does; errors (a damaged record) say which tag is wrong.
pub fn plan_stop(current: &Values, tags: &BTreeMap<String, String>) -> Result<StopPlan, String> {
    let fields: Vec<&'static str> = current.iter().map(|(field, _)| *field).collect();
    if let Some(recorded) = recorded(&fields, tags)? {
        return Ok(StopPlan::Keep(recorded));
    }
    if is_zero(current) {
        return Ok(StopPlan::AlreadyZero);
    }
    Ok(StopPlan::Record(current.iter().map(|(field, value)| (key(field), value.to_string())).collect()))
}

/// The values recorded by a stop, `None` when there is no record. A record missing some of
/// `fields`, or holding something other than a whole number, is an error naming the tag.
pub fn recorded(fields: &[&'static str], tags: &BTreeMap<String, String>) -> Result<Option<Values>, String> {
    let found: Vec<(&'static str, Option<&String>)> = fields.iter().map(|f| (*f, tags.get(&key(f)))).collect();
    if found.iter().all(|(_, value)| value.is_none()) {
        return Ok(None);
    }
    let mut values = Vec::new();
    for (field, value) in found {
        let tag = key(field);
        let value = value.ok_or_else(|| format!("the stop record is incomplete: tag {tag} is missing"))?;
        let number =
            value.trim().parse::<i32>().map_err(|_| format!("tag {tag} should hold a whole number, not '{value}'"))?;
        values.push((field, number));
    }
    Ok(Some(values))
}

/// The record's tag keys, for removing it after a start.
pub fn keys(fields: &[&'static str]) -> Vec<String> {
    fields.iter().map(|f| key(f)).collect()
}

pub fn is_zero(values: &Values) -> bool {
    values.iter().all(|(_, v)| *v == 0)
}

/// `1/3/2` for messages.
pub fn show(values: &Values) -> String {
    values.iter().map(|(_, v)| v.to_string()).collect::<Vec<_>>().join("/")
}

#[cfg(test)]
mod tests {
    use super::*;

    const FIELDS: [&str; 3] = ["MinSize", "MaxSize", "DesiredCapacity"];

    fn sizes(min: i32, max: i32, desired: i32) -> Values {
        vec![("MinSize", min), ("MaxSize", max), ("DesiredCapacity", desired)]
    }

    fn tags(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_first_stop_records_the_current_values() {
        let plan = plan_stop(&sizes(1, 3, 2), &tags(&[("team", "a")])).unwrap();
        assert_eq!(
            plan,
            StopPlan::Record(vec![
                ("fink:stopped:MinSize".into(), "1".into()),
                ("fink:stopped:MaxSize".into(), "3".into()),
                ("fink:stopped:DesiredCapacity".into(), "2".into()),
            ])
        );
    }

    #[test]
    fn a_second_stop_keeps_the_original_record() {
        let record = tags(&[
            ("fink:stopped:MinSize", "1"),
            ("fink:stopped:MaxSize", "3"),
            ("fink:stopped:DesiredCapacity", "2"),
        ]);
        // Already at zero after the first stop: the record survives, nothing new is written.
        assert_eq!(plan_stop(&sizes(0, 0, 0), &record).unwrap(), StopPlan::Keep(sizes(1, 3, 2)));
        // Scaled up again in between (e.g. by a deploy): still the original record.
        assert_eq!(plan_stop(&sizes(2, 4, 2), &record).unwrap(), StopPlan::Keep(sizes(1, 3, 2)));
    }

    #[test]
    fn a_resource_at_zero_without_a_record_is_left_alone() {
        assert_eq!(plan_stop(&sizes(0, 0, 0), &BTreeMap::new()).unwrap(), StopPlan::AlreadyZero);
        assert_eq!(plan_stop(&vec![("DesiredCount", 0)], &BTreeMap::new()).unwrap(), StopPlan::AlreadyZero);
    }

    #[test]
    fn start_restores_the_record_or_finds_none() {
        let record = tags(&[
            ("fink:stopped:MinSize", "1"),
            ("fink:stopped:MaxSize", "3"),
            ("fink:stopped:DesiredCapacity", "2"),
        ]);
        assert_eq!(recorded(&FIELDS, &record).unwrap(), Some(sizes(1, 3, 2)));
        assert_eq!(recorded(&FIELDS, &tags(&[("other", "1")])).unwrap(), None);
        assert_eq!(
            recorded(&["DesiredCount"], &tags(&[("fink:stopped:DesiredCount", "4")])).unwrap(),
            Some(vec![("DesiredCount", 4)])
        );
    }

    #[test]
    fn a_damaged_record_is_an_error_naming_the_tag() {
        let partial = tags(&[("fink:stopped:MinSize", "1"), ("fink:stopped:DesiredCapacity", "2")]);
        let err = recorded(&FIELDS, &partial).unwrap_err();
        assert!(err.contains("fink:stopped:MaxSize is missing"), "{err}");
        assert!(plan_stop(&sizes(1, 3, 2), &partial).is_err(), "stop must not write over a damaged record");
        let bad = tags(&[("fink:stopped:DesiredCount", "two")]);
        let err = recorded(&["DesiredCount"], &bad).unwrap_err();
        assert_eq!(err, "tag fink:stopped:DesiredCount should hold a whole number, not 'two'");
    }

    #[test]
    fn keys_and_display() {
        assert_eq!(keys(&FIELDS)[2], "fink:stopped:DesiredCapacity");
        assert_eq!(show(&sizes(1, 3, 2)), "1/3/2");
        assert!(is_zero(&sizes(0, 0, 0)) && !is_zero(&sizes(0, 1, 0)));
    }
}
