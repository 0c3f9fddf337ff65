// package.json is what VS Code reads: its commands, settings and activation must match the code.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { FILE_PATTERNS, LANGUAGES } from '../src/documentSelector';
import { APPROVE_COMMAND, REQUEST_COMMAND } from '../src/findings';
import { readSettings } from '../src/settings';

interface Manifest {
  engines: { vscode: string };
  main: string;
  activationEvents: string[];
  contributes: {
    commands: { command: string; title: string; category: string }[];
    configuration: { properties: Record<string, { default?: unknown; markdownDescription?: string; description?: string }> };
  };
}

// Tests run from out/test/, two levels below the package.
const manifest = JSON.parse(
  readFileSync(join(__dirname, '..', '..', 'package.json'), 'utf8'),
) as Manifest;

describe('package.json', () => {
  it('allows VS Code 1.90 and later', () => {
    assert.equal(manifest.engines.vscode, '^1.90.0');
    assert.equal(manifest.main, './dist/extension.js');
  });

  it('contributes the palette commands under "Countersign", not the server-owned ones', () => {
    const ids = manifest.contributes.commands.map((command) => command.command);
    for (const id of [
      'countersign.request',
      'countersign.approve',
      'countersign.showPending',
      'countersign.restart',
      'countersign.showOutput',
    ]) {
      assert.ok(ids.includes(id), id);
    }
    // vscode-languageclient registers these from the server's executeCommandProvider.
    assert.ok(!ids.includes(REQUEST_COMMAND));
    assert.ok(!ids.includes(APPROVE_COMMAND));
    assert.ok(manifest.contributes.commands.every((command) => command.category === 'Countersign'));
  });

  it('declares, with a description, every setting the extension reads', () => {
    const properties = manifest.contributes.configuration.properties;
    const read: string[] = [];
    readSettings({
      get: (key) => {
        read.push(key);
        return undefined;
      },
      isSet: () => false,
    });
    for (const key of [...read, 'trace.server']) {
      const property = properties[`countersign.${key}`];
      assert.ok(property, `countersign.${key} is declared`);
      assert.ok((property.markdownDescription ?? property.description ?? '').length > 20, key);
    }
    assert.equal(properties['countersign.heuristics.bulkInsert']?.default, true);
    assert.equal(properties['countersign.humanSeverity']?.default, null);
  });

  it('activates on every language the client sends to the server, and on a configured repository', () => {
    for (const language of LANGUAGES) {
      assert.ok(manifest.activationEvents.includes(`onLanguage:${language}`), language);
    }
    assert.ok(manifest.activationEvents.includes('workspaceContains:countersign.toml'));
    assert.ok(manifest.activationEvents.includes('workspaceContains:.countersign'));
    assert.ok(FILE_PATTERNS.some((pattern) => pattern.includes('tf')));
  });
});
