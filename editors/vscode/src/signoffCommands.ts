// The palette commands around sign-off: request one for the finding at the cursor (or a picked
// one), approve a pending one, and list findings to jump to. Requests and approvals run the
// server's own commands through the client, so the reason prompt applies to every path.

import * as vscode from 'vscode';
import { ExecuteCommandRequest, type LanguageClient } from 'vscode-languageclient/node';
import {
  APPROVE_COMMAND,
  parseWorkspaceFindings,
  pickText,
  REQUEST_COMMAND,
  WORKSPACE_FINDINGS_COMMAND,
  type Finding,
  type FindingState,
} from './findings';
import type { ServerController } from './server';

interface FindingItem extends vscode.QuickPickItem {
  finding: Finding;
}

export function registerSignoffCommands(server: ServerController): vscode.Disposable[] {
  return [
    vscode.commands.registerCommand('countersign.request', () => requestSignoff(server)),
    vscode.commands.registerCommand('countersign.approve', () => approveSignoff(server)),
    vscode.commands.registerCommand('countersign.showPending', () =>
      revealPicked(server, 'pending', 'Pending sign-off requests'),
    ),
    vscode.commands.registerCommand('countersign.showUnsigned', () =>
      revealPicked(server, 'unsigned', 'AI-written risky code without sign-off'),
    ),
  ];
}

function runningClient(server: ServerController): LanguageClient | undefined {
  const client = server.running;
  if (client === undefined) {
    void vscode.window
      .showWarningMessage('Countersign: the server is not running.', 'Restart Server', 'Show Output')
      .then((choice) => {
        if (choice === 'Restart Server') {
          void vscode.commands.executeCommand('countersign.restart');
        } else if (choice === 'Show Output') {
          server.output.show(true);
        }
      });
  }
  return client;
}

async function workspaceFindings(
  server: ServerController,
  state: FindingState,
): Promise<Finding[] | undefined> {
  const client = runningClient(server);
  if (client === undefined) {
    return undefined;
  }
  try {
    const result: unknown = await client.sendRequest(ExecuteCommandRequest.type, {
      command: WORKSPACE_FINDINGS_COMMAND,
      arguments: [{ state }],
    });
    return parseWorkspaceFindings(result).findings.filter((finding) => finding.state === state);
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    server.output.appendLine(`${WORKSPACE_FINDINGS_COMMAND} failed: ${message}`);
    void vscode.window.showErrorMessage(
      `Countersign: could not list the workspace findings (${message}). ` +
        'If the server is older than this extension, update it and restart it.',
    );
    return undefined;
  }
}

async function pickFinding(
  findings: Finding[],
  title: string,
  emptyMessage: string,
): Promise<Finding | undefined> {
  if (findings.length === 0) {
    void vscode.window.showInformationMessage(emptyMessage);
    return undefined;
  }
  const items: FindingItem[] = findings.map((finding) => ({ ...pickText(finding), finding }));
  const picked = await vscode.window.showQuickPick(items, {
    title,
    matchOnDescription: true,
    matchOnDetail: true,
  });
  return picked?.finding;
}

async function reveal(client: LanguageClient, finding: Finding): Promise<void> {
  const uri = client.protocol2CodeConverter.asUri(finding.uri);
  const range = client.protocol2CodeConverter.asRange(finding.range);
  const editor = await vscode.window.showTextDocument(uri, { selection: range, preview: false });
  editor.revealRange(range, vscode.TextEditorRevealType.InCenterIfOutsideViewport);
}

async function revealPicked(
  server: ServerController,
  state: FindingState,
  title: string,
): Promise<void> {
  const findings = await workspaceFindings(server, state);
  if (findings === undefined) {
    return;
  }
  const picked = await pickFinding(
    findings,
    title,
    state === 'pending' ? 'Countersign: no sign-off requests are pending.' : 'Countersign: no unsigned findings.',
  );
  const client = server.running;
  if (picked !== undefined && client !== undefined) {
    await reveal(client, picked);
  }
}

/** The server's sign-off code actions at the cursor, whatever the diagnostic's range. */
async function requestActionsAtCursor(): Promise<vscode.Command[]> {
  const editor = vscode.window.activeTextEditor;
  if (editor === undefined) {
    return [];
  }
  const actions = await vscode.commands.executeCommand<(vscode.CodeAction | vscode.Command)[]>(
    'vscode.executeCodeActionProvider',
    editor.document.uri,
    editor.selection,
    vscode.CodeActionKind.QuickFix.value,
  );
  return (actions ?? []).flatMap((action) => {
    const command = 'command' in action && typeof action.command === 'object' ? action.command : action;
    return command !== undefined && (command as vscode.Command).command === REQUEST_COMMAND
      ? [command as vscode.Command]
      : [];
  });
}

async function requestSignoff(server: ServerController): Promise<void> {
  if (runningClient(server) === undefined) {
    return;
  }
  const atCursor = await requestActionsAtCursor();
  let command: vscode.Command | undefined = atCursor[0];
  if (atCursor.length > 1) {
    const picked = await vscode.window.showQuickPick(
      atCursor.map((action) => ({ label: action.title, action })),
      { title: 'Request senior sign-off' },
    );
    command = picked?.action;
    if (command === undefined) {
      return;
    }
  }
  if (command !== undefined) {
    await vscode.commands.executeCommand(command.command, ...((command.arguments ?? []) as unknown[]));
    return;
  }
  const findings = await workspaceFindings(server, 'unsigned');
  if (findings === undefined) {
    return;
  }
  const picked = await pickFinding(
    findings,
    'Request senior sign-off for',
    'Countersign: no AI-written risky code is waiting for a sign-off request.',
  );
  if (picked !== undefined) {
    await vscode.commands.executeCommand(REQUEST_COMMAND, picked.data);
  }
}

async function approveSignoff(server: ServerController): Promise<void> {
  const findings = await workspaceFindings(server, 'pending');
  if (findings === undefined) {
    return;
  }
  const picked = await pickFinding(
    findings,
    'Approve sign-off (signs with your git SSH signing key)',
    'Countersign: no sign-off requests are pending.',
  );
  if (picked !== undefined) {
    await vscode.commands.executeCommand(APPROVE_COMMAND, picked.data);
  }
}
