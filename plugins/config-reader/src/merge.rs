//! Deep merge of JSON objects: objects merge key by key, lists and scalars are replaced by the newer value.

use serde_json::{Map, Value};

/// Merges `top` into `base`; on conflicts `top` wins.
pub fn deep_merge(base: &mut Map<String, Value>, top: Map<String, Value>) {
    for (key, value) in top {
        match (base.get_mut(&key), value) {
            (Some(Value::Object(inner)), Value::Object(top_inner)) => deep_merge(inner, top_inner),
            (_, value) => {
                base.insert(key, value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn merged(base: Value, top: Value) -> Value {
        let (Value::Object(mut base), Value::Object(top)) = (base, top) else { panic!("objects only") };
        deep_merge(&mut base, top);
        Value::Object(base)
    }

    #[test]
    fn objects_merge_recursively_and_top_wins() {
        let base = json!({"cloud": {"stack": "base", "region": "eu-west-1"}, "only_base": 1});
        let top = json!({"cloud": {"stack": "dev"}, "only_top": 2});
        assert_eq!(
            merged(base, top),
            json!({"cloud": {"stack": "dev", "region": "eu-west-1"}, "only_base": 1, "only_top": 2})
        );
    }

    #[test]
    fn lists_and_scalars_are_replaced_not_merged() {
        let base = json!({"tags": ["a", "b"], "size": {"min": 1}, "name": "x"});
        let top = json!({"tags": ["c"], "size": 3, "name": {"first": "y"}});
        assert_eq!(merged(base, top), json!({"tags": ["c"], "size": 3, "name": {"first": "y"}}));
    }
}

/// Property tests: the env file wins, merging is idempotent, what the env file doesn't touch survives.
#[cfg(test)]
mod proptests {
    use super::*;
    use proptest::prelude::*;
    use proptest::test_runner::Config;

    /// Few key names, so the two sides share keys at every depth.
    fn key() -> impl Strategy<Value = String> {
        proptest::sample::select(vec!["a", "b", "c", "d"]).prop_map(String::from)
    }

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            (0..4i64).prop_map(Value::from),
            "[xy]{0,2}".prop_map(Value::String),
            Just(Value::Array(vec![])),
            Just(Value::Object(Map::new())),
        ];
        leaf.prop_recursive(4, 30, 4, |inner| {
            prop_oneof![
                proptest::collection::vec(inner.clone(), 1..3).prop_map(Value::Array),
                object(inner).prop_map(Value::Object),
            ]
        })
    }

    fn object(inner: impl Strategy<Value = Value>) -> impl Strategy<Value = Map<String, Value>> {
        proptest::collection::btree_map(key(), inner, 0..4).prop_map(|m| m.into_iter().collect())
    }

    fn merged(base: &Map<String, Value>, top: &Map<String, Value>) -> Map<String, Value> {
        let mut result = base.clone();
        deep_merge(&mut result, top.clone());
        result
    }

    /// Every path to a non-object value, and to every object, with what is there.
    fn paths(map: &Map<String, Value>) -> Vec<(Vec<String>, Value)> {
        fn walk(value: &Value, path: &mut Vec<String>, out: &mut Vec<(Vec<String>, Value)>) {
            out.push((path.clone(), value.clone()));
            if let Value::Object(map) = value {
                for (key, child) in map {
                    path.push(key.clone());
                    walk(child, path, out);
                    path.pop();
                }
            }
        }
        let mut out = Vec::new();
        for (key, child) in map {
            walk(child, &mut vec![key.clone()], &mut out);
        }
        out
    }

    fn at<'a>(map: &'a Map<String, Value>, path: &[String]) -> Option<&'a Value> {
        let (first, rest) = path.split_first()?;
        rest.iter().try_fold(map.get(first)?, |value, key| value.as_object()?.get(key))
    }

    /// Whether `top` sets something at `path` or above it that replaces what `base` has there:
    /// a non-object at a prefix, or anything at `path` itself.
    fn touched(top: &Map<String, Value>, path: &[String]) -> bool {
        (1..=path.len()).any(|n| match at(top, &path[..n]) {
            None => false,
            Some(Value::Object(_)) => n == path.len(),
            Some(_) => true,
        })
    }

    proptest! {
        #![proptest_config(Config { cases: 3000, failure_persistence: None, ..Config::default() })]

        #[test]
        fn every_value_of_the_env_file_is_in_the_result(base in object(value()), top in object(value())) {
            let result = merged(&base, &top);
            for (path, value) in paths(&top) {
                let got = at(&result, &path);
                match value {
                    // An object merges: it is an object in the result, with more keys maybe.
                    Value::Object(_) => prop_assert!(matches!(got, Some(Value::Object(_))), "{path:?}: {got:?}"),
                    value => prop_assert_eq!(got, Some(&value), "{:?}", path),
                }
            }
        }

        #[test]
        fn merging_the_same_file_again_changes_nothing(base in object(value()), top in object(value())) {
            let once = merged(&base, &top);
            prop_assert_eq!(merged(&once, &top), once);
        }

        #[test]
        fn base_values_the_env_file_does_not_set_survive(base in object(value()), top in object(value())) {
            let result = merged(&base, &top);
            for (path, value) in paths(&base) {
                if touched(&top, &path) {
                    continue;
                }
                match value {
                    Value::Object(_) => prop_assert!(matches!(at(&result, &path), Some(Value::Object(_))), "{:?}", path),
                    value => prop_assert_eq!(at(&result, &path), Some(&value), "{:?}", path),
                }
            }
        }

        /// And nothing else: each value in the result comes from the env file or the base, at the same place.
        #[test]
        fn every_value_of_the_result_comes_from_one_side(base in object(value()), top in object(value())) {
            let result = merged(&base, &top);
            for (path, value) in paths(&result) {
                if value.is_object() {
                    prop_assert!(at(&top, &path).is_some_and(Value::is_object) || at(&base, &path).is_some_and(Value::is_object));
                } else if touched(&top, &path) {
                    prop_assert_eq!(at(&top, &path), Some(&value), "{:?}", path);
                } else {
                    prop_assert_eq!(at(&base, &path), Some(&value), "{:?}", path);
                }
            }
        }
    }
}
