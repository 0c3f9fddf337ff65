// Owns the language client: finds the binary, starts `countersign lsp` with the user's
// settings, restarts it when a server setting changes, and reports its state. One client at
// a time; a restart builds a new one so a changed `server.path` takes effect.

import * as fs from 'node:fs';
import * as os from 'node:os';
import * as vscode from 'vscode';
import {
  DidChangeConfigurationNotification,
  LanguageClient,
  RevealOutputChannelOn,
  State,
  type LanguageClientOptions,
  type ServerOptions,
} from 'vscode-languageclient/node';
import { AiEditReporter } from './attribution';
import { currentSettings } from './configuration';
import { DOCUMENT_SELECTOR } from './documentSelector';
import {
  isFindingRef,
  parseStatus,
  REQUEST_COMMAND,
  STATUS_NOTIFICATION,
  withReason,
  type StatusCounts,
} from './findings';
import { resolutionProblem, resolveServerBinary } from './serverBinary';
import { didChangeConfigurationParams, serverEnvironment, serverSettings } from './settings';
import type { ServerState } from './statusView';

export const REASON_PROMPT = 'Why is this code right? (shown to the senior who signs off)';

export class ServerController implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private readonly stateEmitter = new vscode.EventEmitter<ServerState>();
  private readonly statusEmitter = new vscode.EventEmitter<StatusCounts | null>();
  private readonly attribution: AiEditReporter;
  /** Serialises start/stop/restart so a quick second restart waits for the first. */
  private transition: Promise<void> = Promise.resolve();

  readonly onDidChangeState = this.stateEmitter.event;
  readonly onDidChangeStatus = this.statusEmitter.event;

  constructor(
    private readonly context: vscode.ExtensionContext,
    readonly output: vscode.OutputChannel,
  ) {
    this.attribution = new AiEditReporter(() => this.client, output);
  }

  get running(): LanguageClient | undefined {
    return this.client?.state === State.Running ? this.client : undefined;
  }

  start(): Promise<void> {
    return this.enqueue(() => this.doStart());
  }

  restart(): Promise<void> {
    return this.enqueue(async () => {
      await this.doStop();
      await this.doStart();
    });
  }

  stop(): Promise<void> {
    return this.enqueue(() => this.doStop());
  }

  /** Sends the current settings to the running server. */
  async sendSettings(): Promise<void> {
    const client = this.running;
    if (client !== undefined) {
      await client.sendNotification(
        DidChangeConfigurationNotification.type,
        didChangeConfigurationParams(currentSettings()),
      );
    }
  }

  dispose(): void {
    void this.stop();
    this.attribution.dispose();
    this.stateEmitter.dispose();
    this.statusEmitter.dispose();
  }

  private enqueue(step: () => Promise<void>): Promise<void> {
    const result = this.transition.then(step);
    this.transition = result.catch(() => undefined);
    return result;
  }

  private async doStart(): Promise<void> {
    const settings = currentSettings();
    const resolution = resolveServerBinary({
      configuredPath: settings.serverPath,
      extensionDir: this.context.extensionPath,
      platform: process.platform,
      arch: process.arch,
      homeDir: os.homedir(),
      pathVariable: process.env.PATH ?? process.env.Path,
      pathExt: process.env.PATHEXT,
      isExecutableFile,
    });
    const problem = resolutionProblem(resolution);
    if (resolution.kind !== 'found' || problem !== null) {
      this.stateEmitter.fire('missing');
      if (resolution.kind === 'missing') {
        this.output.appendLine(`Looked for the server at:\n  ${resolution.tried.join('\n  ')}`);
      }
      this.output.appendLine(problem ?? '');
      void showMissingServer(problem ?? '', this.output);
      return;
    }
    this.output.appendLine(`Starting ${resolution.path} lsp (found via ${resolution.source})`);

    const serverOptions: ServerOptions = {
      command: resolution.path,
      args: ['lsp'],
      options: { env: serverEnvironment(settings, process.env) },
    };
    const clientOptions: LanguageClientOptions = {
      documentSelector: DOCUMENT_SELECTOR,
      outputChannel: this.output,
      revealOutputChannelOn: RevealOutputChannelOn.Never,
      diagnosticCollectionName: 'countersign',
      initializationOptions: () => serverSettings(currentSettings()),
      middleware: {
        executeCommand: async (command, args, next) => {
          if (command !== REQUEST_COMMAND) {
            return next(command, args) as Promise<unknown>;
          }
          const withPrompt = await askReason(args);
          return withPrompt === null ? undefined : (next(command, withPrompt) as Promise<unknown>);
        },
        didChange: (event, next) => this.attribution.didChange(event, next),
      },
    };

    const client = new LanguageClient('countersign', 'Countersign', serverOptions, clientOptions);
    client.onDidChangeState(({ newState }) => {
      if (this.client !== client) {
        return;
      }
      this.stateEmitter.fire(
        newState === State.Running ? 'running' : newState === State.Starting ? 'starting' : 'stopped',
      );
      if (newState !== State.Running) {
        this.statusEmitter.fire(null);
      }
    });
    client.onNotification(STATUS_NOTIFICATION, (params: unknown) => {
      if (this.client === client) {
        this.statusEmitter.fire(parseStatus(params));
      }
    });
    this.client = client;
    this.stateEmitter.fire('starting');
    try {
      await client.start();
    } catch (error) {
      this.stateEmitter.fire('stopped');
      const message = error instanceof Error ? error.message : String(error);
      this.output.appendLine(`The server failed to start: ${message}`);
      void showMissingServer(
        `Countersign: the server ${resolution.path} failed to start (${message}). ` +
          'See the output for its log; set "countersign.server.path" to another binary if this one is broken.',
        this.output,
      );
    }
  }

  private async doStop(): Promise<void> {
    const client = this.client;
    this.client = undefined;
    this.statusEmitter.fire(null);
    if (client === undefined) {
      return;
    }
    try {
      if (client.needsStop()) {
        await client.stop(2000);
      }
    } catch (error) {
      this.output.appendLine(`Stopping the server: ${String(error)}`);
    }
    await client.dispose().catch(() => undefined);
    this.stateEmitter.fire('stopped');
  }
}

