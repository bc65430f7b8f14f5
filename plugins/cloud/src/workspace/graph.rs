//! The dependency graph of a tree of projects: project A needs B when A looks up B's stack or
//! lists B's folder in `cloud.dependsOn`. Stacks outside the tree are external (looked up as
//! usual). Cycles and two projects with one stack name are errors naming them.

use std::collections::BTreeSet;
use std::path::Path;

use fink_plugin_api::{json, Error, Result, Value};

use super::discover::Project;

#[derive(Debug, Clone)]
pub struct Graph {
    pub projects: Vec<Project>,
    /// `needs[i]`: the projects project `i` needs, sorted.
    pub needs: Vec<Vec<usize>>,
}

impl Graph {
    pub fn build(projects: Vec<Project>) -> Result<Graph> {
        for (i, a) in projects.iter().enumerate() {
            if let Some(b) = projects[i + 1..].iter().find(|b| b.stack == a.stack) {
                return Err(Error::new(format!("projects {} and {} both deploy stack '{}'", a.name, b.name, a.stack))
                    .with_help("give each project its own cloud.stack.StackName"));
            }
        }
        let mut needs = Vec::new();
        for project in &projects {
            let mut mine = BTreeSet::new();
            for stack in &project.needs_stacks {
                if let Some(j) = projects.iter().position(|p| &p.stack == stack) {
                    mine.insert(j);
                }
            }
            for folder in &project.depends_on {
                let wanted = normalize(&project.dir.join(folder));
                let j = projects.iter().position(|p| normalize(&p.dir) == wanted).ok_or_else(|| {
                    Error::new(format!(
                        "{}: cloud.dependsOn names {folder}, which is not a project of the tree",
                        project.name
                    ))
                    .with_help("name a folder (relative to the project) that has a config with a cloud section")
                })?;
                mine.insert(j);
            }
            needs.push(mine.into_iter().collect());
        }
        let graph = Graph { projects, needs };
        if let Some(cycle) = graph.cycle() {
            let names: Vec<&str> = cycle.iter().map(|&i| graph.projects[i].name.as_str()).collect();
            return Err(Error::new(format!("the projects need each other in a circle: {}", names.join(" → ")))
                .with_help("a stack cannot look up one that looks it up; break the circle"));
        }
        Ok(graph)
    }

    /// A cycle as a path that ends where it starts, if there is one.
    fn cycle(&self) -> Option<Vec<usize>> {
        // 0 unseen, 1 on the current path, 2 done.
        let mut state = vec![0u8; self.projects.len()];
        let mut path = Vec::new();
        fn visit(g: &Graph, i: usize, state: &mut [u8], path: &mut Vec<usize>) -> Option<Vec<usize>> {
            state[i] = 1;
            path.push(i);
            for &j in &g.needs[i] {
                if state[j] == 1 {
                    let start = path.iter().position(|&k| k == j).unwrap_or(0);
                    let mut cycle = path[start..].to_vec();
                    cycle.push(j);
                    return Some(cycle);
                }
                if state[j] == 0 {
                    if let Some(cycle) = visit(g, j, state, path) {
                        return Some(cycle);
                    }
                }
            }
            path.pop();
            state[i] = 2;
            None
        }
        (0..self.projects.len()).find_map(|i| if state[i] == 0 { visit(self, i, &mut state, &mut path) } else { None })
    }

    /// The index of the project named `name` (its folder), or an error listing the names.
    pub fn find(&self, name: &str) -> Result<usize> {
        let name = name.trim_end_matches('/');
        self.projects.iter().position(|p| p.name == name || p.stack == name).ok_or_else(|| {
            let names: Vec<&str> = self.projects.iter().map(|p| p.name.as_str()).collect();
            Error::new(format!("no project '{name}' in the tree"))
                .with_help(format!("the projects: {}", names.join(", ")))
        })
    }

    /// The projects a run covers: with `only`, those and what they need; minus `exclude`.
    pub fn select(&self, only: &[String], exclude: &[String]) -> Result<Vec<bool>> {
        let mut selected = vec![only.is_empty(); self.projects.len()];
        for name in only {
            let mut stack = vec![self.find(name)?];
            while let Some(i) = stack.pop() {
                if !selected[i] {
                    selected[i] = true;
                    stack.extend(&self.needs[i]);
                }
            }
        }
        for name in exclude {
            selected[self.find(name)?] = false;
        }
        Ok(selected)
    }

    /// The selected projects in layers: each needs only projects of earlier layers (or
    /// unselected ones, taken as they are).
    pub fn layers(&self, selected: &[bool]) -> Vec<Vec<usize>> {
        let mut layer_of: Vec<Option<usize>> = vec![None; self.projects.len()];
        let mut layers: Vec<Vec<usize>> = Vec::new();
        loop {
            let ready: Vec<usize> = (0..self.projects.len())
                .filter(|&i| selected[i] && layer_of[i].is_none())
                .filter(|&i| self.needs[i].iter().all(|&j| !selected[j] || layer_of[j].is_some()))
                .collect();
            if ready.is_empty() {
                return layers;
            }
            for &i in &ready {
                layer_of[i] = Some(layers.len());
            }
            layers.push(ready);
        }
    }

