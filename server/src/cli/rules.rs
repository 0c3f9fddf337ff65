//! `countersign rules list|explain`: the catalogue, from the same rule data the engine runs.

use std::io::Write;

use anyhow::{anyhow, Result};
use clap::Subcommand;

use crate::analysis::RuleSet;

#[derive(Debug, clap::Args)]
pub struct RulesArgs {
    /// Use this configuration file instead of the current repository's countersign.toml (its
    /// own rules and severity overrides are listed with the built-in ones).
    #[arg(long, value_name = "FILE", global = true)]
    config: Option<std::path::PathBuf>,
    #[command(subcommand)]
    command: RulesCommand,
}

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

pub fn run(args: &RulesArgs) -> Result<u8> {
    let rules: RuleSet = super::rules_for_cwd(args.config.as_deref())?;
    let mut out = std::io::stdout().lock();
    match &args.command {
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
                    short_languages(rule),
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
                if rule.langs.is_empty() {
                    "AI edits".to_string()
                } else {
                    rule.language_names()
                },
                s.category.as_str(),
                s.severity.as_str()
            )?;
            writeln!(out, "{}\n\n{}", s.message, s.explanation.trim())?;
            // Languages that share examples and a query are shown together.
            // (languages, (flag examples, ok examples), query)
            type Group<'r> = (Vec<&'r str>, (Vec<&'r str>, Vec<&'r str>), &'r str);
            let mut groups: Vec<Group> = Vec::new();
            for &lang in &rule.langs {
                let (examples, query) = (rule.examples_for(lang), rule.query_for(lang));
                match groups.iter_mut().find(|g| g.1 == examples && g.2 == query) {
                    Some(g) => g.0.push(lang.name()),
                    None => groups.push((vec![lang.name()], examples, query)),
                }
            }
            let single = groups.len() == 1;
            for (names, (flag, ok), query) in &groups {
                let of = if single {
                    String::new()
                } else {
                    format!(" ({})", names.join(", "))
                };
                writeln!(out, "\nFlags{of}:")?;
                for e in flag {
                    writeln!(out, "  {}", e.replace('\n', "\n  "))?;
                }
                writeln!(out, "\nDoes not flag{of}:")?;
                for e in ok {
                    writeln!(out, "  {}", e.replace('\n', "\n  "))?;
                }
                writeln!(
                    out,
                    "\nQuery{of} from {}:\n{}",
                    rule.origin,
                    query.trim_end()
                )?;
            }
            Ok(0)
        }
    }
}

/// The languages of a rule for a listing column: `python`, or `python +9` for many; rules that
/// judge AI edits rather than syntax say so.
fn short_languages(rule: &crate::analysis::Rule) -> String {
    match rule.langs.as_slice() {
        [] => "ai-edits".to_string(),
        [one] => one.name().to_string(),
        [first, rest @ ..] if rule.langs.len() > 2 => format!("{} +{}", first.name(), rest.len()),
        _ => rule.language_names(),
    }
}
