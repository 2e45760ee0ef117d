/**
 * The details webview in real Chromium: the admin opens a backup with 100,000 entries and
 * it stays responsive (only a window of rows in the DOM), filters and sorts, and hostile
 * archive member names show as literal text and run nothing — under the extension's CSP.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import * as esbuild from 'esbuild';
import { chromium, type Browser, type Page } from 'playwright-core';
import { webviewHtml } from '../../src/vscode/panels/html';
import type { BackupRecord, EntryView, HostMessage, ReportView, WebviewMessage } from '../../src/shared/protocol';

const ROOT = join(__dirname, '..', '..');
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

const HOSTILE = [
  '<img src=x onerror="window.__pwned=1">',
  '../../etc/passwd',
  'red\x1b[31mtext',
  'invoice\u202Egpj.exe',
  '<script>window.__pwned=2</script>',
];

/** What the stub puts on the page's global object (the root tsconfig has no DOM lib). */
interface PageGlobals {
  __posted: WebviewMessage[];
  __state: unknown;
  __violations: string[];
  __pwned?: number;
  postMessage(message: unknown, targetOrigin: string): void;
}

let server: Server;
let browser: Browser;
let outdir: string;
let origin: string;

// Installed before the bundle, like VS Code's own preload: records what the app posts and
// every CSP violation.
const STUB = `
window.__posted = []; window.__violations = []; window.__state = undefined;
document.addEventListener('securitypolicyviolation', (e) => window.__violations.push(e.violatedDirective + ' ' + e.blockedURI));
window.acquireVsCodeApi = () => ({
  postMessage: (m) => window.__posted.push(m),
  getState: () => window.__state,
  setState: (s) => { window.__state = s; },
});`;

before(async () => {
  outdir = await mkdtemp(join(tmpdir(), 'ucp-webview-'));
  // Same entry and options as esbuild.mjs, built from source so the test never sees a stale dist/.
  await esbuild.build({ entryPoints: { webview: join(ROOT, 'webview-ui/src/main.ts') }, bundle: true, outdir, platform: 'browser', format: 'esm', target: 'es2022', logLevel: 'silent' });
  const nonce = 'dGVzdC1ub25jZS0xMjM0';
  server = createServer(async (req, res) => {
    const files: Record<string, [string, string]> = { '/webview.js': ['webview.js', 'text/javascript'], '/webview.css': ['webview.css', 'text/css'] };
    if (req.url === '/index.html') {
      const html = webviewHtml({ cspSource: origin, scriptUri: `${origin}/webview.js`, styleUri: `${origin}/webview.css`, nonce }).replace(
        '<script type="module"',
        `<script nonce="${nonce}">${STUB}</script>\n<script type="module"`,
      );
      res.writeHead(200, { 'content-type': 'text/html' }).end(html);
    } else if (req.url && files[req.url]) {
      res.writeHead(200, { 'content-type': files[req.url][1] }).end(await readFile(join(outdir, files[req.url][0])));
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS });
});

after(async () => {
  await browser?.close();
  await new Promise((r) => server?.close(r));
  await rm(outdir, { recursive: true, force: true });
});

async function openPage(): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  await page.goto(`${origin}/index.html`);
  await page.waitForFunction('window.__posted.length > 0');
  return page;
}

async function post(page: Page, message: HostMessage): Promise<void> {
  await page.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message);
}

