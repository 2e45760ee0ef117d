/**
 * The .vsix holds only what the extension needs (issue 2: "check with vsce ls"), and
 * activation stays lazy: VS Code's contribution points activate it, never `*`.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('vsce packages the bundles, media, README and package.json — no sources, tests, maps or node_modules', () => {
  const vsce = join(ROOT, 'node_modules', '.bin', 'vsce');
  const files = execFileSync(vsce, ['ls', '--no-dependencies'], { cwd: ROOT, encoding: 'utf8' }).trim().split('\n').sort();
  for (const needed of ['package.json', 'README.md', 'dist/extension.js', 'dist/cli.js', 'dist/webview.js', 'dist/webview.css', 'media/ucp.svg']) {
    assert.ok(files.includes(needed), `${needed} is packaged`);
  }
  const unwanted = files.filter((f) => /^(src|test|webview-ui|scripts|bench|node_modules|\.testbed|docs)\/|\.map$|\.ts$/.test(f));
  assert.deepEqual(unwanted, []);
  assert.ok(files.length <= 12, `only a handful of files: ${files.join(', ')}`);
});

test('activation is lazy and the extension bundle keeps vscode external', () => {
  assert.ok(!pkg.activationEvents?.includes('*'));
  assert.equal(pkg.main, './dist/extension.js');
  const bundle = readFileSync(join(ROOT, 'dist', 'extension.js'), 'utf8');
  assert.match(bundle, /require\("vscode"\)/);
  assert.equal(pkg.bin['ucp-backup'], './dist/cli.js');
});
