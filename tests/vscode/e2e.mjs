// End-to-end test of the Countersign extension in a real VS Code workbench: code-server serves
// VS Code, Debian's headless Chromium displays it, playwright-core types and clicks like a
// person. Nothing of the editor is mocked; the extension talks to the server binary it bundles.
//
//   node e2e.mjs --tools <dir from install.sh> [--vsix countersign.vsix] [--artifacts DIR]
//
// Without --vsix only the workbench itself is checked (it loads, opens a file, takes a paste):
// that proves the harness before there is an extension to test.
//
// Prints one line per check and closes with `vscode e2e: N passed, M failed`; exits non-zero if
// a check failed or the run went past its deadline. Screenshots of every stage, code-server's
// log and the workbench logs (the extension's output channel among them) land in the artifacts
// folder. code-server runs in its own process group, which is stopped and waited for on every
// way out.
//
// Environment:
//   CHROMIUM                      browser (default /usr/bin/chromium)
//   COUNTERSIGN_E2E_DEADLINE_S    whole-run deadline in seconds (default 360)
//   COUNTERSIGN_E2E_KEEP=1        keep the temporary workspace and profile (path printed)

import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parseArgs } from 'node:util';

const { values: opts } = parseArgs({
  options: {
    tools: { type: 'string' },
    vsix: { type: 'string' },
    artifacts: { type: 'string' },
  },
});
if (!opts.tools) {
  console.error('usage: node e2e.mjs --tools <dir printed by install.sh> [--vsix FILE] [--artifacts DIR]');
  process.exit(2);
}
const tools = path.resolve(opts.tools);
const node = path.join(tools, 'bin', 'node');
const codeServer = path.join(tools, 'tools', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
const { chromium } = createRequire(path.join(tools, 'tools', 'package.json'))('playwright-core');
const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';
const vsix = opts.vsix ? path.resolve(opts.vsix) : null;
const artifacts = path.resolve(opts.artifacts || path.join(import.meta.dirname, '..', '.artifacts', 'vscode'));
const deadlineS = Number(process.env.COUNTERSIGN_E2E_DEADLINE_S || 360);

// Everything waits with a bound; these are generous because the first workbench start on a
// busy two-core machine takes tens of seconds.
const T = { start: 120_000, ui: 30_000, server: 90_000, short: 10_000 };

const started = Date.now();
const elapsed = () => `${((Date.now() - started) / 1000).toFixed(1)}s`;
let passed = 0;
let failed = 0;
let shot = 0;

// --- Temporary world: a git workspace, a profile, an extensions folder -----------------------

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'countersign-vscode-'));
const ws = path.join(tmp, 'repo');
const userData = path.join(tmp, 'user-data');
const extensions = path.join(tmp, 'extensions');
const codeServerLog = path.join(tmp, 'code-server.log');

const AI_FILE = 'db/migrate/001_drop.sql';
const AI_FILE_TEXT = '-- Reporting views for the admin dashboard.\nSELECT 1;\n';
// Pasted as one edit: several lines at once is what the server takes as AI-written.
const AI_PASTE = '-- cleanup\nDROP TABLE users;\nDROP TABLE orders;\n';
const AI_LINES = AI_FILE_TEXT.split('\n').length - 1; // the paste starts on the line after these
const DROP_USERS_LINE = AI_LINES + 2;
const DROP_ORDERS_LINE = AI_LINES + 3;
const HUMAN_FILE = 'db/migrate/002_typed.sql';
const HUMAN_TYPED = 'DROP TABLE t;';
const REASON = 'cleanup of legacy tables, reviewed';