/** Builds the 100k-entry report inside the page (cheaper than shipping it over CDP). */
async function postBigReport(page: Page, count: number, hostile: string[]): Promise<void> {
  await page.evaluate(
    ({ count, hostile }) => {
      const entries: EntryView[] = [];
      const base = { type: 'file' as const, mode: 0o644, uid: 65534, gid: 65534, mtime: '2021-09-13T16:11:00Z' };
      for (let i = 0; i < count; i++) entries.push({ ...base, name: `./ucp-auth-store-data/file-${String(i).padStart(6, '0')}.dat`, size: i });
      entries.push({ ...base, name: './ucp-controller-server-certs/key.pem', size: 2459, mode: 0o600 });
      for (const name of hostile) entries.push({ ...base, name, size: 1 });
      const report: ReportView = {
        verdict: 'VALID', source: '/backups/big.tar', encrypted: true, entryCount: entries.length, entries,
        checks: [{ id: 'count', title: '27 or more entries', pass: true, reason: `${entries.length} entries` }, { id: 'key', title: 'key.pem present', pass: true, reason: 'found' }],
      };
      const record = { id: 'b-1', encrypted: true, fileName: '<b>big.tar</b>', logFileName: '', backupPath: '/backups', backupState: 'SUCCESS', nodeLocation: 'manager1', shortError: '', created_at: '2024-01-01T00:00:00Z', completed_at: '2024-01-01T00:01:00Z', size: 123456, sha256: 'ab'.repeat(32), ucpVersion: '3.2.4', engine: 'builtin', location: 'local' };
      (globalThis as unknown as PageGlobals).postMessage({ type: 'init', content: { kind: 'details', ref: { kind: 'backup', cluster: 'c1', id: 'b-1' }, record, report } }, '*');
    },
    { count, hostile },
  );
}

const rowsInDom = (page: Page) => page.locator('#entries .vlist-row').count();
const entryNames = (page: Page) => page.locator('#entries .vlist-row.entry .cell.name').allTextContents();

