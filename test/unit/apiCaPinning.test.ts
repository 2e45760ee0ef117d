/**
 * An admin trusts a UCP's own CA the way SSH trusts a host key: the CA UCP serves at /ca is
 * shown with its SHA-256 fingerprint, pinned only after consent, and a different CA later is
 * refused with both fingerprints instead of being trusted. Skipping checks is an explicit,
 * warned option. Certificates: a throwaway CA and controller certificate made by openssl;
 * the server is the FIXTURE UCP API on 127.0.0.1.
 */
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UcpApiClient } from '../../src/core/api/ucpApiClient';
import { consentToFingerprint, MemoryCaPinStore, normalizeFingerprint, trustUcpCa, type CaOffer } from '../../src/core/api/caTrust';
import { CaChangedError, CaDoesNotSignServerError, CaNotTrustedError, TlsError } from '../../src/core/api/tlsErrors';
import { describeError } from '../../src/core/errors';
import { runCli } from '../helpers/cli';
import { startUcpApiFixture, type UcpApiFixture } from '../fixtures/ucpApiServer';
import { makeSelfSignedCert, makeUcpServerTls } from '../fixtures/api/selfSignedCert';

let dir: string;
const fixtures: UcpApiFixture[] = [];

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'api-ca-'));
  writeFileSync(join(dir, 'password'), 'admin-password\n');
});
after(async () => {
  await Promise.all(fixtures.map((f) => f.close()));
  rmSync(dir, { recursive: true, force: true });
});

async function fixture(): Promise<UcpApiFixture> {
  const fx = await startUcpApiFixture();
  fixtures.push(fx);
  return fx;
}

/** The fingerprint as openssl prints it: an independent check of ours. */
function opensslFingerprint(pem: string): string {
  const out = execFileSync('openssl', ['x509', '-noout', '-fingerprint', '-sha256'], { input: pem }).toString();
  return out.trim().replace(/^sha256 Fingerprint=/i, '');
}

/** UCP reinstalled (or someone in between): a new cluster CA signs the certificate it presents. */
function replaceCa(fx: UcpApiFixture): string {
  const next = makeUcpServerTls('another-cluster-root-ca');
  fx.replaceCertificate(next.server, next.ca.cert);
  return next.ca.cert;
}

test("first contact: the CA from /ca is offered with openssl's SHA-256 fingerprint, pinned on consent, then trusted without asking", async () => {
  const fx = await fixture();
  const store = new MemoryCaPinStore();
  const offers: CaOffer[] = [];
  const url = new URL(fx.url);
  const pem = await trustUcpCa(url, store, async (offer) => (offers.push(offer), true));
  assert.equal(offers.length, 1);
  assert.equal(offers[0].origin, url.origin);
  assert.deepEqual(offers[0].certificates.map((c) => c.sha256), [opensslFingerprint(fx.caPem)]);
  assert.match(offers[0].certificates[0].subject, /CN=ucp-fixture-cluster-root-ca/);
  assert.deepEqual((await store.get(url.origin))?.sha256, [opensslFingerprint(fx.caPem)]);

  const api = new UcpApiClient({ url: fx.url, ca: pem });
  assert.ok(await api.login('admin', 'admin-password'));
  assert.equal(await trustUcpCa(url, store, async () => assert.fail('asked again for a pinned CA')), pem);
});

test('consent refused: nothing is pinned and the error names the fingerprint to check', async () => {
  const fx = await fixture();
  const store = new MemoryCaPinStore();
  const err = await trustUcpCa(new URL(fx.url), store, async () => false).catch((e: unknown) => e);
  assert.ok(err instanceof CaNotTrustedError, String(err));
  assert.deepEqual(err.served, [opensslFingerprint(fx.caPem)]);
  assert.equal(store.pins.size, 0);
});

test('a changed CA is refused like a changed host key, with both fingerprints, and the pin stays', async () => {
  const fx = await fixture();
  const store = new MemoryCaPinStore();
  const url = new URL(fx.url);
  const pinned = await trustUcpCa(url, store, async () => true);
  const oldFp = opensslFingerprint(fx.caPem);
  const newCa = replaceCa(fx);

  const err = await new UcpApiClient({ url: fx.url, ca: await trustUcpCa(url, store, async () => true) }).login('admin', 'admin-password').catch((e: unknown) => e);
  assert.ok(err instanceof CaChangedError, String(err));
  assert.deepEqual(err.pinned, [oldFp]);
  assert.deepEqual(err.served, [opensslFingerprint(newCa)]);
  assert.match(describeError(err), /has changed .*refusing to connect\. Someone could be intercepting the connection.*\. If the change is expected/);
  assert.equal((await store.get(url.origin))?.pem, pinned);
  assert.equal(err.exitCode, 2);
});

test('a /ca that does not sign the certificate presented is not offered for consent', async () => {
  const fx = await fixture();
  fx.caPem = makeUcpServerTls('unrelated-ca').ca.cert;
  const err = await trustUcpCa(new URL(fx.url), new MemoryCaPinStore(), async () => assert.fail('offered a CA that does not sign the server')).catch((e: unknown) => e);
  assert.ok(err instanceof CaDoesNotSignServerError, String(err));
  assert.match(err.hint!, /proxy/);
});

