import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  didChangeConfigurationParams,
  readSettings,
  serverEnvironment,
  serverSettings,
  type SettingSource,
} from '../src/settings';

/** Settings as VS Code reports them: package.json defaults, overridden by what the user set. */
function source(userValues: Record<string, unknown>): SettingSource {
  const defaults: Record<string, unknown> = {
    'server.path': null,
    'server.logLevel': 'info',
    'server.extraEnv': null,
    humanSeverity: null,
    'heuristics.bulkInsert': true,
    'heuristics.multiHunk': true,
    agent: null,
    'attribution.enabled': true,
  };
  return {
    get: (key) => (key in userValues ? userValues[key] : defaults[key]),
    isSet: (key) => key in userValues,
  };
}

describe('settings sent to the server', () => {
  it('nothing set: nothing sent, so the repository config decides everything', () => {
    assert.deepEqual(serverSettings(readSettings(source({}))), {});
  });

  it('set values are sent in the server shape', () => {
    const settings = readSettings(
      source({ humanSeverity: 'warning', 'heuristics.multiHunk': false, agent: ' copilot ' }),
    );
    assert.deepEqual(serverSettings(settings), {
      humanSeverity: 'warning',
      heuristics: { multiHunk: false },
      agent: 'copilot',
    });
  });

  it('a heuristic set to its default is still sent: the user chose it over the repository', () => {
    assert.deepEqual(serverSettings(readSettings(source({ 'heuristics.bulkInsert': true }))), {
      heuristics: { bulkInsert: true },
    });
  });

  it('didChangeConfiguration carries them under settings.countersign', () => {
    const params = didChangeConfigurationParams(readSettings(source({ humanSeverity: 'off' })));
    assert.deepEqual(params, { settings: { countersign: { humanSeverity: 'off' } } });
  });

  it('invalid values are dropped rather than sent', () => {
    const settings = readSettings(
      source({ humanSeverity: 'loud', agent: '', 'heuristics.bulkInsert': 'yes', 'server.logLevel': 7 }),
    );
    assert.deepEqual(serverSettings(settings), {});
    assert.equal(settings.logLevel, 'info');
  });

  it('attribution is on unless explicitly turned off', () => {
    assert.equal(readSettings(source({})).attributionEnabled, true);
    assert.equal(readSettings(source({ 'attribution.enabled': false })).attributionEnabled, false);
  });
});

describe('the server process environment', () => {
  it('COUNTERSIGN_LOG follows the log level, extra variables are added', () => {
    const settings = readSettings(
      source({ 'server.logLevel': 'debug', 'server.extraEnv': { RUST_BACKTRACE: 1, SKIP: {} } }),
    );
    const env = serverEnvironment(settings, { PATH: '/usr/bin', UNSET: undefined });
    assert.deepEqual(env, { PATH: '/usr/bin', RUST_BACKTRACE: '1', COUNTERSIGN_LOG: 'debug' });
  });

  it('an explicit COUNTERSIGN_LOG in extraEnv wins over the log level', () => {
    const settings = readSettings(
      source({ 'server.logLevel': 'debug', 'server.extraEnv': { COUNTERSIGN_LOG: 'countersign::lsp=trace' } }),
    );
    assert.equal(serverEnvironment(settings, {}).COUNTERSIGN_LOG, 'countersign::lsp=trace');
  });

  it('a server path of blanks is no path', () => {
    assert.equal(readSettings(source({ 'server.path': '  ' })).serverPath, null);
  });
});
