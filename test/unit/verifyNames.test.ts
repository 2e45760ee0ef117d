/**
 * Entry names are untrusted: an archive can hold "../", absolute paths, terminal escapes,
 * fake newlines and HTML. Verify lists them (the report keeps them exactly; the CLI shows
 * control characters escaped), flags them, and never writes anything to disk.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { verifyBackup } from '../../src/core/verify/verify';
import { displayName } from '../../src/core/verify/safeName';
import { runCli } from '../helpers/cli';
import { gpgEncrypt, tempDir, writeTree } from '../helpers/archives';

const dir = tempDir();
after(() => rmSync(dir, { recursive: true, force: true }));

const ESC = 'evil\x1b[2J\x1b]0;pwned\x07.txt';
const NEWLINE = 'fake\nok   Tar archive valid.txt';
const HTML = '<img src=x onerror=alert(1)>.txt';
const BIDI = 'invoice\u202Efdp.exe';

/** GNU tar with -P keeps "../" and absolute names as given (it strips them otherwise). */
function hostileTar(): { tar: string; outside: string; absolute: string } {
  const root = join(dir, 'root');
  const work = join(root, 'work');
  mkdirSync(work, { recursive: true });
  const names = writeTree(work);
  for (const n of [ESC, NEWLINE, HTML, BIDI]) writeFileSync(join(work, n), 'x');
  writeFileSync(join(root, 'outside.txt'), 'escapes the folder');
  const absolute = join(dir, 'absolute.txt');
  writeFileSync(absolute, 'absolute');
  const tar = join(dir, 'hostile.tar');
  const list = [...names, `./${ESC}`, `./${NEWLINE}`, `./${HTML}`, `./${BIDI}`, '../outside.txt', absolute];
  // --null: one name may hold a newline.
  const r = spawnSync('tar', ['--format', 'pax', '-P', '--no-recursion', '-C', work, '-cf', tar, '--null', '-T', '-'], { input: list.join('\0') + '\0' });
  assert.equal(r.status, 0, r.stderr.toString());
  return { tar, outside: '../outside.txt', absolute };
}

test('hostile names are listed exactly, flagged unsafe, and nothing is extracted', async () => {
  const { tar, outside, absolute } = hostileTar();
  const file = gpgEncrypt(dir, tar);
  const before = readdirSync(dir).sort();
  const r = await verifyBackup({ kind: 'file', path: file }, { passphrase: 'secret12chars' });
  const names = r.entries.map((e) => e.name);
  for (const n of [`./${ESC}`, `./${NEWLINE}`, `./${HTML}`, `./${BIDI}`, outside, absolute]) assert.ok(names.includes(n), `missing ${JSON.stringify(n)}`);
  const check = r.checks.find((c) => c.id === 'names')!;
  assert.equal(check.pass, false);
  assert.equal(r.verdict, 'INVALID');
  assert.match(check.reason, /^4 unsafe/); // ESC, newline, "..", absolute (bidi is shown escaped but harmless on disk)
  assert.doesNotMatch(check.reason, /[\x00-\x1f]/, 'the reason itself must be safe to print');
  assert.deepEqual(readdirSync(dir).sort(), before, 'verify wrote something');
});

test('the CLI prints hostile names escaped: no raw control characters reach the terminal', async () => {
  const { tar } = hostileTar();
  const text = await runCli(['verify', tar, '--list']);
  assert.equal(text.code, 1, text.stderr);
  assert.doesNotMatch(text.stdout, /[\x00-\x08\x0b-\x1f\x7f]/);
  assert.ok(text.stdout.includes(displayName(`./${ESC}`)));
  assert.ok(text.stdout.includes('./fake\\x0aok   Tar archive valid.txt'));
  assert.ok(text.stdout.includes('invoice\\u202efdp.exe'));
  // Every listed line is one entry: the newline in a name did not fake a line.
  assert.ok(!text.stdout.split('\n').some((l) => l.startsWith('ok   Tar archive valid.txt')));
  const json = await runCli(['verify', tar, '--json']);
  assert.equal(json.code, 1);
  assert.doesNotMatch(json.stdout, /[\x00-\x08\x0b\x0c\x0e-\x1f]/);
  const report = JSON.parse(json.stdout) as { entries: { name: string }[] };
  assert.ok(report.entries.some((e) => e.name === `./${HTML}`), 'JSON keeps the raw name for the webview to escape');
});