describe('details webview in Chromium', () => {
  test('it says ready before anything else, and the host is then free to post', async () => {
    const page = await openPage();
    const posted = await page.evaluate(() => (globalThis as unknown as PageGlobals).__posted);
    assert.deepEqual(posted[0], { type: 'ready' });
    await page.close();
  });

  test('a 100,000-entry listing keeps only a window of rows in the DOM, and scrolling shows later rows', async () => {
    const page = await openPage();
    await postBigReport(page, 100_000, []);
    await page.locator('#entries .vlist-row').first().waitFor();
    const inDom = await rowsInDom(page);
    assert.ok(inDom > 10 && inDom < 200, `rows in DOM: ${inDom}`);
    assert.equal(await page.locator('#entries').getAttribute('aria-rowcount'), String(100_001 + 2)); // + 2 group headers
    assert.match(await page.locator('.listing .count').innerText(), /100,001 entries/);

    await page.locator('#entries').evaluate((v) => (v.scrollTop = v.scrollHeight));
    await page.waitForFunction("[...document.querySelectorAll('#entries .vlist-row.entry')].some((r) => r.dataset.name.endsWith('file-099999.dat'))");
    assert.ok((await rowsInDom(page)) < 200);
    await page.close();
  });

  test('the filter box narrows the listing and sort reorders it', async () => {
    const page = await openPage();
    await postBigReport(page, 100_000, []);
    await page.locator('#entries .vlist-row').first().waitFor();
    await page.locator('#filter input').fill('key.pem');
    await page.waitForFunction("document.querySelector('.listing .count').textContent.startsWith('1 of')");
    assert.deepEqual(await entryNames(page), ['./ucp-controller-server-certs/key.pem']);
    assert.equal(await page.locator('#entries .vlist-row.group').innerText(), '▾ Certificates and keys (1)');

    await page.locator('#filter input').fill('file-00000');
    await page.waitForFunction("document.querySelector('.listing .count').textContent.startsWith('10 of')");
    await page.locator('button.sort[data-column="size"]').click();
    await page.locator('button.sort[data-column="size"]').click();
    assert.equal(await page.locator('[role="columnheader"].size').getAttribute('aria-sort'), 'descending');
    const names = await entryNames(page);
    assert.equal(names[0], './ucp-auth-store-data/file-000009.dat');
    assert.equal(names.at(-1), './ucp-auth-store-data/file-000000.dat');
    // Only ids/filter/sort are persisted for the serializer.
    const state = await page.evaluate(() => (globalThis as unknown as PageGlobals).__state);
    assert.deepEqual(state, { ref: { kind: 'backup', cluster: 'c1', id: 'b-1' }, filter: 'file-00000', sort: { column: 'size', descending: true } });
    await page.close();
  });

  test('hostile entry names render as literal text and execute nothing', async () => {
    const page = await openPage();
    await postBigReport(page, 3, HOSTILE);
    await page.locator('#entries .vlist-row').first().waitFor();
    const names = await entryNames(page);
    assert.ok(names.includes('<img src=x onerror="window.__pwned=1">'), JSON.stringify(names));
    assert.ok(names.includes('<script>window.__pwned=2</script>'));
    assert.ok(names.includes('../../etc/passwd'));
    // Control and bidi-override characters are shown as visible escapes, not interpreted.
    assert.ok(names.includes('red\\x1b[31mtext'), names.join('|'));
    assert.ok(names.includes('invoice\\u202egpj.exe'));
    assert.equal(await page.locator('img, #app script').count(), 0);
    assert.equal(await page.locator('table.schema tr[data-field="fileName"] td').innerText(), '<b>big.tar</b>');
    assert.equal(await page.evaluate(() => (globalThis as unknown as PageGlobals).__pwned), undefined);
    await page.close();
  });

  test('the header is the spec schema table, the verdict a text badge, and the CSP holds', async () => {
    const page = await openPage();
    await postBigReport(page, 30, []);
    await page.locator('table.schema').waitFor();
    // Human labels, the schema key on hover; no row for what is empty (logFileName, shortError, engineReason).
    const fields = await page.locator('table.schema th[scope="row"]').allTextContents();
    assert.deepEqual(fields, ['Backup ID', 'Encrypted', 'File name', 'Folder', 'State', 'Node', 'Created', 'Completed', 'Size', 'SHA-256', 'UCP version', 'Engine', 'Last restore drill']);
    assert.equal(await page.locator('table.schema tr[data-field="created_at"] th').getAttribute('title'), 'created_at (Backup schema)');
    assert.match((await page.locator('table.schema tr[data-field="created_at"] td').getAttribute('title')) ?? '', /^2024-01-01 00:00:00 UTC/);
    assert.equal(await page.locator('table.schema tr[data-field="shortError"]').count(), 0);
    assert.match(await page.locator('table.schema tr[data-field="lastDrill"] td').innerText(), /^never drilled/);
    assert.equal(await page.locator('table.schema tr[data-field="nodeLocation"] td').innerText(), 'manager1');
    assert.equal(await page.locator('vscode-badge.verdict').innerText(), 'VALID');
    assert.equal(await page.locator('table.checks tr[data-check="key"] .check-result').innerText(), '✓ PASS');
    // vscode-elements rendered (shadow roots attached), nothing blocked by the CSP.
    assert.equal(await page.locator('#filter').evaluate((e) => e.shadowRoot !== null), true);
    assert.deepEqual(await page.evaluate(() => (globalThis as unknown as PageGlobals).__violations), []);
    await page.close();
  });

  test('a restore drill report: its own heading and badge, WARN as a third state, the record\'s last drill in the header', async () => {
    const page = await openPage();
    const record = { id: 'd-1', encrypted: true, fileName: 'd.tar', logFileName: '', backupPath: '/backups', backupState: 'SUCCESS', nodeLocation: 'manager1', shortError: '', created_at: '2024-01-01T00:00:00Z', completed_at: '2024-01-01T00:01:00Z', lastDrill: { at: '2024-01-02T00:00:00Z', verdict: 'WARN', findings: ['WARN Server certificate: expires in 10 days'], revision: 42, keys: 31, ranOn: 'manager2', durationMs: 900 } } as BackupRecord;
    const report: ReportView = {
      verdict: 'WARN', title: 'Restore drill', source: '/backups/d.tar', encrypted: true, entryCount: 0, entries: [],
      checks: [{ id: 'etcdRestore', title: 'etcd snapshot restores', pass: true, status: 'PASS', reason: 'revision 42' }, { id: 'certificate', title: 'Server certificate', pass: true, status: 'WARN', reason: 'expires in 10 days' }],
    };
    await post(page, { type: 'init', content: { kind: 'details', ref: { kind: 'backup', cluster: 'demo', id: 'd-1' }, record, report } });
    await page.locator('#report-title').waitFor();
    assert.match(await page.locator('#report-title').innerText(), /^Restore drill\s+WARN$/);
    assert.equal(await page.locator('table.checks tr[data-check="certificate"] .check-result').innerText(), '⚠ WARN');
    assert.equal(await page.locator('table.checks tr[data-check="certificate"]').getAttribute('class'), 'warn');
    assert.equal(await page.locator('table.checks tr[data-check="etcdRestore"] .check-result').innerText(), '✓ PASS');
    assert.equal(await page.locator('table.schema tr[data-field="lastDrill"] td').innerText(), 'WARN on 2024-01-02T00:00:00Z (etcd on manager2, revision 42, 31 keys) — WARN Server certificate: expires in 10 days');
    assert.equal(await page.locator('table.schema tr.new-field').count(), 0, 'lastDrill is ours, not a field a newer UCP added');
    await page.close();
  });

  test('an INVALID report shows the failing check with its reason; progress and errors show in the status line', async () => {
    const page = await openPage();
    await post(page, { type: 'init', content: { kind: 'details', ref: { kind: 'file', path: '/tmp/x.tar' } } });
    await page.locator('#verify').click();
    const posted = await page.evaluate(() => (globalThis as unknown as PageGlobals).__posted);
    assert.deepEqual(posted.at(-1), { type: 'requestVerify' });
    await post(page, { type: 'progress', message: 'Decrypting', percent: 40 });
    assert.equal(await page.locator('#status').innerText(), 'Decrypting (40%)');
    await post(page, {
      type: 'report',
      report: { verdict: 'INVALID', source: '/tmp/x.tar', encrypted: false, entryCount: 3, entries: [], checks: [{ id: 'count', title: '27 or more entries', pass: false, reason: 'only 3 entries' }] },
    });
    await page.locator('vscode-badge.verdict').waitFor();
    assert.equal(await page.locator('vscode-badge.verdict').innerText(), 'INVALID');
    assert.equal(await page.locator('table.checks tr[data-check="count"] .reason').innerText(), 'only 3 entries');
    assert.equal(await page.locator('table.checks tr[data-check="count"] .check-result').innerText(), '✗ FAIL');
    assert.equal(await page.locator('#verify').count(), 0);
    await page.close();
  });

  test('compare shows added, removed and changed entries', async () => {
    const page = await openPage();
    const e = (name: string, size: number): EntryView => ({ name, type: 'file', size, mode: 0o644, uid: 0, gid: 0, mtime: '2021-01-01T00:00:00Z' });
    const report = (entries: EntryView[]): ReportView => ({ verdict: 'VALID', source: 's', encrypted: false, entryCount: entries.length, entries, checks: [] });
    await post(page, {
      type: 'init',
      content: {
        kind: 'compare',
        ref: { kind: 'compare', a: { kind: 'file', path: '/a.tar' }, b: { kind: 'file', path: '/b.tar' } },
        a: { label: 'a.tar', report: report([e('./x', 1), e('./y', 2)]) },
        b: { label: 'b.tar', report: report([e('./y', 3), e('./z', 4)]) },
        diff: { added: [e('./z', 4)], removed: [e('./x', 1)], changed: [{ name: './y', a: e('./y', 2), b: e('./y', 3), fields: ['size'] }], unchanged: 0 },
      },
    });
    await page.locator('.diff-summary').waitFor();
    assert.equal(await page.locator('.diff-summary').innerText(), '1 added · 1 removed · 1 changed · 0 unchanged');
    const rows = await page.locator('#diff .vlist-row').allInnerTexts();
    assert.deepEqual(rows.map((r) => r.replace(/\s+/g, ' ').trim()), ['removed ./x 1 B', 'changed ./y size 2 B → 3 B', 'added ./z 4 B']);
    await page.close();
  });
});
