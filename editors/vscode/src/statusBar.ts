// The status bar item: the server's state and the number of unsigned findings.

import * as vscode from 'vscode';
import type { StatusCounts } from './findings';
import { statusView, type ServerState } from './statusView';

export class StatusBar implements vscode.Disposable {
  private readonly item = vscode.window.createStatusBarItem(
    'countersign.status',
    vscode.StatusBarAlignment.Left,
    0,
  );
  private state: ServerState = 'starting';
  private counts: StatusCounts | null = null;

  constructor() {
    this.item.name = 'Countersign';
    this.render();
    this.item.show();
  }

  setState(state: ServerState): void {
    this.state = state;
    this.render();
  }

  setCounts(counts: StatusCounts | null): void {
    this.counts = counts;
    this.render();
  }

  dispose(): void {
    this.item.dispose();
  }

  private render(): void {
    const view = statusView(this.state, this.counts);
    this.item.text = view.text;
    this.item.tooltip = view.tooltip;
    this.item.command = view.command;
    this.item.backgroundColor =
      view.background === null
        ? undefined
        : new vscode.ThemeColor(`statusBarItem.${view.background}Background`);
  }
}
