// Finds the `countersign` executable: the `countersign.server.path` setting, else the binary
// bundled in the extension for this platform, else `countersign` on PATH. Pure: file checks
// are injected so the order can be tested without touching the disk.

import * as path from 'node:path';

export type BinarySource = 'setting' | 'bundled' | 'path';

export type Resolution =
  | { kind: 'found'; path: string; source: BinarySource }
  /** The setting names a file that is not there: reported as such, never silently skipped. */
  | { kind: 'badSetting'; path: string }
  | { kind: 'missing'; tried: string[] };

export interface LookupEnvironment {
  configuredPath: string | null;
  extensionDir: string;
  platform: string;
  arch: string;
  homeDir: string;
  /** The PATH variable (`Path` on Windows is passed here as well). */
  pathVariable: string | undefined;
  /** Windows' PATHEXT; ignored elsewhere. */
  pathExt?: string;
  isExecutableFile(candidate: string): boolean;
}

/** The folder a packaged extension keeps its binary in, e.g. `linux-x64`, `darwin-arm64`. */
export function serverDirName(platform: string, arch: string): string {
  return `${platform}-${arch}`;
}

export function executableName(platform: string): string {
  return platform === 'win32' ? 'countersign.exe' : 'countersign';
}

export function bundledBinaryPath(extensionDir: string, platform: string, arch: string): string {
  const paths = platform === 'win32' ? path.win32 : path.posix;
  return paths.join(extensionDir, 'server', serverDirName(platform, arch), executableName(platform));
}

function expandHome(candidate: string, homeDir: string): string {
  if (candidate === '~') {
    return homeDir;
  }
  if (candidate.startsWith('~/') || candidate.startsWith('~\\')) {
    return homeDir + candidate.slice(1);
  }
  return candidate;
}

function pathCandidates(env: LookupEnvironment): string[] {
  const windows = env.platform === 'win32';
  const separator = windows ? ';' : ':';
  const paths = windows ? path.win32 : path.posix;
  const names = windows
    ? (env.pathExt ?? '.EXE;.CMD;.BAT')
        .split(';')
        .filter((ext) => ext !== '')
        .map((ext) => `countersign${ext.toLowerCase()}`)
    : ['countersign'];
  const result: string[] = [];
  for (const dir of (env.pathVariable ?? '').split(separator)) {
    // An empty PATH entry means the current directory, which is not a place to run servers from.
    if (dir.trim() === '') {
      continue;
    }
    for (const name of names) {
      result.push(paths.join(expandHome(dir, env.homeDir), name));
    }
  }
  return result;
}

export function resolveServerBinary(env: LookupEnvironment): Resolution {
  if (env.configuredPath !== null) {
    const configured = expandHome(env.configuredPath, env.homeDir);
    return env.isExecutableFile(configured)
      ? { kind: 'found', path: configured, source: 'setting' }
      : { kind: 'badSetting', path: configured };
  }
  const tried: string[] = [];
  const bundled = bundledBinaryPath(env.extensionDir, env.platform, env.arch);
  tried.push(bundled);
  if (env.isExecutableFile(bundled)) {
    return { kind: 'found', path: bundled, source: 'bundled' };
  }
  for (const candidate of pathCandidates(env)) {
    tried.push(candidate);
    if (env.isExecutableFile(candidate)) {
      return { kind: 'found', path: candidate, source: 'path' };
    }
  }
  return { kind: 'missing', tried };
}

export const INSTALL_HINT = 'cargo install --path server';

/** What the user reads when there is no server to start: what is wrong and how to fix it. */
export function resolutionProblem(resolution: Resolution): string | null {
  switch (resolution.kind) {
    case 'found':
      return null;
    case 'badSetting':
      return (
        `Countersign: "countersign.server.path" is set to ${resolution.path}, which is not an ` +
        'executable file. Correct the setting, or clear it to use the bundled server or ' +
        '`countersign` on your PATH.'
      );
    case 'missing':
      return (
        'Countersign: the countersign server was not found (not bundled for this platform and ' +
        `not on PATH). Install it from a Countersign checkout with \`${INSTALL_HINT}\` and ` +
        'reload the window, or set "countersign.server.path" to the binary.'
      );
  }
}
