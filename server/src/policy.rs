//! Turns a finding, its author and its sign-off state into what the user sees.
//!
//! Risky AI code is shown at the rule's severity and asks for senior sign-off; the same code
//! written by a person is a hint (configurable); a pending request is information; approved
//! code is not shown.

use crate::analysis::{Finding, Severity};
use crate::config::PolicyConfig;
use crate::provenance::Author;

/// Where a finding stands in the sign-off ledger.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignoffState {
    None,
    Pending,
    Approved { by: String },
}

impl SignoffState {
    pub fn as_str(&self) -> &'static str {
        match self {
            SignoffState::None => "none",
            SignoffState::Pending => "pending",
            SignoffState::Approved { .. } => "approved",
        }
    }
}

/// What to show for a finding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub severity: Severity,
    pub message: String,
    /// Offer "Request senior sign-off".
    pub can_request: bool,
}

pub fn judge(
    finding: &Finding,
    author: &Author,
    state: &SignoffState,
    config: &PolicyConfig,
) -> Option<Verdict> {
    let rule = &finding.rule.spec;
    match state {
        SignoffState::Approved { .. } => None,
        SignoffState::Pending => Some(Verdict {
            severity: Severity::Info,
            message: format!("Sign-off pending: {} ({})", rule.message, author.describe()),
            can_request: false,
        }),
        SignoffState::None if author.is_ai() => Some(Verdict {
            severity: rule.severity,
            message: format!(
                "{} ({}); needs senior sign-off",
                rule.message,
                author.describe()
            ),
            can_request: true,
        }),
        SignoffState::None => config.human_severity.severity().map(|severity| Verdict {
            severity,
            message: format!("{} ({})", rule.message, author.describe()),
            can_request: true,
        }),
    }
}