function git(...args) {
  const r = spawnSync('git', args, { cwd: ws, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`git ${args.join(' ')}: ${r.stderr}`);
}

function makeWorkspace() {
  fs.mkdirSync(path.join(ws, 'db', 'migrate'), { recursive: true });
  fs.writeFileSync(path.join(ws, AI_FILE), AI_FILE_TEXT);
  fs.writeFileSync(path.join(ws, HUMAN_FILE), '-- Typed by hand.\n');
  git('init', '-q', '-b', 'main');
  git('config', 'user.name', 'Dana Developer');
  git('config', 'user.email', 'dana@example.com');
  git('config', 'commit.gpgsign', 'false');
  git('add', '.');
  git('commit', '-q', '-m', 'migrations');
}

function writeSettings() {
  fs.mkdirSync(path.join(userData, 'User'), { recursive: true });
  const settings = {
    // A chat panel or a welcome page steals focus from the editor the test types into.
    'chat.disableAIFeatures': true,
    'workbench.startupEditor': 'none',
    'workbench.secondarySideBar.defaultVisibility': 'hidden',
    'workbench.tips.enabled': false,
    'workbench.enableExperiments': false,
    'security.workspace.trust.enabled': false,
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.ignoreRecommendations': true,
    'extensions.autoCheckUpdates': false,
    'extensions.autoUpdate': false,
    // Suggestions and auto-closing would change what the keys type.
    'editor.quickSuggestions': { other: false, comments: false, strings: false },
    'editor.suggestOnTriggerCharacters': false,
    'editor.autoClosingBrackets': 'never',
    'editor.autoClosingQuotes': 'never',
    'editor.formatOnPaste': false,
    'editor.formatOnType': false,
    'files.autoSave': 'off',
    // The extension's log and the LSP traffic, for the artifacts of a failed run.
    'countersign.server.logLevel': 'debug',
    'countersign.trace.server': 'messages',
  };
  fs.writeFileSync(path.join(userData, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
}

// --- code-server ------------------------------------------------------------------------------

let server = null; // the child; its pid is its process group's id
let serverExit = null;

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.unref();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => resolve(port));
    });
  });
}

function runCodeServer(args, timeoutMs) {
  const r = spawnSync(node, [codeServer, ...args], {
    encoding: 'utf8',
    timeout: timeoutMs,
    env: codeServerEnv(),
  });
  if (r.status !== 0) {
    throw new Error(`code-server ${args.join(' ')} exited ${r.status ?? r.signal}:\n${r.stdout}\n${r.stderr}`);
  }
  return r.stdout;
}

function codeServerEnv() {
  const env = { ...process.env };
  // The workbench's extension host must run on Node 24 like code-server itself.
  env.PATH = `${path.join(tools, 'bin')}:${env.PATH}`;
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_')) delete env[k];
  // No marketplace: the workbench would otherwise query open-vsx.org at start, which is outside
  // this test and unreachable offline.
  env.EXTENSIONS_GALLERY = '{}';
  return env;
}

async function startCodeServer(port) {
  const config = path.join(tmp, 'config.yaml');
  fs.writeFileSync(config, `bind-addr: 127.0.0.1:${port}\nauth: none\ncert: false\n`);
  const out = fs.openSync(codeServerLog, 'a');
  server = spawn(node, [
    codeServer,
    '--config', config,
    '--auth', 'none',
    '--bind-addr', `127.0.0.1:${port}`,
    '--disable-telemetry',
    '--disable-update-check',
    '--disable-workspace-trust',
    '--disable-getting-started-override',
    '--ignore-last-opened',
    '--user-data-dir', userData,
    '--extensions-dir', extensions,
    ws,
  ], { detached: true, stdio: ['ignore', out, out], env: codeServerEnv() });
  fs.closeSync(out);
  serverExit = new Promise((resolve) => server.on('exit', (code, signal) => resolve(code ?? signal)));
  serverExit.then((how) => { server.exited = how; });
  const until = Date.now() + T.start;
  while (Date.now() < until) {
    if (server.exited !== undefined) throw new Error(`code-server exited (${server.exited}) before listening; see ${codeServerLog}`);
    try {
      const res = await fetch(`http://127.0.0.1:${port}/healthz`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await sleep(250);
  }
  throw new Error(`code-server did not answer on port ${port} within ${T.start / 1000}s`);
}

async function stopCodeServer() {
  if (!server || server.exited !== undefined) return;
  const group = -server.pid;
  try { process.kill(group, 'SIGTERM'); } catch { return; }
  const gone = await Promise.race([serverExit.then(() => true), sleep(5_000).then(() => false)]);
  if (!gone) {
    try { process.kill(group, 'SIGKILL'); } catch { /* already gone */ }
    await Promise.race([serverExit, sleep(5_000)]);
  }
  // The extension host and the language server are in the group too; make sure none outlive it.
  try { process.kill(group, 'SIGKILL'); } catch { /* all gone */ }
}

// --- Checks -----------------------------------------------------------------------------------

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

let page = null;

async function screenshot(name) {
  if (!page) return null;
  shot += 1;
  const file = path.join(artifacts, `${String(shot).padStart(2, '0')}-${name}.png`);
  try {
    await page.screenshot({ path: file, timeout: T.short });
    return file;
  } catch {
    return null;
  }
}

// Runs one check; a failed check skips the rest of its scenario, which builds on it.
async function check(name, fn) {
  const t0 = Date.now();
  current = name;
  try {
    await fn();
    if (aborted) throw new ScenarioStopped();
    passed += 1;
    console.log(`ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s)`);
    await screenshot(slug(name));
  } catch (err) {
    // After the deadline the browser is being closed under the checks; their errors say nothing.
    if (aborted) throw new ScenarioStopped();
    failed += 1;
    const file = await screenshot(`FAILED-${slug(name)}`);
    console.log(`FAIL ${name} (${((Date.now() - t0) / 1000).toFixed(1)}s): ${String(err?.message ?? err).split('\n').slice(0, 6).join('\n     ')}`);
    if (file) console.log(`     screenshot: ${file}`);
    throw new ScenarioStopped();
  }
}

class ScenarioStopped extends Error {}
let aborted = false;
let current = 'setup';

function slug(s) {
  return s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '').slice(0, 60);
}

async function until(what, fn, timeout = T.ui, interval = 250) {
  const end = Date.now() + timeout;
  let last;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) {
      last = e;
    }
    await sleep(interval);
  }
  throw new Error(`timed out after ${timeout / 1000}s waiting for ${what}${last ? ` (${last.message})` : ''}`);
}

