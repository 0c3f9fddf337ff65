// Packages the extension into dist/countersign.vsix, offline. With COUNTERSIGN_BIN set, that
// binary goes into server/<platform>-<arch>/ (the folder the extension looks in, see
// src/serverBinary.ts) and the package targets this platform; without it the package is
// universal and finds the server through the setting or PATH.
import { spawnSync } from 'node:child_process';
import { chmodSync, copyFileSync, existsSync, mkdirSync, rmSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const output = join('dist', 'countersign.vsix');

function fail(message) {
  console.error(`package: error: ${message}`);
  process.exit(1);
}

function isMusl() {
  if (process.platform !== 'linux') {
    return false;
  }
  const header = process.report?.getReport()?.header;
  return header !== undefined && header.glibcVersionRuntime === undefined;
}

/** The Marketplace target for this machine (its names differ from Node's for arm and musl). */
function vsceTarget(platform, arch) {
  const os = platform === 'linux' && isMusl() ? 'alpine' : platform;
  const cpu = arch === 'arm' ? 'armhf' : arch;
  const target = `${os}-${cpu}`;
  const known = [
    'win32-x64', 'win32-arm64', 'linux-x64', 'linux-arm64', 'linux-armhf',
    'alpine-x64', 'alpine-arm64', 'darwin-x64', 'darwin-arm64',
  ];
  if (!known.includes(target)) {
    fail(`no VS Code package target for ${platform}/${arch}`);
  }
  return target;
}

const serverRoot = join(root, 'server');
// A stale binary from an earlier run must never end up in a package for another target.
rmSync(serverRoot, { recursive: true, force: true });

const vsceArgs = ['package', '--no-dependencies', '--allow-missing-repository', '-o', output];
const binary = process.env.COUNTERSIGN_BIN;
if (binary) {
  const source = resolve(binary);
  if (!existsSync(source) || !statSync(source).isFile()) {
    fail(`COUNTERSIGN_BIN=${binary} is not a file`);
  }
  const probe = spawnSync(source, ['--version'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    fail(`COUNTERSIGN_BIN=${binary} does not run here (${probe.error?.message ?? probe.stderr.trim()})`);
  }
  const dir = join(serverRoot, `${process.platform}-${process.arch}`);
  const name = process.platform === 'win32' ? 'countersign.exe' : 'countersign';
  mkdirSync(dir, { recursive: true });
  const bundled = join(dir, name);
  // DWARF data is most of a debug build and no use to the running server; symbols stay, so a
  // panic's backtrace still names functions.
  const stripped =
    process.platform === 'linux' &&
    spawnSync('strip', ['--strip-debug', '-o', bundled, source], { stdio: 'ignore' }).status === 0;
  if (!stripped) {
    copyFileSync(source, bundled);
  }
  chmodSync(bundled, 0o755);
  const target = vsceTarget(process.platform, process.arch);
  vsceArgs.push('--target', target);
  console.error(`package: bundling ${probe.stdout.trim()} for ${target}`);
} else {
  console.error('package: COUNTERSIGN_BIN not set: universal package without a server binary');
}

const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
if (!existsSync(vsce)) {
  fail('@vscode/vsce is not installed: run `npm ci` first');
}
const result = spawnSync(process.execPath, [vsce, ...vsceArgs], { cwd: root, stdio: 'inherit' });
if (result.status !== 0) {
  fail(`vsce package failed (exit ${result.status ?? result.signal})`);
}
console.log(join(root, output));