    /// Every selected project that needs `i`, directly or not.
    pub fn dependents(&self, i: usize) -> Vec<usize> {
        let mut found = BTreeSet::new();
        let mut stack = vec![i];
        while let Some(k) = stack.pop() {
            for (j, needs) in self.needs.iter().enumerate() {
                if needs.contains(&k) && found.insert(j) {
                    stack.push(j);
                }
            }
        }
        found.into_iter().collect()
    }

    /// `cloud graph --all`: the layers as text.
    pub fn text(&self, selected: &[bool]) -> String {
        let mut out = String::new();
        for (n, layer) in self.layers(selected).iter().enumerate() {
            out.push_str(&format!("layer {}:\n", n + 1));
            for &i in layer {
                let p = &self.projects[i];
                let needs: Vec<&str> = self.needs[i].iter().map(|&j| self.projects[j].name.as_str()).collect();
                let needs = if needs.is_empty() { String::new() } else { format!(", needs {}", needs.join(", ")) };
                out.push_str(&format!("  {} (stack {}{needs})\n", p.name, p.stack));
            }
        }
        out
    }

    /// `--dot`: Graphviz, an edge from each project to what needs it.
    pub fn dot(&self, selected: &[bool]) -> String {
        let mut out = String::from("digraph projects {\n  rankdir=LR;\n");
        for (i, p) in self.projects.iter().enumerate().filter(|(i, _)| selected[*i]) {
            out.push_str(&format!("  \"{}\" [label=\"{}\\n{}\"];\n", p.name, p.name, p.stack));
            for &j in &self.needs[i] {
                if selected[j] {
                    out.push_str(&format!("  \"{}\" -> \"{}\";\n", self.projects[j].name, p.name));
                }
            }
        }
        out.push_str("}\n");
        out
    }

    /// `--json`: the projects and the layers, for a CI job matrix.
    pub fn json(&self, selected: &[bool]) -> Value {
        let name = |i: &usize| self.projects[*i].name.clone();
        let projects: Vec<Value> = (0..self.projects.len())
            .filter(|&i| selected[i])
            .map(|i| {
                let p = &self.projects[i];
                json!({"name": p.name, "dir": p.dir, "stack": p.stack, "needs": self.needs[i].iter().filter(|&&j| selected[j]).map(name).collect::<Vec<_>>()})
            })
            .collect();
        let layers: Vec<Vec<String>> = self.layers(selected).iter().map(|l| l.iter().map(name).collect()).collect();
        json!({"projects": projects, "layers": layers})
    }
}

/// The path with `.` and `..` resolved, without touching the file system.
fn normalize(path: &Path) -> std::path::PathBuf {
    let mut out = std::path::PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project(name: &str, needs: &[&str]) -> Project {
        Project {
            name: name.into(),
            dir: format!("/tree/{name}").into(),
            stack: format!("{name}-stack"),
            needs_stacks: needs.iter().map(|n| format!("{n}-stack")).collect(),
            depends_on: Vec::new(),
        }
    }

    fn tree() -> Graph {
        Graph::build(vec![
            project("base", &[]),
            project("api", &["base"]),
            project("web", &["base", "outside"]),
            project("edge", &["api", "web"]),
            project("logs", &[]),
        ])
        .unwrap()
    }

    #[test]
    fn layers_follow_the_lookups_and_outside_stacks_are_external() {
        let g = tree();
        let all = vec![true; 5];
        assert_eq!(g.layers(&all), [vec![0, 4], vec![1, 2], vec![3]]);
        assert_eq!(g.dependents(0), [1, 2, 3]);
        assert_eq!(g.text(&all).lines().next(), Some("layer 1:"));
        assert!(g.text(&all).contains("  edge (stack edge-stack, needs api, web)"), "{}", g.text(&all));
        assert_eq!(g.json(&all)["layers"], json!([["base", "logs"], ["api", "web"], ["edge"]]));
        assert!(g.dot(&all).contains("\"base\" -> \"api\";"));
    }

    #[test]
    fn only_takes_what_a_project_needs_and_exclude_takes_away() {
        let g = tree();
        assert_eq!(g.select(&["api".into()], &[]).unwrap(), [true, true, false, false, false]);
        assert_eq!(g.select(&[], &["logs".into()]).unwrap(), [true, true, true, true, false]);
        let err = g.select(&["nope".into()], &[]).unwrap_err();
        assert_eq!(err.message(), "no project 'nope' in the tree");
    }

    #[test]
    fn cycles_and_duplicate_stacks_are_named() {
        let err = Graph::build(vec![project("a", &["c"]), project("b", &["a"]), project("c", &["b"])]).unwrap_err();
        assert_eq!(err.message(), "the projects need each other in a circle: a → c → b → a");
        let mut twin = project("b", &[]);
        twin.stack = "a-stack".into();
        let err = Graph::build(vec![project("a", &[]), twin]).unwrap_err();
        assert_eq!(err.message(), "projects a and b both deploy stack 'a-stack'");
    }

    #[test]
    fn depends_on_names_folders_relative_to_the_project() {
        let mut web = project("web", &[]);
        web.depends_on = vec!["../base".into()];
        let g = Graph::build(vec![project("base", &[]), web.clone()]).unwrap();
        assert_eq!(g.needs[1], [0]);
        web.depends_on = vec!["../nowhere".into()];
        let err = Graph::build(vec![project("base", &[]), web]).unwrap_err();
        assert_eq!(err.message(), "web: cloud.dependsOn names ../nowhere, which is not a project of the tree");
    }
}