// Monaco renders spaces as no-break spaces.
const text = (s) => (s ?? '').replace(/\u00a0/g, ' ');

async function texts(selector) {
  return (await page.locator(selector).allInnerTexts()).map(text);
}

async function editorText() {
  return text(await page.locator('.editor-group-container .monaco-editor .view-lines').first().innerText());
}

async function count(selector) {
  return page.locator(selector).count();
}

async function openFile(rel) {
  const name = path.basename(rel);
  await page.keyboard.press('Control+P');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: T.ui });
  await input.fill(rel);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ timeout: T.ui });
  await page.keyboard.press('Enter');
  await page.locator(`.tabs-container .tab.active[aria-label*="${name}"]`).waitFor({ timeout: T.ui });
  await page.locator('.editor-group-container .monaco-editor .view-lines').first().waitFor({ timeout: T.ui });
}

async function goToLine(line) {
  await page.keyboard.press('Control+G');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: T.ui });
  await input.fill(`:${line}`);
  await sleep(200);
  await page.keyboard.press('Enter');
  await until(`the cursor on line ${line}`, async () => (await cursorLine()) === line, T.short);
}

async function cursorLine() {
  const t = await page.locator('[id="status.editor.selection"]').innerText({ timeout: T.short });
  const m = /Ln (\d+)/.exec(t);
  return m ? Number(m[1]) : null;
}

async function unsignedItem() {
  return (await texts('.statusbar-item')).find((t) => /unsigned/i.test(t))?.trim() ?? null;
}

async function runCommand(title) {
  await page.keyboard.press('F1');
  const input = page.locator('.quick-input-widget input');
  await input.waitFor({ state: 'visible', timeout: T.ui });
  await input.fill(`>${title}`);
  await page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first().waitFor({ timeout: T.ui });
  await page.keyboard.press('Enter');
}

function ledgerFiles() {
  const dir = path.join(ws, '.countersign', 'signoffs');
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((f) => f.endsWith('.json')).map((f) => path.join(dir, f));
}

// --- Scenarios --------------------------------------------------------------------------------

async function openWorkbench(port) {
  await check('workbench loads the workspace', async () => {
    await page.goto(`http://127.0.0.1:${port}/?folder=${encodeURIComponent(ws)}`, { timeout: T.start });
    await page.locator('.monaco-workbench').waitFor({ timeout: T.start });
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'db' }).first().waitFor({ timeout: T.start });
  });
}

