//! One handler per request method: decode, call the session, encode.

use std::sync::Arc;

use lsp_server::{ErrorCode, Request, RequestId, Response};
use lsp_types::request::{CodeActionRequest, ExecuteCommand, HoverRequest, Request as _};
use lsp_types::{
    CodeActionKind, CodeActionOptions, CodeActionParams, CodeActionProviderCapability,
    ExecuteCommandOptions, ExecuteCommandParams, Hover, HoverContents, HoverParams,
    HoverProviderCapability, InitializeParams, InitializeResult, MarkupContent, MarkupKind,
    MessageType, SaveOptions, ServerCapabilities, ServerInfo, TextDocumentSyncCapability,
    TextDocumentSyncKind, TextDocumentSyncOptions, TextDocumentSyncSaveOptions,
};
use serde::de::DeserializeOwned;

use super::convert;
use super::session::{FindingRef, Session, APPROVE_SIGNOFF, REQUEST_SIGNOFF, WORKSPACE_FINDINGS};
use super::settings::UserSettings;
use super::Client;
use crate::analysis::RuleSet;

pub fn initialize(
    rules: &Arc<RuleSet>,
    params: serde_json::Value,
) -> Result<(Session, InitializeResult), String> {
    let params: InitializeParams =
        serde_json::from_value(params).map_err(|e| format!("invalid initialize params: {e}"))?;
    let offered = params
        .capabilities
        .general
        .as_ref()
        .and_then(|g| g.position_encodings.as_deref());
    let (encoding, kind) = convert::negotiate_encoding(offered);
    #[allow(deprecated)] // root_uri is what older clients send instead of workspace folders
    let root = params
        .workspace_folders
        .as_ref()
        .and_then(|f| f.first())
        .map(|f| f.uri.clone())
        .or(params.root_uri)
        .and_then(|u| u.to_file_path().ok());
    let mut session = Session::new(rules.clone(), encoding, root);
    if let Some(options) = &params.initialization_options {
        match UserSettings::from_client(options) {
            Ok(user) => session.user = user,
            Err(e) => session.notices.push(e),
        }
    }
    session.watch_files = params
        .capabilities
        .workspace
        .as_ref()
        .and_then(|w| w.did_change_watched_files.as_ref())
        .and_then(|w| w.dynamic_registration)
        .unwrap_or(false);
    let capabilities = ServerCapabilities {
        position_encoding: Some(kind),
        text_document_sync: Some(TextDocumentSyncCapability::Options(
            TextDocumentSyncOptions {
                open_close: Some(true),
                change: Some(TextDocumentSyncKind::INCREMENTAL),
                save: Some(TextDocumentSyncSaveOptions::SaveOptions(SaveOptions {
                    include_text: Some(false),
                })),
                ..TextDocumentSyncOptions::default()
            },
        )),
        code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
            code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
            ..CodeActionOptions::default()
        })),
        hover_provider: Some(HoverProviderCapability::Simple(true)),
        execute_command_provider: Some(ExecuteCommandOptions {
            commands: vec![
                REQUEST_SIGNOFF.to_string(),
                APPROVE_SIGNOFF.to_string(),
                WORKSPACE_FINDINGS.to_string(),
            ],
            ..ExecuteCommandOptions::default()
        }),
        ..ServerCapabilities::default()
    };
    let server_info = Some(ServerInfo {
        name: "countersign".into(),
        version: Some(env!("CARGO_PKG_VERSION").into()),
    });
    Ok((
        session,
        InitializeResult {
            capabilities,
            server_info,
        },
    ))
}

pub fn dispatch(session: &mut Session, client: &Client, req: Request) -> Response {
    let id = req.id.clone();
    match req.method.as_str() {
        CodeActionRequest::METHOD => with_params(req, |p: CodeActionParams| {
            let (from, to) = (
                convert::line_col(p.range.start),
                convert::line_col(p.range.end),
            );
            Ok(session.code_actions(&p.text_document.uri, from, to))
        }),
        HoverRequest::METHOD => with_params(req, |p: HoverParams| {
            let at = p.text_document_position_params;
            Ok(session
                .trail_at(&at.text_document.uri, convert::line_col(at.position))
                .map(|value| Hover {
                    contents: HoverContents::Markup(MarkupContent {
                        kind: MarkupKind::Markdown,
                        value,
                    }),
                    range: None,
                }))
        }),
        ExecuteCommand::METHOD => with_params(req, |p: ExecuteCommandParams| {
            execute_command(session, client, p)
        }),
        other => error(
            id,
            ErrorCode::MethodNotFound,
            &format!("unsupported request {other}"),
        ),
    }
}

