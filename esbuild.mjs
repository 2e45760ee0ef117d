// One build script, two bundles: the extension host + CLI (Node, CommonJS) and the webview (browser).
import * as esbuild from 'esbuild';
import { pathToFileURL } from 'node:url';

const production = process.argv.includes('--production');
const watch = process.argv.includes('--watch');

const common = { bundle: true, sourcemap: !production, minify: production, logLevel: 'info' };

/** How Node code ships (extension host and CLI); the memory tests bundle the CLI with these too. */
export const nodeBundleOptions = {
  bundle: true,
  platform: 'node',
  format: 'cjs',
  target: 'node20',
  // ssh2's optional native parts are not built here (npm runs no dependency install
  // scripts) and ssh2 falls back to pure JS; keep them out of the bundle.
  external: ['vscode', 'cpu-features', './crypto/build/Release/sshcrypto.node'],
  // openpgp's ESM build calls createRequire(import.meta.url), which is empty in a CJS bundle.
  define: { 'import.meta.url': 'importMetaUrl' },
  banner: { js: "const importMetaUrl = require('url').pathToFileURL(__filename).href;" },
};

const builds = [
  {
    ...common,
    ...nodeBundleOptions,
    entryPoints: { extension: 'src/extension.ts', cli: 'src/cli.ts' },
    outdir: 'dist',
  },
  {
    ...common,
    entryPoints: { webview: 'webview-ui/src/main.ts' },
    outdir: 'dist',
    platform: 'browser',
    format: 'esm',
    target: 'es2022',
  },
];

// Imported (for nodeBundleOptions) it builds nothing; run as `node esbuild.mjs` it builds.
if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  if (watch) {
    for (const b of builds) await (await esbuild.context(b)).watch();
  } else {
    await Promise.all(builds.map((b) => esbuild.build(b)));
  }
}
