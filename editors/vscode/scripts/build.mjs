// Bundles the extension into dist/extension.js (vscode is provided by the editor), or with
// --tests compiles the unit tests into out/test/, one file each, for `node --test`.
import * as esbuild from 'esbuild';
import { readdirSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = new Set(process.argv.slice(2));

const common = {
  bundle: true,
  platform: 'node',
  target: 'node18',
  format: 'cjs',
  sourcemap: true,
  logLevel: 'warning',
  absWorkingDir: root,
};

if (args.has('--tests')) {
  const testDir = join(root, 'test');
  const entryPoints = readdirSync(testDir)
    .filter((name) => name.endsWith('.test.ts'))
    .map((name) => join('test', name));
  rmSync(join(root, 'out'), { recursive: true, force: true });
  // Tests only import the pure modules: bundling `vscode` in would fail, which is the point.
  await esbuild.build({ ...common, entryPoints, outdir: 'out/test' });
} else {
  const options = {
    ...common,
    entryPoints: ['src/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    minify: !args.has('--watch'),
  };
  if (args.has('--watch')) {
    const context = await esbuild.context(options);
    await context.watch();
  } else {
    rmSync(join(root, 'dist'), { recursive: true, force: true });
    await esbuild.build(options);
  }
}