fn execute_command(
    session: &mut Session,
    client: &Client,
    p: ExecuteCommandParams,
) -> Result<serde_json::Value, String> {
    let approve = match p.command.as_str() {
        WORKSPACE_FINDINGS => return workspace_findings(session, client, &p.arguments),
        REQUEST_SIGNOFF => false,
        APPROVE_SIGNOFF => true,
        other => return Err(format!("unknown command {other}")),
    };
    let target: FindingRef = p
        .arguments
        .first()
        .cloned()
        .ok_or_else(|| format!("{} takes the diagnostic's data as its argument", p.command))
        .and_then(|v| {
            serde_json::from_value(v)
                .map_err(|_| "the argument is not a Countersign diagnostic's data".to_string())
        })?;
    let done = if approve {
        session.approve_signoff(&target)
    } else {
        session.request_signoff(&target)
    };
    let (result, affected) = done.inspect_err(|e| {
        let what = if approve { "approval" } else { "request" };
        client.show_message(
            MessageType::ERROR,
            format!("Countersign: sign-off {what} failed: {e}"),
        );
    })?;
    for uri in &affected {
        client.publish(session, uri);
    }
    let message = match (approve, result["created"] == true) {
        (false, true) => "Sign-off requested",
        (false, false) => "Sign-off was already requested",
        (true, true) => "Sign-off approved",
        (true, false) => "You had already approved this sign-off",
    };
    client.show_message(
        MessageType::INFO,
        format!(
            "Countersign: {message}: {}",
            result["path"].as_str().unwrap_or("")
        ),
    );
    client.flush_notices(session);
    Ok(result)
}

/// `countersign.workspaceFindings [{state}]`: the risky AI code of the workspace, optionally
/// only in one sign-off state, with the counts of all of it.
fn workspace_findings(
    session: &mut Session,
    client: &Client,
    arguments: &[serde_json::Value],
) -> Result<serde_json::Value, String> {
    let state = match arguments.first().map(|a| &a["state"]) {
        None | Some(serde_json::Value::Null) => None,
        Some(serde_json::Value::String(s)) if ["unsigned", "pending", "approved"].contains(&s.as_str()) => {
            Some(s.clone())
        }
        Some(other) => {
            return Err(format!(
                "{WORKSPACE_FINDINGS}: state must be \"unsigned\", \"pending\" or \"approved\", not {other}"
            ))
        }
    };
    let all = session.workspace_findings();
    let mut counts = super::overview::Counts::default();
    for f in &all {
        match f.state {
            "unsigned" => counts.unsigned += 1,
            "pending" => counts.pending += 1,
            _ => counts.approved += 1,
        }
    }
    client.send_status(session);
    let findings: Vec<_> = all
        .into_iter()
        .filter(|f| state.as_deref().is_none_or(|s| s == f.state))
        .collect();
    Ok(serde_json::json!({
        "findings": findings,
        "unsigned": counts.unsigned,
        "pending": counts.pending,
        "approved": counts.approved,
    }))
}

fn with_params<P: DeserializeOwned, R: serde::Serialize>(
    req: Request,
    f: impl FnOnce(P) -> Result<R, String>,
) -> Response {
    let params = match serde_json::from_value::<P>(req.params) {
        Ok(p) => p,
        Err(e) => {
            return error(
                req.id,
                ErrorCode::InvalidParams,
                &format!("invalid params for {}: {e}", req.method),
            )
        }
    };
    match f(params) {
        Ok(result) => Response::new_ok(req.id, result),
        Err(e) => error(req.id, ErrorCode::RequestFailed, &e),
    }
}

fn error(id: RequestId, code: ErrorCode, message: &str) -> Response {
    Response::new_err(id, code as i32, message.to_string())
}