async function pasteAsAi() {
  await check(`${AI_FILE} opens in an editor`, async () => {
    await openFile(AI_FILE);
    const t = await editorText();
    if (!t.includes('SELECT 1;')) throw new Error(`editor shows ${JSON.stringify(t)}`);
  });
  await check('a multi-line paste lands as one edit', async () => {
    await page.evaluate((s) => navigator.clipboard.writeText(s), AI_PASTE);
    await page.keyboard.press('Control+End');
    await page.keyboard.press('Control+V');
    await until('the pasted lines in the editor', async () => (await editorText()).includes('DROP TABLE orders;'), T.short);
    // A paste that lost its newlines would be one line and not the scenario this test is about.
    await until(`the cursor on line ${DROP_ORDERS_LINE + 1} after the paste`, async () => (await cursorLine()) === DROP_ORDERS_LINE + 1, T.short);
  });
}

// The extension's status bar item shows a shield once its language client runs; an edit made
// before that reaches the server only inside the document's didOpen, as text nobody is known to
// have written, and the test would prove nothing about attribution.
const SERVER_RUNNING = '.statusbar-item:has(.codicon-shield)';

async function aiScenario() {
  await check('the extension starts its server', async () => {
    await page.locator(SERVER_RUNNING).first().waitFor({ timeout: T.server });
    const t = text(await page.locator(SERVER_RUNNING).first().innerText()).trim();
    console.log(`     status bar: ${JSON.stringify(t)}`);
  });
  await pasteAsAi();

  await check('the AI-written DROP TABLE gets an error squiggle', async () => {
    try {
      await until('.squiggly-error in the editor', async () => (await count('.editor-group-container .monaco-editor .squiggly-error')) >= 2, T.server);
    } catch (e) {
      // Hints instead mean the server saw the lines but not as AI-written.
      const hints = await count('.editor-group-container .monaco-editor .squiggly-hint');
      throw new Error(`${e.message}; ${await count('.editor-group-container .monaco-editor .squiggly-error')} error and ${hints} hint markers; status bar: ${JSON.stringify(await unsignedItem() ?? await texts(SERVER_RUNNING))}`);
    }
  });

  await check('the Problems panel lists sql/drop-table as needing sign-off', async () => {
    await until('a count in the status bar problems item', async () => /[1-9]/.test(await page.locator('[id="status.problems"]').innerText()), T.short);
    await page.keyboard.press('Control+Shift+M');
    const rows = await until('countersign rows in the Problems panel', async () => {
      const r = (await texts('.markers-panel .monaco-list-row')).filter((t) => t.includes('sql/drop-table'));
      return r.length >= 2 ? r : null;
    });
    if (!rows.some((r) => /sign-off/i.test(r))) throw new Error(`no row mentions sign-off: ${JSON.stringify(rows)}`);
    const status = await page.locator('[id="status.problems"]').innerText();
    if (!/[2-9]|\d{2}/.test(status)) throw new Error(`status bar problems says ${JSON.stringify(status)}, expected at least 2 errors`);
  });

  await check('the status bar counts unsigned findings', async () => {
    const item = await until('a status bar item mentioning "unsigned"', async () => {
      const t = (await texts('.statusbar-item')).find((s) => /unsigned/i.test(s));
      return t;
    }, T.server);
    if (!/\b2\b/.test(item)) throw new Error(`status bar item says ${JSON.stringify(item)}, expected 2 unsigned`);
  });

  await check('the quick fix requests sign-off with a reason', async () => {
    // Back to the editor: the Problems panel has focus now.
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
    await goToLine(DROP_USERS_LINE);
    await page.keyboard.press('End');
    const entry = page.locator('.action-widget .monaco-list-row', { hasText: 'Request senior sign-off (sql/drop-table)' }).first();
    let tries = 0;
    // The lightbulb menu sometimes opens before the server answered; asking again is what a person does.
    while (true) {
      tries += 1;
      await page.keyboard.press('Control+.');
      try {
        await entry.waitFor({ timeout: T.short });
        break;
      } catch (e) {
        if (tries >= 3) {
          const seen = await texts('.action-widget .monaco-list-row');
          throw new Error(`no "Request senior sign-off (sql/drop-table)" entry after ${tries} tries; menu: ${JSON.stringify(seen)}`);
        }
        await page.keyboard.press('Escape');
        await sleep(1000);
      }
    }
    await screenshot('code-action-menu');
    await entry.click();
    const input = page.locator('.quick-input-widget input');
    await input.waitFor({ state: 'visible', timeout: T.ui });
    await screenshot('reason-prompt');
    await page.keyboard.type(REASON);
    await page.keyboard.press('Enter');
  });

  await check('the ledger file records the rule and the reason', async () => {
    const files = await until('a ledger file in .countersign/signoffs', async () => {
      const f = ledgerFiles();
      return f.length ? f : null;
    }, T.ui);
    if (files.length !== 1) throw new Error(`expected one ledger file, found ${files.length}: ${files.join(', ')}`);
    const body = fs.readFileSync(files[0], 'utf8');
    const record = JSON.parse(body);
    if (record.reason !== REASON) throw new Error(`${files[0]} has reason ${JSON.stringify(record.reason)}, expected ${JSON.stringify(REASON)}: ${body}`);
    if (record.rule !== 'sql/drop-table') throw new Error(`${files[0]} has rule ${JSON.stringify(record.rule)}: ${body}`);
    if (!body.includes('DROP TABLE users')) throw new Error(`${files[0]} is not about DROP TABLE users: ${body}`);
    if (record.path !== AI_FILE) throw new Error(`${files[0]} names path ${JSON.stringify(record.path)}, expected ${AI_FILE}`);
    console.log(`     ledger: ${path.relative(ws, files[0])} (${Object.keys(record).join(', ')})`);
  });

  await check('the signed-off line turns to information, the other stays an error', async () => {
    await until('.squiggly-info in the editor', async () => (await count('.editor-group-container .monaco-editor .squiggly-info')) >= 1, T.ui);
    const errors = await count('.editor-group-container .monaco-editor .squiggly-error');
    if (errors !== 1) throw new Error(`${errors} error squiggles left, expected 1 (DROP TABLE orders)`);
    await page.keyboard.press('Control+Shift+M');
    await until('a pending row in the Problems panel', async () => (await texts('.markers-panel .monaco-list-row')).some((t) => /pending/i.test(t)), T.short);
    const item = await until('the status bar item with 1 unsigned', async () => (await texts('.statusbar-item')).find((s) => /unsigned/i.test(s) && /\b1\b/.test(s)), T.ui);
    console.log(`     status bar: ${JSON.stringify(item)}`);
  });

  await check('"Countersign: Show pending sign-offs" jumps to the pending line', async () => {
    await page.locator('.editor-group-container .monaco-editor .view-lines').first().click();
    await page.keyboard.press('Control+Home');
    await until('the cursor on line 1', async () => (await cursorLine()) === 1, T.short);
    await runCommand('Countersign: Show pending sign-offs');
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: 'sql/drop-table' }).first();
    await row.waitFor({ timeout: T.ui });
    const rows = await texts('.quick-input-widget .monaco-list-row');
    await screenshot('pending-quick-pick');
    if (rows.length !== 1) throw new Error(`expected one pending sign-off, the quick pick lists ${JSON.stringify(rows)}`);
    await row.click();
    await until(`the cursor on line ${DROP_USERS_LINE}`, async () => (await cursorLine()) === DROP_USERS_LINE, T.short);
  });
}

