//! `countersign rules list|explain`: the catalogue, from the same rule data the engine runs.

use std::io::Write;

use anyhow::{anyhow, Result};
use clap::Subcommand;

use crate::analysis::RuleSet;

#[derive(Debug, Subcommand)]
pub enum RulesCommand {
    /// One line per rule: id, language, category, severity, message.
    List,
    /// A rule's explanation, query and examples.
    Explain {
        /// The rule id, e.g. sql/drop-table.
        id: String,
    },
}

pub fn run(command: &RulesCommand) -> Result<u8> {
    let rules =
        RuleSet::builtin().map_err(|e| anyhow!("built-in rules failed to load: {}", e[0]))?;
    let mut out = std::io::stdout().lock();
    match command {
        RulesCommand::List => {
            let width = rules
                .rules()
                .iter()
                .map(|r| r.id().len())
                .max()
                .unwrap_or(0);
            for rule in rules.rules() {
                let s = &rule.spec;
                writeln!(
                    out,
                    "{:<width$}  {:<10} {:<13} {:<7} {}",
                    s.id,
                    s.language,
                    s.category.as_str(),
                    s.severity.as_str(),
                    s.message
                )?;
            }
            Ok(0)
        }
        RulesCommand::Explain { id } => {
            let rule = rules.get(id).ok_or_else(|| {
                let ids = || rules.rules().iter().map(|r| r.id());
                let mut near: Vec<&str> = ids().filter(|r| r.contains(id.as_str())).collect();
                if near.is_empty() {
                    let family = id.split('/').next().unwrap_or_default();
                    near = ids()
                        .filter(|r| r.split('/').next() == Some(family))
                        .collect();
                }
                let hint = if near.is_empty() {
                    String::new()
                } else {
                    format!(" (did you mean {}?)", near.join(", "))
                };
                anyhow!("no rule `{id}`{hint}; `countersign rules list` shows them all")
            })?;
            let s = &rule.spec;
            writeln!(
                out,
                "{} ({}, {}, {})\n",
                s.id,
                s.language,
                s.category.as_str(),
                s.severity.as_str()
            )?;
            writeln!(out, "{}\n\n{}", s.message, s.explanation.trim())?;
            writeln!(out, "\nFlags:")?;
            for e in &s.examples.flag {
                writeln!(out, "  {}", e.replace('\n', "\n  "))?;
            }
            writeln!(out, "\nDoes not flag:")?;
            for e in &s.examples.ok {
                writeln!(out, "  {}", e.replace('\n', "\n  "))?;
            }
            writeln!(out, "\nQuery ({}):\n{}", rule.origin, s.query.trim_end())?;
            Ok(0)
        }
    }
}
