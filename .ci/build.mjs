// Builds the operator CLI (ESM, code-split for fast start-up) and the one-file agent bundle for the box (Node >= 18).
import { build } from 'esbuild';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const pkg = JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8'));
const common = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  sourcemap: false,
  legalComments: 'none',
  minify: true,
  logLevel: 'warning',
  define: { __MONO_VERSION__: JSON.stringify(pkg.version) },
  // ssh2 probes optional native add-ons inside try/catch; without them it uses pure JS.
  external: ['cpu-features', '*.node', 'pg-native'],
  // Some bundled CommonJS dependencies call require(); give ESM output a real one.
  banner: {
    js: [
      "import { createRequire as __monoCreateRequire } from 'node:module';",
      "import { fileURLToPath as __monoFileURLToPath } from 'node:url';",
      'const require = __monoCreateRequire(import.meta.url);',
      'const __filename = __monoFileURLToPath(import.meta.url);',
      "const __dirname = __filename.slice(0, __filename.lastIndexOf('/'));",
    ].join(' '),
  },
};

rmSync(new URL('../dist', import.meta.url), { recursive: true, force: true });
await build({
  ...common,
  entryPoints: { mono: 'src/cli/main.ts' },
  outdir: 'dist/cli',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node20',
  banner: { js: '#!/usr/bin/env node\n' + common.banner.js },
});
// The agent: code-split too, so that a verb loads only its own chunks (a 1.5 MB single file cost ~200 ms of every
// agent call on the box, and mono status makes one). SHA256SUMS lists every file; its hash names the installed copy.
await build({
  ...common,
  entryPoints: { mono: 'src/cli/main.ts' },
  outdir: 'dist/agent',
  outExtension: { '.js': '.mjs' },
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node18',
});
writeAgentSums(new URL('../dist/agent/', import.meta.url).pathname);
// mono/runtime: the helper Node apps import (runs on the box's Node, 18 on Debian 12), readable, with its type declarations.
await build({ ...common, banner: {}, minify: false, entryPoints: { index: 'src/runtime/index.ts' }, outdir: 'dist/runtime', outExtension: { '.js': '.mjs' }, target: 'node18' });
try {
  const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
  execFileSync(process.execPath, [tsc, 'src/runtime/index.ts', '--declaration', '--emitDeclarationOnly', '--outDir', 'dist/runtime', '--module', 'NodeNext', '--moduleResolution', 'NodeNext', '--target', 'ES2022', '--types', 'node', '--strict', '--skipLibCheck'], { stdio: 'inherit' });
} catch (error) {
  // Without TypeScript (an install without dev dependencies) the package works the same, only without typings.
  if (error?.code !== 'MODULE_NOT_FOUND') throw error;
}
// The CLI entry is the package's bin: it must be executable however it was built (npm ci, npm run build).
chmodSync(new URL('../dist/cli/mono.mjs', import.meta.url), 0o755);

/** dist/agent/SHA256SUMS in `sha256sum -c` format, sorted by path (mono setup checks the box's copy against it). */
function writeAgentSums(dir) {
  const files = readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => `${e.parentPath ?? e.path}/${e.name}`.slice(dir.length).replace(/^\/+/, ''))
    .sort();
  const lines = files.map((f) => `${createHash('sha256').update(readFileSync(dir + f)).digest('hex')}  ${f}\n`);
  writeFileSync(dir + 'SHA256SUMS', lines.join(''));
}
