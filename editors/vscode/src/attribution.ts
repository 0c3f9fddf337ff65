// Reports edits an AI made in this editor as `countersign/aiEdit`, after the `didChange` that
// produced the version the notification names (the server ignores versions it has not seen).

import * as vscode from 'vscode';
import type { LanguageClient } from 'vscode-languageclient/node';
import { agentName } from './agent';
import { aiChangeIndexes, insertedRanges, isTyping, type ChangeReason } from './aiEdits';
import { currentSettings } from './configuration';
import { AI_EDIT_NOTIFICATION } from './findings';

interface LinePosition {
  line: number;
  character: number;
}

function plain(position: vscode.Position): LinePosition {
  return { line: position.line, character: position.character };
}

interface AiEditParams {
  textDocument: { uri: string; version: number };
  ranges: { start: LinePosition; end: LinePosition }[];
  agent: string;
}

export class AiEditReporter implements vscode.Disposable {
  /** Last key press per document URI, in `Date.now()` milliseconds. */
  private readonly lastKeystroke = new Map<string, number>();
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly client: () => LanguageClient | undefined,
    private readonly log: vscode.OutputChannel,
  ) {
    this.subscriptions.push(
      vscode.workspace.onDidCloseTextDocument((document) =>
        this.lastKeystroke.delete(document.uri.toString()),
      ),
    );
  }

  dispose(): void {
    for (const subscription of this.subscriptions) {
      subscription.dispose();
    }
  }

  /** The languageclient `didChange` middleware: forwards the change, then reports AI edits. */
  async didChange(
    event: vscode.TextDocumentChangeEvent,
    next: (event: vscode.TextDocumentChangeEvent) => Promise<void>,
  ): Promise<void> {
    // Attribution is best effort: its failure must never look like a failed didChange.
    const report = new Promise<AiEditParams | null>((resolve) => resolve(this.prepare(event))).catch(
      (error: unknown) => this.failed(error),
    );
    await next(event);
    const params = await report;
    const client = this.client();
    if (params !== null && client !== undefined && client.isRunning()) {
      await client.sendNotification(AI_EDIT_NOTIFICATION, params).catch((error: unknown) => this.failed(error));
    }
  }

  private failed(error: unknown): null {
    this.log.appendLine(`[attribution] not reported: ${error instanceof Error ? error.message : String(error)}`);
    return null;
  }

  /**
   * Everything that depends on the document is read now, before any await: the document
   * object changes under us when the next edit arrives.
   */
  private prepare(event: vscode.TextDocumentChangeEvent): Promise<AiEditParams | null> {
    const document = event.document;
    const uri = document.uri.toString();
    const now = Date.now();
    const reason = reasonOf(event.reason);
    const changes = event.contentChanges.map((change) => ({
      rangeOffset: change.rangeOffset,
      rangeLength: change.rangeLength,
      text: change.text,
    }));
    const previousKeystroke = this.lastKeystroke.get(uri);
    if (isTyping(changes, reason)) {
      this.lastKeystroke.set(uri, now);
      return Promise.resolve(null);
    }
    const settings = currentSettings();
    if (!settings.attributionEnabled) {
      return Promise.resolve(null);
    }
    const ranges = insertedRanges(changes).map((range) =>
      range === null
        ? null
        : {
            start: plain(document.positionAt(range.start)),
            end: plain(document.positionAt(range.end)),
          },
    );
    const version = document.version;
    const context = {
      reason,
      visible: vscode.window.visibleTextEditors.some((editor) => editor.document === document),
      clean: !document.isDirty,
      msSinceKeystroke: previousKeystroke === undefined ? undefined : now - previousKeystroke,
      textAfter: document.getText(),
    };
    const readClipboard = async () => vscode.env.clipboard.readText();
    return aiChangeIndexes(changes, context, readClipboard).then((indexes) => {
      const aiRanges = indexes.flatMap((index) => {
        const range = ranges[index];
        return range === null || range === undefined ? [] : [range];
      });
      if (aiRanges.length === 0) {
        return null;
      }
      const agent = agentName(settings.agent, installedExtensions());
      this.log.appendLine(
        `[attribution] ${aiRanges.length} range(s) in ${uri} v${version} written by ${agent}` +
          (context.visible ? '' : ' (document not shown in any editor)'),
      );
      return { textDocument: { uri, version }, ranges: aiRanges, agent };
    });
  }
}

function reasonOf(reason: vscode.TextDocumentChangeReason | undefined): ChangeReason {
  switch (reason) {
    case vscode.TextDocumentChangeReason.Undo:
      return 'undo';
    case vscode.TextDocumentChangeReason.Redo:
      return 'redo';
    case undefined:
      return undefined;
  }
}

function installedExtensions(): { id: string; isActive: boolean }[] {
  return vscode.extensions.all.map((ext) => ({ id: ext.id, isActive: ext.isActive }));
}
