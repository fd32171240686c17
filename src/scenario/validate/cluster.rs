//! `[validator.cluster]`: the nodes (names, clocks), the routing rule and the replication of
//! credential state, checked.

use super::*;
use crate::scenario::{Cluster, ClusterNode, Replication, Routing};

/// The most nodes a cluster may have: each keeps a copy of every credential's state.
const MAX_NODES: usize = 64;

pub(super) fn cluster(c: &mut Checker, r: RawCluster) -> Cluster {
    let path = "validator.cluster";
    let raws = r.nodes.unwrap_or_default();
    if raws.is_empty() {
        c.err(
            &format!("{path}.nodes"),
            "at least one node, such as [{ name = \"a\" }, { name = \"b\" }]",
            "none",
        );
    } else if raws.len() > MAX_NODES {
        c.err(
            &format!("{path}.nodes"),
            format!("at most {MAX_NODES} nodes"),
            raws.len().to_string(),
        );
    }
    let mut nodes: Vec<ClusterNode> = Vec::new();
    for (i, n) in raws.into_iter().enumerate() {
        let p = format!("{path}.nodes[{i}]");
        let name = match n.name {
            Some(s) if !s.trim().is_empty() && !s.contains(',') => s,
            Some(s) => {
                c.err(
                    &format!("{p}.name"),
                    "a non-empty name without commas",
                    format!("\"{s}\""),
                );
                s
            }
            None => format!("node{}", i + 1),
        };
        if nodes.iter().any(|m| m.name == name) {
            c.err(
                &format!("{p}.name"),
                "a name no other node has",
                format!("\"{name}\""),
            );
        }
        nodes.push(ClusterNode {
            name,
            offset_s: c.duration(
                &format!("{p}.offset"),
                n.offset.as_ref(),
                0.0,
                -YEAR_S,
                YEAR_S,
            ),
            drift_ppm: c.number(&format!("{p}.drift_ppm"), n.drift_ppm, 0.0, -1e5, 1e5),
        });
    }
    if nodes.is_empty() {
        nodes.push(ClusterNode {
            name: "node1".into(),
            offset_s: 0.0,
            drift_ppm: 0.0,
        });
    }
    let routing = c.choice(
        &format!("{path}.routing"),
        r.routing.as_ref(),
        Routing::RoundRobin,
        Routing::parse,
        Routing::NAMES,
    );
    let expected = "\"none\" or a table with `lag` (a law in seconds, 0 for one shared database)";
    let replication = match &r.replication {
        None => Replication::Lag(Dist::Fixed(0.0)),
        Some(Value::String(s)) if s == "none" => Replication::None,
        Some(Value::Table(t)) => {
            let p = format!("{path}.replication");
            if let Some(k) = t.keys().find(|k| *k != "lag") {
                c.err(&format!("{p}.{k}"), "only `lag`", format!("`{k}`"));
            }
            let lag = c.delay_law(
                &format!("{p}.lag"),
                t.get("lag"),
                Dist::Fixed(0.0),
                86_400.0,
            );
            Replication::Lag(lag)
        }
        Some(other) => {
            c.err(&format!("{path}.replication"), expected, describe(other));
            Replication::Lag(Dist::Fixed(0.0))
        }
    };
    let outages = vec![Vec::new(); nodes.len()];
    Cluster {
        nodes,
        routing,
        replication,
        outages,
    }
}