test('without a pin: no CA names the fingerprint /ca serves, another CA is a changed CA, a wrong host name is about --url', async () => {
  const fx = await fixture();
  const noCa = await new UcpApiClient({ url: fx.url }).login('admin', 'admin-password').catch((e: unknown) => e);
  assert.ok(noCa instanceof CaNotTrustedError, String(noCa));
  assert.deepEqual(noCa.served, [opensslFingerprint(fx.caPem)]);
  assert.match(noCa.hint!, /Check that fingerprint with UCP's admin.*--pin-sha256/);
  const otherCa = makeSelfSignedCert('some-other-ca').cert;
  await assert.rejects(new UcpApiClient({ url: fx.url, ca: otherCa }).login('admin', 'admin-password'), CaChangedError);
  assert.ok(await new UcpApiClient({ url: fx.url, insecure: true }).login('admin', 'admin-password'));

  // A certificate from the right CA but for another name: the hint is about --url, not the CA.
  const elsewhere = makeSelfSignedCert('ucp-elsewhere', 'DNS:ucp.example.invalid');
  const fx2 = await startUcpApiFixture({ cert: elsewhere });
  fixtures.push(fx2);
  const err = await new UcpApiClient({ url: fx2.url, ca: elsewhere.cert }).login('admin', 'admin-password').catch((e: unknown) => e);
  assert.ok(err instanceof TlsError, String(err));
  assert.match(err.message, /ERR_TLS_CERT_ALTNAME_INVALID/);
  assert.match(err.hint!, /not for this host name/);
});

test('fingerprints are accepted with or without colons, any case, "sha256:" prefix; anything else is refused', () => {
  const fp = 'AB:'.repeat(31) + 'AB';
  assert.equal(normalizeFingerprint(fp.toLowerCase().replace(/:/g, '')), fp);
  assert.equal(normalizeFingerprint(`sha256:${fp}`), fp);
  assert.throws(() => normalizeFingerprint('AB:CD'), /not a SHA-256 fingerprint/);
  assert.throws(() => consentToFingerprint('nope'), /not a SHA-256 fingerprint/);
});

test('CLI: `api ca` prints and saves what /ca serves; --pin-sha256 trusts exactly that CA; another fingerprint is refused', async () => {
  const fx = await fixture();
  const fp = opensslFingerprint(fx.caPem);
  const shown = await runCli(['api', 'ca', '--url', fx.url, '--save', join(dir, 'saved-ca.pem')]);
  assert.equal(shown.code, 0, shown.stderr);
  assert.match(shown.stdout, new RegExp(`^SHA-256 ${fp}  .*CN=ucp-fixture-cluster-root-ca$`, 'm'));
  assert.match(shown.stderr, new RegExp(`--pin-sha256 ${fp}`));
  assert.equal(readFileSync(join(dir, 'saved-ca.pem'), 'utf8').trim(), fx.caPem.trim());

  const auth = ['--username', 'admin', '--password-file', join(dir, 'password')];
  const pinned = await runCli(['api', 'backups', '--url', fx.url, '--pin-sha256', fp.replace(/:/g, '').toLowerCase(), ...auth, '--json']);
  assert.equal(pinned.code, 0, pinned.stderr);
  assert.ok(Array.isArray(JSON.parse(pinned.stdout)));

  const wrong = await runCli(['api', 'backups', '--url', fx.url, '--pin-sha256', 'AB:'.repeat(31) + 'AB', ...auth]);
  assert.equal(wrong.code, 2, wrong.stderr);
  assert.match(wrong.stderr, new RegExp(`has changed \\(now SHA-256 ${fp}; trusted: AB:AB`));
  assert.equal(fx.requests.filter((r) => r.route === 'login').length, 1, 'no password sent to an unpinned CA');
});

test('CLI: a --ca file from before a CA change is refused as a changed CA; --insecure works but warns first', async () => {
  const fx = await fixture();
  writeFileSync(join(dir, 'old-ca.pem'), fx.caPem);
  const oldFp = opensslFingerprint(fx.caPem);
  replaceCa(fx);
  const auth = ['--username', 'admin', '--password-file', join(dir, 'password')];
  const changed = await runCli(['api', 'backups', '--url', fx.url, '--ca', join(dir, 'old-ca.pem'), ...auth]);
  assert.equal(changed.code, 2, changed.stderr);
  assert.match(changed.stderr, new RegExp(`has changed \\(now SHA-256 [0-9A-F:]{95}; trusted: ${oldFp}\\); refusing to connect`));

  const insecure = await runCli(['api', 'backups', '--url', fx.url, '--insecure', ...auth, '--json']);
  assert.equal(insecure.code, 0, insecure.stderr);
  assert.match(insecure.stderr, /^ucp-backup: warning: UCP's certificate is not checked \(--insecure\): anyone on the network path can read the password and token/m);
  const both = await runCli(['api', 'backups', '--url', fx.url, '--insecure', '--pin-sha256', oldFp, ...auth]);
  assert.equal(both.code, 2);
  assert.match(both.stderr, /exclude each other/);
});
