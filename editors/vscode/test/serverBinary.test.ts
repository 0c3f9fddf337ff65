import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  bundledBinaryPath,
  resolutionProblem,
  resolveServerBinary,
  serverDirName,
  type LookupEnvironment,
} from '../src/serverBinary';

function environment(files: string[], overrides: Partial<LookupEnvironment> = {}): LookupEnvironment {
  const present = new Set(files);
  return {
    configuredPath: null,
    extensionDir: '/ext',
    platform: 'linux',
    arch: 'x64',
    homeDir: '/home/dev',
    pathVariable: '/usr/local/bin:/usr/bin',
    isExecutableFile: (candidate) => present.has(candidate),
    ...overrides,
  };
}

describe('finding the server binary', () => {
  it('the bundled binary lives in server/<platform>-<arch>/', () => {
    assert.equal(serverDirName('linux', 'x64'), 'linux-x64');
    assert.equal(bundledBinaryPath('/ext', 'linux', 'x64'), '/ext/server/linux-x64/countersign');
    assert.equal(
      bundledBinaryPath('C:\\ext', 'win32', 'arm64'),
      'C:\\ext\\server\\win32-arm64\\countersign.exe',
    );
  });

  it('the setting wins over the bundled binary and PATH', () => {
    const env = environment(
      ['/opt/cs/countersign', '/ext/server/linux-x64/countersign', '/usr/bin/countersign'],
      { configuredPath: '/opt/cs/countersign' },
    );
    assert.deepEqual(resolveServerBinary(env), {
      kind: 'found',
      path: '/opt/cs/countersign',
      source: 'setting',
    });
  });

  it('a setting with ~ means the home directory', () => {
    const env = environment(['/home/dev/bin/countersign'], { configuredPath: '~/bin/countersign' });
    assert.deepEqual(resolveServerBinary(env), {
      kind: 'found',
      path: '/home/dev/bin/countersign',
      source: 'setting',
    });
  });

  it('a setting naming a missing file is an error, not a silent fallback', () => {
    const env = environment(['/usr/bin/countersign'], { configuredPath: '/nope/countersign' });
    const resolution = resolveServerBinary(env);
    assert.deepEqual(resolution, { kind: 'badSetting', path: '/nope/countersign' });
    assert.match(resolutionProblem(resolution) ?? '', /countersign\.server\.path.*\/nope\/countersign/);
  });

  it('the bundled binary comes before PATH', () => {
    const env = environment(['/ext/server/linux-x64/countersign', '/usr/bin/countersign']);
    assert.deepEqual(resolveServerBinary(env), {
      kind: 'found',
      path: '/ext/server/linux-x64/countersign',
      source: 'bundled',
    });
  });

  it('a bundled binary for another platform is not used', () => {
    const env = environment(['/ext/server/darwin-arm64/countersign', '/usr/bin/countersign']);
    assert.deepEqual(resolveServerBinary(env), {
      kind: 'found',
      path: '/usr/bin/countersign',
      source: 'path',
    });
  });

  it('PATH is searched in order, skipping empty entries', () => {
    const env = environment(['/a/countersign', '/b/countersign', 'countersign'], {
      pathVariable: '::/b:/a',
    });
    assert.deepEqual(resolveServerBinary(env), { kind: 'found', path: '/b/countersign', source: 'path' });
  });

  it('on Windows PATH entries are tried with PATHEXT', () => {
    const env = environment(['C:\\tools\\countersign.exe'], {
      platform: 'win32',
      extensionDir: 'C:\\ext',
      pathVariable: 'C:\\Windows;C:\\tools',
      pathExt: '.COM;.EXE',
    });
    assert.deepEqual(resolveServerBinary(env), {
      kind: 'found',
      path: 'C:\\tools\\countersign.exe',
      source: 'path',
    });
  });

  it('nothing found: every place looked at is listed and the message says how to fix it', () => {
    const resolution = resolveServerBinary(environment([]));
    assert.deepEqual(resolution, {
      kind: 'missing',
      tried: [
        '/ext/server/linux-x64/countersign',
        '/usr/local/bin/countersign',
        '/usr/bin/countersign',
      ],
    });
    const message = resolutionProblem(resolution) ?? '';
    assert.match(message, /cargo install --path server/);
    assert.match(message, /countersign\.server\.path/);
  });
});