async function humanScenario() {
  await check(`${HUMAN_FILE} opens in an editor`, async () => {
    await page.locator(SERVER_RUNNING).first().waitFor({ timeout: T.server });
    await openFile(HUMAN_FILE);
  });
  await check('DROP TABLE typed key by key gets a hint, no squiggle', async () => {
    const before = await unsignedItem();
    await page.keyboard.press('Control+End');
    await page.keyboard.type(HUMAN_TYPED, { delay: 40 });
    await until('the typed line in the editor', async () => (await editorText()).includes(HUMAN_TYPED), T.short);
    // The hint proves the server looked at the line; without it "no squiggle" would prove nothing.
    const squiggles = '.editor-group-container .monaco-editor :is(.squiggly-error, .squiggly-warning, .squiggly-info)';
    await until('a diagnostic for the typed DROP TABLE', async () => (await count(`.editor-group-container .monaco-editor .squiggly-hint, ${squiggles}`)) >= 1, T.server);
    await sleep(1500); // a late AI verdict would repaint by now
    const bad = await count(squiggles);
    if (bad !== 0) throw new Error(`${bad} error/warning/info squiggles on a line a person typed`);
    if ((await count('.editor-group-container .monaco-editor .squiggly-hint')) < 1) throw new Error('the hint for the typed DROP TABLE went away');
    // Code a person wrote needs no sign-off: the unsigned count is what it was before typing.
    const after = await unsignedItem();
    if (after !== before) throw new Error(`status bar went from ${JSON.stringify(before)} to ${JSON.stringify(after)} for code a person typed`);
  });
}

