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
