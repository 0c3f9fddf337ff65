//! Approvals: a senior's SSH signature over the canonical text of a request, one file per
//! approver next to the request (`<fingerprint>.<key id>.approval`), so approvals never
//! conflict in git and the request file itself is never rewritten.
//!
//! The signed text names the fingerprint and the exact snippet (by hash), the approver and the
//! time: an approval covers exactly the code that was reviewed, by whom, when. Nothing in the
//! ledger is trusted unless it verifies against `.countersign/allowed_signers`.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::sshsig::{self, AllowedSigners};
use super::{LedgerError, SignoffRequest};
use crate::analysis::fingerprint;

pub const EXTENSION: &str = "approval";
/// The seniors, in git's `allowed_signers` format, relative to the repository root.
pub const ALLOWED_SIGNERS: &str = ".countersign/allowed_signers";

/// An approval as stored in the ledger.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Approval {
    pub version: u32,
    pub fingerprint: String,
    /// Who approved: the allowed_signers principal (usually an email address).
    pub principal: String,
    /// The signing key's SHA256 fingerprint, for people reading the file.
    pub key: String,
    /// RFC 3339 UTC; part of the signed text.
    pub approved_at: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
    /// An armored SSHSIG (namespace `countersign`) over [`signed_text`].
    pub signature: String,
}

/// The text an approval signs. Anyone can rebuild it from the request and the approval file,
/// and check it with `ssh-keygen -Y verify -n countersign`.
pub fn signed_text(request: &SignoffRequest, principal: &str, approved_at: &str) -> Vec<u8> {
    let snippet = Sha256::digest(request.snippet.as_bytes());
    let snippet: String = snippet.iter().map(|b| format!("{b:02x}")).collect();
    format!(
        "countersign sign-off v1\nfingerprint: {}\nrule: {}\npath: {}\nsnippet-sha256: {snippet}\n\
         requested-at: {}\napproved-by: {principal}\napproved-at: {approved_at}\n",
        request.fingerprint, request.rule, request.path, request.requested_at
    )
    .into_bytes()
}

/// A request whose fingerprint is not the one its rule, path and snippet give was edited by
/// hand (or is for other code): nothing can approve it.
pub fn check_request(request: &SignoffRequest) -> Result<(), String> {
    let expected = fingerprint(&request.rule, &request.path, &request.snippet);
    if expected != request.fingerprint {
        return Err(format!(
            "its fingerprint {} is not that of its rule, path and snippet ({expected}): the file was edited",
            request.fingerprint
        ));
    }
    Ok(())
}

/// Why an approval does not count.
pub fn verify(
    request: &SignoffRequest,
    approval: &Approval,
    signers: &AllowedSigners,
    allow_self: bool,
) -> Result<(), String> {
    check_request(request)?;
    if approval.fingerprint != request.fingerprint {
        return Err(format!(
            "it approves {}, not this request's {}",
            approval.fingerprint, request.fingerprint
        ));
    }
    let at: jiff::Timestamp = approval
        .approved_at
        .parse()
        .map_err(|e| format!("approved_at {:?} is not a time: {e}", approval.approved_at))?;
    let message = signed_text(request, &approval.principal, &approval.approved_at);
    sshsig::verify(
        signers,
        &approval.principal,
        &message,
        &approval.signature,
        at,
    )
    .map_err(|e| format!("signature by {} rejected: {e}", approval.principal))?;
    if !allow_self && is_requester(request, &approval.principal) {
        return Err(format!(
            "{} approved their own request (set `signoff.allow_self_approval = true` to allow it)",
            approval.principal
        ));
    }
    Ok(())
}

/// Whether `principal` is who asked for the sign-off.
pub fn is_requester(request: &SignoffRequest, principal: &str) -> bool {
    request
        .requested_by
        .as_ref()
        .and_then(|p| p.email.as_deref())
        .is_some_and(|email| email.eq_ignore_ascii_case(principal))
}

/// Signs and records an approval of `request` by `principal` with `key`, after checking that
/// it will verify: the key is an allowed signer for the principal, and the principal is not
/// the requester (unless `allow_self`). Returns the approval file and whether it is new.
pub fn approve(
    dir: &Path,
    request: &SignoffRequest,
    key: &sshsig::SigningKey,
    principal: &str,
    signers: &AllowedSigners,
    allow_self: bool,
    note: Option<String>,
) -> Result<(PathBuf, bool), String> {
    if !allow_self && is_requester(request, principal) {
        return Err(format!(
            "{principal} asked for this sign-off; another senior must approve it"
        ));
    }
    check_request(request)?;
    let approved_at = jiff::Timestamp::now().to_string();
    let text = signed_text(request, principal, &approved_at);
    let signature = sshsig::sign(key, &text).map_err(|e| format!("signing failed: {e}"))?;
    let approval = Approval {
        version: 1,
        fingerprint: request.fingerprint.clone(),
        principal: principal.to_string(),
        key: key.public.fingerprint(Default::default()).to_string(),
        approved_at,
        note,
        signature,
    };
    // What cannot verify is never written.
    verify(request, &approval, signers, allow_self)?;
    write(dir, &approval).map_err(|e| e.to_string())
}

/// The principal `key` approves as: `email` (git's `user.email`) when the key is listed for
/// it or only for patterns, else the key's only plain principal.
pub fn principal_for(
    signers: &AllowedSigners,
    key: &sshsig::SigningKey,
    email: Option<&str>,
) -> Result<String, String> {
    let principals = signers.principals_for(&key.public);
    if principals.is_empty() {
        return Err(format!(
            "the signing key {} ({}) is not in {ALLOWED_SIGNERS}: only the seniors listed there can approve",
            key.public.fingerprint(Default::default()),
            key.source
        ));
    }
    let plain: Vec<&String> = principals
        .iter()
        .filter(|p| !p.contains(['*', '?']))
        .collect();
    if let Some(email) = email {
        if principals.iter().any(|p| p.eq_ignore_ascii_case(email)) || plain.is_empty() {
            return Ok(email.to_string());
        }
    }
    plain.first().map(|p| p.to_string()).ok_or_else(|| {
        format!(
            "the key is listed only for patterns ({}); set git's user.email to the address to approve as",
            principals.join(", ")
        )
    })
}

/// Where an approval by the key with fingerprint `key` is stored.
pub fn path_for(dir: &Path, fingerprint: &str, key: &str) -> PathBuf {
    let id = Sha256::digest(key.as_bytes());
    let id: String = id[..6].iter().map(|b| format!("{b:02x}")).collect();
    dir.join(format!("{fingerprint}.{id}.{EXTENSION}"))
}

/// Writes an approval atomically; an existing approval by the same key is kept (approving
/// twice is a no-op). Returns the file and whether it was created.
pub fn write(dir: &Path, approval: &Approval) -> Result<(PathBuf, bool), LedgerError> {
    let path = path_for(dir, &approval.fingerprint, &approval.key);
    let mut body = serde_json::to_vec_pretty(approval).expect("an approval always serializes");
    body.push(b'\n');
    let created = super::write_new(dir, &path, &body)?;
    Ok((path, created))
}
