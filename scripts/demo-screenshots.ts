/**
 * The README's screenshots, taken from the demo's clean history (never the test suite's), in a
 * light and a dark theme, each showing one thing: the tree with the status bar, a backup's
 * details, a verify report. Real code-server in real Chromium (test/helpers/codeServer.ts).
 * Run after `npm run demo` seeded the demo history, under the cluster lock:
 *
 *   flock /tmp/ucp-cluster.lock node --import tsx scripts/demo-screenshots.ts
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CodeServerSession, SCREENSHOTS, UI_TIMEOUT, poll } from '../test/helpers/codeServer';

// Before the session starts: code-server (and so the extension host) inherits it.
process.env.UCP_BACKUP_HISTORY_SCOPE = 'demo';
const ROOT = join(__dirname, '..');
const PASSPHRASE = readFileSync(process.env.UCP_DEMO_PASSPHRASE_FILE ?? '/tmp/ucp-backup-demo/passphrase', 'utf8').trim();
const THEMES = { light: 'Default Light Modern', dark: 'Default Dark Modern' } as const;

async function shoot(kind: keyof typeof THEMES): Promise<void> {
  const s = await CodeServerSession.start({ settings: { 'workbench.colorTheme': THEMES[kind] } });
  try {
    await s.clickActivityBar('UCP Backup');
    const rows = s.treeRows().filter({ hasText: /demo-ucp-backup-/ });
    await poll(async () => (await rows.count()) >= 8, UI_TIMEOUT * 2, 'the demo history in the tree');
    await s.page.locator('.part.statusbar .statusbar-item', { hasText: /demo: / }).first().waitFor({ state: 'visible' });
    await s.setSidebarWidth(520);
    await s.screenshot(`demo-tree-${kind}`, SCREENSHOTS);

    // The newest backup: its details, then its verify report with the listing.
    await rows.first().click();
    const web = s.webviewFrame();
    await web.locator('tr[data-field="fileName"]').waitFor({ state: 'visible' });
    await s.screenshot(`demo-details-${kind}`, SCREENSHOTS);
    await web.locator('#verify').click();
    const ask = s.quickInput().filter({ hasText: /^Passphrase for / });
    const verdict = web.locator('[data-verdict]');
    await poll(async () => (await verdict.count()) > 0 || (await ask.isVisible().catch(() => false)), UI_TIMEOUT * 2, 'the passphrase prompt or the report');
    if (await ask.isVisible().catch(() => false)) await s.typeInQuickInput(PASSPHRASE);
    await verdict.waitFor({ state: 'visible', timeout: UI_TIMEOUT * 2 });
    await s.screenshot(`demo-verify-${kind}`, SCREENSHOTS);
  } finally {
    await s.close();
  }
}

async function main(): Promise<void> {
  for (const kind of Object.keys(THEMES) as (keyof typeof THEMES)[]) await shoot(kind);
  console.error(`demo-screenshots: written to ${join(ROOT, 'docs', 'screenshots')}/demo-{tree,details,verify}-{light,dark}.png`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(`demo-screenshots: ERROR: ${(err as Error).message}`);
    process.exit(1);
  },
);