function isExecutableFile(candidate: string): boolean {
  try {
    if (!fs.statSync(candidate).isFile()) {
      return false;
    }
    if (process.platform !== 'win32') {
      fs.accessSync(candidate, fs.constants.X_OK);
    }
    return true;
  } catch {
    return false;
  }
}

async function showMissingServer(message: string, output: vscode.OutputChannel): Promise<void> {
  const choice = await vscode.window.showErrorMessage(message, 'Open Settings', 'Show Output');
  if (choice === 'Open Settings') {
    await vscode.commands.executeCommand('workbench.action.openSettings', 'countersign.server.path');
  } else if (choice === 'Show Output') {
    output.show(true);
  }
}

/**
 * The sign-off request arguments with the requester's reason, `null` when they cancel. Runs for
 * the quick fix and the palette alike: both execute the server's command through the client.
 */
async function askReason(args: unknown[]): Promise<unknown[] | null> {
  const [data, ...rest] = args;
  if (!isFindingRef(data)) {
    return args;
  }
  if (typeof data.reason === 'string' && data.reason.trim() !== '') {
    return args;
  }
  const reason = await vscode.window.showInputBox({
    title: `Request senior sign-off (${data.rule})`,
    prompt: REASON_PROMPT,
    placeHolder: 'e.g. the table was migrated to accounts_v2 in 0042 and is unused since',
    ignoreFocusOut: true,
  });
  const withText = withReason(data, reason);
  if (withText === null) {
    vscode.window.setStatusBarMessage('Countersign: sign-off request cancelled', 4000);
    return null;
  }
  return [withText, ...rest];
}
