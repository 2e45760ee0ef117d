/**
 * An admin with only a UCP client bundle — the zip UCP downloads, or its unzipped folder —
 * reaches the API with its certificate. The zip is untrusted input: broken, incomplete or
 * foreign files give one clear error. Zips are made by the real `zip` tool; the server is the
 * FIXTURE UCP API.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { readClientBundle } from '../../src/core/api/clientBundle';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import { ConfigError } from '../../src/core/errors';
import { runCli } from '../helpers/cli';
import { startUcpApiFixture, type UcpApiFixture } from '../fixtures/ucpApiServer';

let fx: UcpApiFixture;
let dir: string;

before(async () => {
  fx = await startUcpApiFixture();
  dir = mkdtempSync(join(tmpdir(), 'api-bundle-'));
});
after(async () => {
  await fx.close();
  rmSync(dir, { recursive: true, force: true });
});

/** A bundle folder as UCP lays it out (plus files we do not need), and its zip. */
function bundle(name: string, files: Record<string, string>, zipArgs: string[] = ['-j']): { folder: string; zip: string } {
  const folder = join(dir, name);
  mkdirSync(folder, { recursive: true });
  for (const [f, text] of Object.entries({ 'env.sh': 'export DOCKER_TLS_VERIFY=1\n', ...files })) writeFileSync(join(folder, f), text);
  const zip = join(dir, `${name}.zip`);
  execFileSync('zip', ['-q', ...zipArgs, zip, ...Object.keys(files).map((f) => join(folder, f)), join(folder, 'env.sh')], { cwd: dir });
  return { folder, zip };
}

test("the zip UCP downloads (deflated) and its folder both authenticate as the bundle's user", async () => {
  const b = fx.issueClientBundle('admin');
  const { folder, zip } = bundle('ucp-bundle-admin', { 'ca.pem': b.ca, 'cert.pem': b.cert, 'key.pem': b.key });
  for (const path of [zip, folder]) {
    const files = await readClientBundle(path);
    assert.deepEqual(files, { ca: b.ca, cert: b.cert, key: b.key });
    const api = new UcpApiClient({ url: fx.url, ca: files.ca, clientCert: files });
    assert.ok(Array.isArray(await api.listBackups()), path);
  }
  const r = await runCli(['api', 'backups', '--url', fx.url, '--client-bundle', zip, '--json']);
  assert.equal(r.code, 0, r.stderr);
  assert.ok(Array.isArray(JSON.parse(r.stdout)));
});

test('a stored (uncompressed) zip with the files in a folder inside is read too', async () => {
  const b = fx.issueClientBundle('admin');
  const inner = join(dir, 'stored', 'ucp-bundle-admin');
  mkdirSync(inner, { recursive: true });
  for (const [f, text] of Object.entries({ 'ca.pem': b.ca, 'cert.pem': b.cert, 'key.pem': b.key })) writeFileSync(join(inner, f), text);
  const zip = join(dir, 'stored.zip');
  execFileSync('zip', ['-q', '-0', '-r', zip, 'ucp-bundle-admin'], { cwd: join(dir, 'stored') });
  assert.deepEqual(await readClientBundle(zip), { ca: b.ca, cert: b.cert, key: b.key });
});

test('an incomplete, mismatched, foreign or damaged zip is one clear ConfigError, never a crash', async () => {
  const b = fx.issueClientBundle('admin');
  const other = fx.issueClientBundle('admin');
  const noKey = bundle('no-key', { 'ca.pem': b.ca, 'cert.pem': b.cert }).zip;
  await assert.rejects(readClientBundle(noKey), (e) => e instanceof ConfigError && /has no key\.pem\./.test(e.message));
  const mismatched = bundle('mismatched', { 'ca.pem': b.ca, 'cert.pem': b.cert, 'key.pem': other.key }).zip;
  await assert.rejects(readClientBundle(mismatched), (e) => e instanceof ConfigError && /is unusable: .*key values mismatch/.test(e.message) && /same bundle/.test(e.hint!));

  writeFileSync(join(dir, 'not-a-zip.zip'), 'hello\n');
  await assert.rejects(readClientBundle(join(dir, 'not-a-zip.zip')), /is not a usable zip file: no end of central directory\./);
  const good = readFileSync(bundle('good', { 'ca.pem': b.ca, 'cert.pem': b.cert, 'key.pem': b.key }).zip);
  // Cut in the middle of the data, keeping the end record: offsets now point past the end.
  const damaged = Buffer.concat([good.subarray(0, 200), good.subarray(good.length - 22)]);
  writeFileSync(join(dir, 'damaged.zip'), damaged);
  await assert.rejects(readClientBundle(join(dir, 'damaged.zip')), (e) => e instanceof ConfigError && /is not a usable zip file: /.test(e.message));
  const r = await runCli(['api', 'backups', '--url', fx.url, '--client-bundle', join(dir, 'damaged.zip')]);
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /^ucp-backup: .*damaged\.zip is not a usable zip file: .*\. Download the client bundle again/);
});