async function smokeScenario() {
  await pasteAsAi();
}

// --- Main -------------------------------------------------------------------------------------

async function collectLogs() {
  const dest = path.join(artifacts, 'logs');
  try {
    fs.rmSync(dest, { recursive: true, force: true });
    fs.mkdirSync(dest, { recursive: true });
    if (fs.existsSync(codeServerLog)) fs.copyFileSync(codeServerLog, path.join(dest, 'code-server.log'));
    const logs = path.join(userData, 'logs');
    if (fs.existsSync(logs)) fs.cpSync(logs, path.join(dest, 'workbench'), { recursive: true });
  } catch (e) {
    console.log(`     could not copy logs: ${e.message}`);
  }
  return dest;
}

let browser = null;

async function cleanup() {
  try { if (browser) await browser.close(); } catch { /* already closed */ }
  await stopCodeServer();
  if (process.env.COUNTERSIGN_E2E_KEEP === '1') console.log(`kept ${tmp}`);
  else fs.rmSync(tmp, { recursive: true, force: true });
}

async function main() {
  fs.mkdirSync(artifacts, { recursive: true });
  for (const f of fs.readdirSync(artifacts)) {
    if (f.endsWith('.png')) fs.rmSync(path.join(artifacts, f));
  }
  console.log(`vscode e2e: workspace ${ws}`);
  console.log(`vscode e2e: screenshots and logs in ${artifacts}`);
  makeWorkspace();
  writeSettings();

  if (vsix) {
    await check('the extension installs from its .vsix', async () => {
      runCodeServer(['--install-extension', vsix, '--force', '--extensions-dir', extensions, '--user-data-dir', userData], T.start);
      const list = runCodeServer(['--list-extensions', '--show-versions', '--extensions-dir', extensions, '--user-data-dir', userData], T.start);
      if (!/countersign/i.test(list)) throw new Error(`installed extensions: ${list}`);
      console.log(`     installed: ${list.trim().split('\n').join(', ')}`);
    });
  }

  const port = await freePort();
  await check('code-server starts', () => startCodeServer(port));

  browser = await chromium.launch({
    executablePath: chromiumPath,
    headless: true,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-dev-shm-usage', '--disable-component-update', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1600, height: 1000 } });
  await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: `http://127.0.0.1:${port}` });
  page = await context.newPage();

  await openWorkbench(port);
  if (!vsix) {
    await smokeScenario();
    return;
  }
  try {
    await aiScenario();
  } catch (e) {
    if (!(e instanceof ScenarioStopped)) throw e;
  }
  await humanScenario();
}

// The deadline and a stop from outside (a CI timeout, Control+C) end the run the same way:
// the checks are abandoned, and code-server and its children are stopped and waited for.
let timer;
let stop;
const deadline = new Promise((_, reject) => {
  stop = (why) => {
    aborted = true;
    reject(new Error(`${why} (last check started: "${current}")`));
  };
  timer = setTimeout(() => stop(`the run passed its ${deadlineS}s deadline`), deadlineS * 1000);
});
for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(sig, () => stop(`stopped by ${sig}`));

let rc = 0;
try {
  await Promise.race([main(), deadline]);
} catch (e) {
  if (!(e instanceof ScenarioStopped)) {
    failed += 1;
    console.log(`FAIL ${e.message ?? e}`);
    await screenshot('FAILED-run');
  }
} finally {
  clearTimeout(timer);
  const logs = await collectLogs();
  if (failed) console.log(`vscode e2e: logs in ${logs}`);
  await cleanup();
}
if (failed || !passed) rc = 1;
console.log(`vscode e2e: took ${elapsed()}`);
console.log(`vscode e2e: ${passed} passed, ${failed} failed`);
process.exit(rc);
