/**
 * Entry names are untrusted: an archive can hold "../", absolute paths, terminal escapes,
 * fake newlines and HTML. Verify lists them (the report keeps them exactly; the CLI shows
 * control characters escaped), flags them, and never writes anything to disk.
 */
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { verifyBackup } from '../../src/core/verify/verify';
import { displayName, safeText } from '../../src/core/verify/safeName';
import { displayName as webviewDisplayName } from '../../src/shared/format';
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
  assert.match(check.reason, /^5 unsafe/); // ESC, newline, bidi override, "..", absolute
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

/** Every character the names check must flag: C0 (NUL ends a tar name, so from 0x01), DEL, C1, bidi controls. */
const CONTROLS = [
  ...Array.from({ length: 0x1f }, (_, i) => i + 1),
  0x7f,
  ...Array.from({ length: 0x20 }, (_, i) => 0x80 + i),
  0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c, 0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069,
].map((c) => String.fromCodePoint(c));
/** What must never reach a terminal raw (newline aside: the CLI's own line ends). */
const RAW = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/u;

/**
 * Python's tarfile writes each name as given: pax (UTF-8, so C1 as U+0080–U+009F) and GNU
 * with latin-1 (a raw one-byte C1 such as 0x9b, CSI to an 8-bit terminal). A literal
 * backslash name ("\\x1b" typed out) is safe and must stay told apart from a real ESC.
 */
function controlTar(format: 'PAX' | 'GNU'): { tar: string; names: string[] } {
  const names = [...CONTROLS.filter((c) => format === 'PAX' || c.codePointAt(0)! <= 0xff).map((c) => `./n-${c.codePointAt(0)!.toString(16)}-${c}.txt`), './literal-\\x1b.txt'];
  const tar = join(dir, `controls-${format}.tar`);
  const py = `import io, json, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.${format}_FORMAT, encoding=${format === 'PAX' ? "'utf-8'" : "'latin-1'"}) as t:
    for n in json.load(sys.stdin):
        ti = tarfile.TarInfo(n); ti.size = 1; t.addfile(ti, io.BytesIO(b'x'))`;
  const r = spawnSync('python3', ['-c', py, tar], { input: JSON.stringify(names) });
  assert.equal(r.status, 0, r.stderr.toString());
  return { tar, names };
}

for (const format of ['PAX', 'GNU'] as const) {
  test(`${format}: every C0, DEL, C1 and bidi control in a name is unsafe, and every output shows it escaped exactly once`, async () => {
    const { tar, names } = controlTar(format);
    const unsafe = names.length - 1;
    const r = await verifyBackup({ kind: 'file', path: tar });
    assert.deepEqual(r.entries.map((e) => e.name), names, 'the report keeps each name exactly (C1 bytes too)');
    const check = r.checks.find((c) => c.id === 'names')!;
    assert.equal(check.pass, false);
    assert.match(check.reason, new RegExp(`^${unsafe} unsafe: `));
    assert.doesNotMatch(check.reason, RAW);
    // The reason names the first entries escaped once: "\x01", not "\\x01".
    assert.ok(check.reason.includes(`${displayName(names[0])} (contains control characters (\\x01))`), check.reason);

    const text = await runCli(['verify', tar, '--list']);
    assert.equal(text.code, 1, text.stderr);
    assert.doesNotMatch(text.stdout, RAW);
    const lines = text.stdout.split('\n');
    for (const n of names) assert.equal(lines.filter((l) => l.endsWith(` ${displayName(n)}`)).length, 1, `${JSON.stringify(n)} listed once, escaped once`);
    assert.ok(lines.some((l) => l.endsWith(' ./literal-\\\\x1b.txt')), 'a typed-out backslash is doubled, so it cannot pass for an escape');
    assert.ok(text.stdout.includes(`FAIL Entry names safe to list and extract: ${check.reason}\n`), 'the CLI prints the reason as the report has it');

    const json = JSON.parse((await runCli(['verify', tar, '--json'])).stdout) as { entries: { name: string }[]; checks: { id: string; reason: string }[] };
    assert.deepEqual(json.entries.map((e) => e.name), names, 'JSON keeps the raw names (the webview escapes them)');
    assert.equal(json.checks.find((c) => c.id === 'names')!.reason, check.reason);
    // The webview's listing escapes with the very same function, and shows reasons as they are.
    assert.equal(webviewDisplayName, displayName);
    for (const n of names) assert.equal(safeText(displayName(n)), displayName(n));
  });
}

test('a truncated tar names the entry it stops in escaped once, in the report and on the terminal', async () => {
  const name = './cut\x1b[2J\u202e.bin';
  const tar = join(dir, 'cut.tar');
  const py = `import io, sys, tarfile
with tarfile.open(sys.argv[1], 'w', format=tarfile.PAX_FORMAT) as t:
    ti = tarfile.TarInfo(sys.argv[2]); ti.size = 4096; t.addfile(ti, io.BytesIO(bytes(4096)))`;
  assert.equal(spawnSync('python3', ['-c', py, tar, name]).status, 0);
  const cut = join(dir, 'cut-short.tar');
  writeFileSync(cut, readFileSync(tar).subarray(0, 3 * 512));
  const r = await verifyBackup({ kind: 'file', path: cut });
  const reason = r.checks.find((c) => c.id === 'tar')!.reason;
  assert.ok(reason.includes(`inside the data of "${displayName(name)}"`), reason);
  const text = await runCli(['verify', cut]);
  assert.doesNotMatch(text.stdout, RAW);
  assert.ok(text.stdout.includes(`inside the data of "./cut\\x1b[2J\\u202e.bin"`), text.stdout);
});
