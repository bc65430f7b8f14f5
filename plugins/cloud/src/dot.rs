//! `cloud dot`: the template's resources as a Graphviz graph, with an edge for every Ref,
//! Fn::GetAtt, DependsOn and Fn::Sub reference between resources, and local nested templates as
//! clusters.

use std::collections::BTreeSet;

use fink_plugin_api::Value;
use serde_json::Map;

/// A nested template, drawn as a cluster inside its parent's graph.
pub struct Child {
    pub logical_id: String,
    pub source: String,
    pub resources: Map<String, Value>,
    pub children: Vec<Child>,
}

/// The graph in Graphviz's dot language; resources and edges sorted, so the text is stable.
#[cfg(test)]
pub fn render(resources: &Map<String, Value>) -> String {
    render_tree(resources, &[])
}

/// The graph with each local nested template as a cluster next to its stack resource (names
/// inside it are `<stack resource>/<resource>`), with a dashed edge from the resource to it.
pub fn render_tree(resources: &Map<String, Value>, children: &[Child]) -> String {
    let mut out = String::from(
        "digraph cloudformation {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n",
    );
    if !children.is_empty() {
        out.push_str("  compound=true;\n");
    }
    body(resources, "", &mut out);
    for child in children {
        cluster(child, "", &mut out);
    }
    out.push_str("}\n");
    out
}

fn cluster(child: &Child, prefix: &str, out: &mut String) {
    let inner = format!("{prefix}{}/", child.logical_id);
    out.push_str(&format!("  subgraph \"cluster_{inner}\" {{\n  label=\"{}: {}\";\n", child.logical_id, child.source));
    body(&child.resources, &inner, out);
    for grandchild in &child.children {
        cluster(grandchild, &inner, out);
    }
    out.push_str("  }\n");
    if let Some(first) = child.resources.keys().next() {
        out.push_str(&format!(
            "  \"{prefix}{}\" -> \"{inner}{first}\" [style=dashed, lhead=\"cluster_{inner}\", label=\"nested\"];\n",
            child.logical_id
        ));
    }
}

/// The nodes, then the edges, of one template's resources, named with `prefix`.
fn body(resources: &Map<String, Value>, prefix: &str, out: &mut String) {
    for (name, resource) in resources {
        let kind = resource.get("Type").and_then(Value::as_str).unwrap_or("?");
        out.push_str(&format!("  \"{prefix}{name}\" [label=\"{name}\\n{kind}\"];\n"));
    }
    let mut edges = BTreeSet::new();
    for (name, resource) in resources {
        let mut refs = Vec::new();
        references(resource.get("Properties").unwrap_or(&Value::Null), &mut refs);
        for (target, kind) in refs {
            if resources.contains_key(&target) && target != *name {
                edges.insert((name.clone(), target, kind));
            }
        }
        let depends = match resource.get("DependsOn") {
            Some(Value::String(s)) => vec![s.clone()],
            Some(Value::Array(items)) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
            _ => Vec::new(),
        };
        for target in depends.into_iter().filter(|t| resources.contains_key(t)) {
            edges.insert((name.clone(), target, "DependsOn"));
        }
    }
    for (from, to, kind) in edges {
        out.push_str(&format!("  \"{prefix}{from}\" -> \"{prefix}{to}\" [label=\"{kind}\"];\n"));
    }
}

/// Collects (resource, kind) references anywhere in a value.
fn references(value: &Value, out: &mut Vec<(String, &'static str)>) {
    match value {
        Value::Object(map) => {
            if let Some(Value::String(target)) = map.get("Ref") {
                out.push((target.clone(), "Ref"));
            }
            match map.get("Fn::GetAtt") {
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(target)) = parts.first() {
                        out.push((target.clone(), "GetAtt"));
                    }
                }
                Some(Value::String(s)) => out.push((s.split('.').next().unwrap_or_default().to_string(), "GetAtt")),
                _ => {}
            }
            match map.get("Fn::Sub") {
                Some(Value::String(text)) => sub_references(text, out),
                Some(Value::Array(parts)) => {
                    if let Some(Value::String(text)) = parts.first() {
                        sub_references(text, out);
                    }
                }
                _ => {}
            }
            for child in map.values() {
                references(child, out);
            }
        }
        Value::Array(items) => items.iter().for_each(|v| references(v, out)),
        _ => {}
    }
}

/// `${Name}` and `${Name.Attr}` in a Fn::Sub string (`${!Literal}` is not a reference).
fn sub_references(text: &str, out: &mut Vec<(String, &'static str)>) {
    let mut rest = text;
    while let Some(start) = rest.find("${") {
        let after = &rest[start + 2..];
        let Some(end) = after.find('}') else { break };
        let inner = &after[..end];
        if !inner.starts_with('!') {
            out.push((inner.split('.').next().unwrap_or_default().to_string(), "Sub"));
        }
        rest = &after[end + 1..];
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use fink_plugin_api::json;

    #[test]
    fn every_kind_of_reference_becomes_an_edge() {
        let resources = json!({
            "Bucket": {"Type": "AWS::S3::Bucket"},
            "Role": {"Type": "AWS::IAM::Role"},
            "Fn": {"Type": "AWS::Lambda::Function", "DependsOn": "Role",
                   "Properties": {"Role": {"Fn::GetAtt": ["Role", "Arn"]},
                                  "Env": {"B": {"Ref": "Bucket"}, "P": {"Ref": "AWS::Region"}},
                                  "Name": {"Fn::Sub": "${Bucket}-${AWS::StackName}-${!Literal}"}}}
        });
        let dot = render(resources.as_object().unwrap());
        assert_eq!(
            dot,
            "digraph cloudformation {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\"];\n\
             \x20 \"Bucket\" [label=\"Bucket\\nAWS::S3::Bucket\"];\n\
             \x20 \"Fn\" [label=\"Fn\\nAWS::Lambda::Function\"];\n\
             \x20 \"Role\" [label=\"Role\\nAWS::IAM::Role\"];\n\
             \x20 \"Fn\" -> \"Bucket\" [label=\"Ref\"];\n\
             \x20 \"Fn\" -> \"Bucket\" [label=\"Sub\"];\n\
             \x20 \"Fn\" -> \"Role\" [label=\"DependsOn\"];\n\
             \x20 \"Fn\" -> \"Role\" [label=\"GetAtt\"];\n}\n"
        );
    }
}
