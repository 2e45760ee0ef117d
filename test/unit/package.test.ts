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

test('the cluster settings cannot come from a workspace, and untrusted workspaces are declared deliberately', () => {
  const props = pkg.contributes.configuration.properties ?? pkg.contributes.configuration[0].properties;
  for (const key of ['ucpBackup.clusters', 'ucpBackup.configFile']) assert.equal(props[key].scope, 'application', `${key} is user-settings only`);
  assert.equal(pkg.capabilities?.untrustedWorkspaces?.supported, true);
  assert.match(pkg.capabilities.untrustedWorkspaces.description, /user settings only/);
  // And the code reads them so too, whatever the scope: services.ts takes inspect().globalValue.
  const services = readFileSync(join(ROOT, 'src', 'vscode', 'services.ts'), 'utf8');
  assert.match(services, /config\.inspect<T>\(key\)\?\.globalValue/);
});

test('tree row menus: a backup\'s commands are offered on backup rows only, never on the "Backups" group row', () => {
  // Every contextValue the tree sets (provider.ts, presentation.ts backupContextValue).
  const rows = ['cluster', 'node', 'backups', 'more', 'message', 'backup.inProgress', 'backup.failed', 'backup.success.local', 'backup.success.remote', 'backup.missing'];
  const offeredOn = (when: string): string[] =>
    rows.filter((row) => {
      const eq = /viewItem == (\S+)/.exec(when);
      const re = /viewItem =~ \/(.+?)\/(?:\s|$)/.exec(when);
      return eq ? eq[1] === row : re ? new RegExp(re[1]).test(row) : true;
    });
  const items = pkg.contributes.menus['view/item/context'] as { command: string; when: string }[];
  const on = (command: string) => [...new Set(items.filter((i) => i.command === command).flatMap((i) => offeredOn(i.when)))].sort();
  assert.deepEqual(on('ucpBackup.showDetails'), ['backup.failed', 'backup.inProgress', 'backup.missing', 'backup.success.local', 'backup.success.remote']);
  for (const command of ['ucpBackup.showDetails', 'ucpBackup.verify', 'ucpBackup.download', 'ucpBackup.compare', 'ucpBackup.delete']) {
    assert.ok(!on(command).includes('backups'), `${command} is not offered on the Backups group row`);
  }
  // A backup whose file is gone: details and Forget, nothing that needs the file.
  assert.deepEqual(on('ucpBackup.forgetBackup'), ['backup.missing']);
  for (const command of ['ucpBackup.verify', 'ucpBackup.download', 'ucpBackup.compare', 'ucpBackup.delete']) assert.ok(!on(command).includes('backup.missing'), `${command} is not offered on a backup whose file is missing`);
  assert.deepEqual(on('ucpBackup.clearFailed'), ['backups', 'cluster']);
});

test('no setting description speaks of the test sandbox (an admin reads them in the Settings editor)', () => {
  const props = pkg.contributes.configuration.properties ?? pkg.contributes.configuration[0].properties;
  for (const [key, p] of Object.entries(props as Record<string, { description?: string; markdownDescription?: string }>)) {
    assert.doesNotMatch(`${p.description ?? ''} ${p.markdownDescription ?? ''}`, /testbed|sandbox|demo cluster/i, key);
  }
});

test('the walkthrough goes from adding a cluster to verifying a backup; its media and commands exist', () => {
  const [w] = pkg.contributes.walkthroughs as { id: string; steps: { id: string; description: string; media: { markdown: string }; completionEvents: string[] }[] }[];
  assert.deepEqual(w.steps.map((s) => s.id), ['addCluster', 'backupNow', 'details', 'verify']);
  const commands = new Set((pkg.contributes.commands as { command: string }[]).map((c) => c.command));
  for (const step of w.steps) {
    assert.ok(readFileSync(join(ROOT, step.media.markdown), 'utf8').startsWith('# '), `${step.media.markdown} exists`);
    const linked = [...step.description.matchAll(/\(command:([\w.]+)\)/g)].map((m) => m[1]);
    assert.ok(linked.length > 0, `${step.id} has a button`);
    for (const c of [...linked, ...step.completionEvents.map((e) => e.replace('onCommand:', ''))]) assert.ok(commands.has(c), `${step.id}: ${c} is a command`);
  }
});
