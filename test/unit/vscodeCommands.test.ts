/**
 * The commands the admin sees are exactly the ones registered (one module), all in the
 * "UCP" category, and every menu entry points at one of them.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { COMMAND_IDS } from '../../src/vscode/commandIds';

const ROOT = join(__dirname, '..', '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));

test('package.json contributes exactly the registered commands, in category UCP', () => {
  const contributed: { command: string; category: string; title: string }[] = pkg.contributes.commands;
  assert.deepEqual(contributed.map((c) => c.command).sort(), [...COMMAND_IDS].sort());
  for (const c of contributed) assert.equal(c.category, 'UCP', c.command);
  const titles = Object.fromEntries(contributed.map((c) => [c.command, c.title]));
  // The palette titles the e2e tests and the README use.
  assert.equal(titles['ucpBackup.backupNow'], 'Backup Now');
  assert.equal(titles['ucpBackup.verify'], 'Verify Backup');
  assert.equal(titles['ucpBackup.showDetails'], 'Show Backup Details');
});

test('every menu entry names a registered command; verify is on .tar files in the explorer', () => {
  for (const [menu, entries] of Object.entries(pkg.contributes.menus as Record<string, { command: string; when?: string }[]>)) {
    for (const e of entries) assert.ok((COMMAND_IDS as readonly string[]).includes(e.command), `${menu}: ${e.command}`);
  }
  const explorer = pkg.contributes.menus['explorer/context'];
  assert.ok(explorer.some((e: { command: string; when: string }) => e.command === 'ucpBackup.verify' && e.when === 'resourceExtname == .tar'));
});

test('one registration module registers every id (and nothing else registers commands)', () => {
  const src = readFileSync(join(ROOT, 'src', 'vscode', 'commands.ts'), 'utf8');
  for (const id of COMMAND_IDS) assert.ok(src.includes(`'${id}':`), `no handler for ${id}`);
  const others = execFileSync('grep', ['-rl', 'registerCommand(', join(ROOT, 'src')], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(others.map((f) => f.slice(ROOT.length + 1)), ['src/vscode/commands.ts']);
});

test('the clusters file setting and UCP_BACKUP_CONFIG are documented', () => {
  const props = pkg.contributes.configuration.properties;
  assert.equal(props['ucpBackup.configFile'].type, 'string');
  assert.match(props['ucpBackup.configFile'].markdownDescription, /UCP_BACKUP_CONFIG/);
  assert.ok(pkg.contributes.viewsWelcome.some((w: { contents: string }) => w.contents.includes('command:ucpBackup.addCluster')));
});

test('Show Log opens the "UCP Backup" log channel and is offered wherever the admin may need it', () => {
  const commands = readFileSync(join(ROOT, 'src', 'vscode', 'commands.ts'), 'utf8');
  assert.match(commands, /'ucpBackup\.showLog': \(\) => services\.log\.show\(\)/);
  const log = readFileSync(join(ROOT, 'src', 'vscode', 'log.ts'), 'utf8');
  assert.match(log, /createOutputChannel\('UCP Backup', \{ log: true \}\)/, 'a LogOutputChannel');
  // Every error notification carries a "Show Log" button (showError), and the view title offers it.
  assert.match(log, /showErrorMessage\(`\$\{what\}: \$\{text\}`, \.\.\.actions, 'Show Log'\)/);
  assert.ok(pkg.contributes.menus['view/title'].some((m: { command: string }) => m.command === 'ucpBackup.showLog'));
  assert.ok(!pkg.contributes.menus.commandPalette.some((m: { command: string; when: string }) => m.command === 'ucpBackup.showLog' && m.when === 'false'), 'in the palette');
});

test('Break Stale Backup Lock never forces: the command only breaks a lock that is stale', () => {
  const manage = readFileSync(join(ROOT, 'src', 'vscode', 'flows', 'manage.ts'), 'utf8');
  assert.doesNotMatch(manage, /force: true|force: !/);
  assert.match(readFileSync(join(ROOT, 'src', 'vscode', 'lockBreak.ts'), 'utf8'), /breakLock\(docker, \{ force: false \}\)/);
});
