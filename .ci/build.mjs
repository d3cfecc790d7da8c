// Builds the operator CLI (ESM, code-split for fast start-up) and the one-file agent bundle for the box (Node >= 18).
import { build } from 'esbuild';
import { chmodSync, readFileSync, rmSync } from 'node:fs';

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
  external: ['cpu-features', '*.node'],
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
await build({
  ...common,
  entryPoints: { mono: 'src/cli/main.ts' },
  outfile: 'dist/agent/mono.mjs',
  target: 'node18',
});
// The CLI entry is the package's bin: it must be executable however it was built (npm ci, npm run build).
chmodSync(new URL('../dist/cli/mono.mjs', import.meta.url), 0o755);
