// Entry point: starts the Countersign language server and wires the commands, the status bar
// and the settings to it.

import * as vscode from 'vscode';
import { ServerController } from './server';
import { RESTART_KEYS, SECTION } from './settings';
import { registerSignoffCommands } from './signoffCommands';
import { StatusBar } from './statusBar';

let server: ServerController | undefined;

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const output = vscode.window.createOutputChannel('Countersign');
  const statusBar = new StatusBar();
  server = new ServerController(context, output);
  const controller = server;
  context.subscriptions.push(
    output,
    statusBar,
    controller,
    controller.onDidChangeState((state) => statusBar.setState(state)),
    controller.onDidChangeStatus((counts) => statusBar.setCounts(counts)),
    vscode.commands.registerCommand('countersign.restart', async () => {
      output.appendLine('Restarting the server');
      await controller.restart();
    }),
    vscode.commands.registerCommand('countersign.showOutput', () => output.show(true)),
    ...registerSignoffCommands(controller),
    vscode.workspace.onDidChangeConfiguration(async (event) => {
      if (!event.affectsConfiguration(SECTION)) {
        return;
      }
      if (RESTART_KEYS.some((key) => event.affectsConfiguration(`${SECTION}.${key}`))) {
        output.appendLine('A server setting changed: restarting the server');
        await controller.restart();
      } else {
        await controller.sendSettings();
      }
    }),
  );
  await controller.start();
}

export async function deactivate(): Promise<void> {
  await server?.stop();
  server = undefined;
}
