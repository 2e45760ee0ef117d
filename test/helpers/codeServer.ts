/**
 * Real VS Code (code-server 4.139.1) in real Chromium, driven by playwright-core like a person:
 * keyboard, clicks, what is visible. One session = one code-server with fresh user-data and
 * extensions dirs, the packaged dist/ucp-backup.vsix installed, and one browser page.
 * Recipe and pitfalls: /work/shared/TESTBED.md "Real VS Code in a real browser".
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { cpSync, createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { chromium, type Browser, type FrameLocator, type Locator, type Page } from 'playwright-core';
import { ROOT } from './cli';
import { descendsFrom } from './testbed';
import { freePort } from './freePort';

/** The README's pictures (scripts/demo-screenshots.ts, from the demo's clean history). */
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
/** Pictures the e2e tests take of the test suite's own history: artifacts, not the README's. */
export const TEST_SCREENSHOTS = join(ROOT, 'test-results', 'e2e', 'screenshots');
export const RESULTS = join(ROOT, 'test-results', 'e2e');
export const VSIX = join(ROOT, 'dist', 'ucp-backup.vsix');
export const TESTBED_CLUSTERS = join(ROOT, '.testbed', 'clusters.json');
export const TESTBED_READY = join(ROOT, '.testbed', 'READY');

/** Generous: a 2-core machine shared with other test runs. */
export const UI_TIMEOUT = 60_000;

const CHROMIUM = '/usr/bin/chromium';
// From TESTBED.md: no sandbox as root, no GPU, and nothing that talks to the internet.
const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

export interface SessionOptions {
  /** Files to put in the opened workspace folder: name → contents, or a path to copy. */
  workspaceFiles?: Record<string, Buffer | { copyFrom: string }>;
  /** Extra user settings (merged over the defaults below). */
  settings?: Record<string, unknown>;
  /** The `ucpBackup.clusters` setting; default: the clusters of .testbed/clusters.json. */
  clusters?: unknown[];
  /** Extra environment for code-server and so for the extension host (e.g. a short lock lease). */
  env?: Record<string, string>;
  /** User keybindings (keybindings.json): how a test runs a command with arguments. */
  keybindings?: unknown[];
}

/** Newest modification time of the files that go into the .vsix (sources, manifest, media). */
function newestSourceMtime(): number {
  let newest = 0;
  const walk = (p: string): void => {
    const st = statSync(p, { throwIfNoEntry: false });
    if (!st) return;
    if (st.isDirectory()) for (const e of readdirSync(p)) walk(join(p, e));
    else newest = Math.max(newest, st.mtimeMs);
  };
  for (const p of ['src', 'webview-ui/src', 'media', 'package.json', 'esbuild.mjs']) walk(join(ROOT, p));
  return newest;
}

/**
 * The e2e tests drive the *packaged* extension: (re)package when dist/ucp-backup.vsix is
 * missing or older than a source file, so a test never runs yesterday's build.
 */
export function ensurePackaged(): void {
  const vsix = statSync(VSIX, { throwIfNoEntry: false });
  if (vsix && vsix.mtimeMs >= newestSourceMtime()) return;
  const r = spawnSync('npm', ['run', '--silent', 'package'], { cwd: ROOT, encoding: 'utf8' });
  if (r.status !== 0 || !existsSync(VSIX)) throw new Error(`\`npm run package\` failed (exit ${r.status}); the e2e tests need ${VSIX}:\n${r.stdout}\n${r.stderr}`);
}

/** Paths of the installed code-server, as printed by scripts/vscode/install-code-server.sh. */
export function codeServerInstall(): { codeServer: string; nodeBin: string } {
  const r = spawnSync('bash', [join(ROOT, 'scripts', 'vscode', 'install-code-server.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  if (r.status !== 0) throw new Error(`scripts/vscode/install-code-server.sh failed (exit ${r.status})`);
  const get = (k: string) => r.stdout.match(new RegExp(`^${k}=(.*)$`, 'm'))?.[1];
  const codeServer = get('CODE_SERVER');
  const nodeBin = get('NODE_BIN');
  if (!codeServer || !nodeBin) throw new Error(`install-code-server.sh printed no paths:\n${r.stdout}`);
  return { codeServer, nodeBin };
}

/** The test cluster's `clusters` array; waits for the cluster teammate's READY marker. */
export async function testbedClusters(timeoutMs = 10 * 60_000): Promise<unknown[]> {
  const until = Date.now() + timeoutMs;
  while (!existsSync(TESTBED_READY) || !existsSync(TESTBED_CLUSTERS)) {
    if (Date.now() > until) throw new Error(`The test cluster is not up (${TESTBED_READY} missing): run \`npm run cluster:up\`.`);
    await new Promise((r) => setTimeout(r, 2000));
  }
  return (JSON.parse(readFileSync(TESTBED_CLUSTERS, 'utf8')) as { clusters: unknown[] }).clusters;
}

/** Polls `check` until it holds; the error names what was awaited. */
export async function poll(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`Timed out after ${timeoutMs} ms waiting for ${what}.`);
    await new Promise((r) => setTimeout(r, 250));
  }
}


async function waitForHealthz(url: string, child: ChildProcess, log: string, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`code-server exited with ${child.exitCode}; log:\n${readFileSync(log, 'utf8')}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > until) throw new Error(`code-server did not answer ${url}/healthz in ${timeoutMs} ms; log: ${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

export class CodeServerSession {
  private closed = false;
  /** The browser's console errors and uncaught page errors, saved with the failure artifacts. */
  private readonly consoleErrors: string[] = [];

  private constructor(
    readonly dir: string,
    readonly workspace: string,
    readonly userDataDir: string,
    readonly url: string,
    readonly logFile: string,
    private readonly server: ChildProcess,
    readonly browser: Browser,
    readonly page: Page,
  ) {}

  /** Starts code-server with the packaged extension and opens the workbench in Chromium. */
  static async start(opts: SessionOptions = {}): Promise<CodeServerSession> {
    ensurePackaged();
    const { codeServer, nodeBin } = codeServerInstall();
    const clusters = opts.clusters ?? (await testbedClusters());

    const dir = mkdtempSync(join(tmpdir(), 'ucp-e2e-'));
    const userDataDir = join(dir, 'user-data');
    const extensionsDir = join(dir, 'extensions');
    const workspace = join(dir, 'workspace');
    for (const d of [join(userDataDir, 'User'), extensionsDir, workspace, join(dir, 'xdg-config'), join(dir, 'xdg-data')]) mkdirSync(d, { recursive: true });
    for (const [name, content] of Object.entries(opts.workspaceFiles ?? {})) {
      mkdirSync(dirname(join(workspace, name)), { recursive: true });
      if (Buffer.isBuffer(content)) writeFileSync(join(workspace, name), content);
      else cpSync(content.copyFrom, join(workspace, name));
    }
    const settings = {
      // Else the folder opens in Restricted Mode and the extension stays disabled.
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'extensions.ignoreRecommendations': true,
      // Keep the Chat side bar out of the way (and out of the README screenshots).
      'chat.disableAIFeatures': true,
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'ucpBackup.clusters': clusters,
      ...opts.settings,
    };
    writeFileSync(join(userDataDir, 'User', 'settings.json'), JSON.stringify(settings, null, 2));
    if (opts.keybindings) writeFileSync(join(userDataDir, 'User', 'keybindings.json'), JSON.stringify(opts.keybindings, null, 2));

    // code-server runs on the `node` it finds first on PATH and needs Node 24; XDG dirs keep its
    // config.yaml and state out of the real home.
    // UCP_BACKUP_STATE_DIR: the extension's local backup history starts empty for each session.
    const env = {
      ...process.env,
      PATH: `${nodeBin}:${process.env.PATH}`,
      XDG_CONFIG_HOME: join(dir, 'xdg-config'),
      XDG_DATA_HOME: join(dir, 'xdg-data'),
      UCP_BACKUP_STATE_DIR: join(dir, 'state'),
      ...opts.env,
    };
    const install = spawnSync(codeServer, ['--install-extension', VSIX, '--extensions-dir', extensionsDir, '--user-data-dir', userDataDir], { env, encoding: 'utf8' });
    if (install.status !== 0) throw new Error(`code-server --install-extension failed (exit ${install.status}):\n${install.stdout}\n${install.stderr}`);

    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const logFile = join(dir, 'code-server.log');
    const log = createWriteStream(logFile);
    const server = spawn(
      codeServer,
      ['--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', '--user-data-dir', userDataDir, '--extensions-dir', extensionsDir, workspace],
      // Own process group: teardown kills code-server and every helper it forked.
      { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] },
    );
    server.stdout!.pipe(log);
    server.stderr!.pipe(log);

    let browser: Browser | undefined;
    try {
      await waitForHealthz(url, server, logFile, UI_TIMEOUT);
      browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, headless: true });
      const context = await browser.newContext({ viewport: { width: 1440, height: 900 } });
      const page = await context.newPage();
      page.setDefaultTimeout(UI_TIMEOUT);
      await page.goto(`${url}/?folder=${encodeURIComponent(workspace)}`);
      await page.locator('.monaco-workbench').waitFor({ state: 'visible' });
      const session = new CodeServerSession(dir, workspace, userDataDir, url, logFile, server, browser, page);
      page.on('console', (m) => {
        if (m.type() === 'error') session.consoleErrors.push(`${new Date().toISOString()} console: ${m.text()}`);
      });
      page.on('pageerror', (e) => session.consoleErrors.push(`${new Date().toISOString()} pageerror: ${e.stack ?? e.message}`));
      await session.waitForExtensionHost();
      return session;
    } catch (err) {
      await browser?.close().catch(() => undefined);
      killGroup(server);
      throw err;
    }
  }

  /** The extension host processes code-server runs for this session (what a crash kills). */
  extensionHostPids(): number[] {
    const serverPid = this.server.pid;
    if (serverPid === undefined) return [];
    return readdirSync('/proc')
      .filter((d) => /^\d+$/.test(d))
      .map(Number)
      .filter((pid) => {
        try {
          return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('--type=extensionHost') && descendsFrom(pid, serverPid);
        } catch {
          return false;
        }
      });
  }

  /**
   * "Developer: Reload Window" from the palette (VS Code shuts the extension host down, as on a
   * window close, and starts a new one), or a page reload when `how` is 'page' (what a person
   * does after the extension host died). Returns once the new extension host is up.
   */
  async reloadWindow(how: 'command' | 'page' = 'command'): Promise<void> {
    const before = new Set(this.extensionHostPids());
    if (how === 'page') await this.page.reload();
    else {
      const navigated = this.page.waitForEvent('framenavigated', { predicate: (f) => f === this.page.mainFrame(), timeout: UI_TIMEOUT });
      await this.runCommand('Developer: Reload Window').catch(() => undefined);
      await navigated;
    }
    await this.page.locator('.monaco-workbench').waitFor({ state: 'visible' });
    await this.waitForExtensionHost();
    await poll(async () => this.extensionHostPids().some((p) => !before.has(p)), UI_TIMEOUT, 'a new extension host');
  }

  /** The activity bar shows our container once the extension's contributions are loaded. */
  private async waitForExtensionHost(): Promise<void> {
    await this.activityBarItem('UCP Backup').waitFor({ state: 'visible' });
  }

  activityBarItem(title: string): Locator {
    return this.page.locator(`.part.activitybar .action-item a[aria-label^="${title}"]`).first();
  }

  /** Opens a view container from the activity bar (does not toggle it closed if already open). */
  async clickActivityBar(title: string): Promise<void> {
    const item = this.activityBarItem(title);
    const checked = await item.locator('xpath=..').getAttribute('aria-selected').catch(() => null);
    // After a reload VS Code can restore the container as selected with the side bar hidden:
    // then a click shows it (it toggles it closed only when it is visible).
    const sidebar = this.page.locator('.part.sidebar');
    if (checked !== 'true' || !(await sidebar.isVisible())) await item.click();
    // Move away so the item's hover tooltip does not cover the view in screenshots.
    await this.page.mouse.move(700, 450);
    // Right after a reload the click can land before the container is restored: a person clicks again.
    await poll(
      async () => {
        if (await sidebar.isVisible()) return true;
        await this.page.waitForTimeout(1000);
        if (await sidebar.isVisible()) return true;
        await item.click();
        await this.page.mouse.move(700, 450);
        return false;
      },
      UI_TIMEOUT,
      `the ${title} side bar to show`,
    );
  }

  /** Runs a command by its palette title (e.g. "UCP: Backup Now"), as a person would with F1. */
  async runCommand(title: string): Promise<void> {
    await this.closeQuickInput();
    // Focus the workbench first: F1 goes nowhere while focus is in a webview iframe.
    await this.page.locator('.part.statusbar').click({ position: { x: 5, y: 5 } }).catch(() => undefined);
    await this.page.keyboard.press('F1');
    const input = this.quickInput().locator('input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = this.quickInputRow(title);
    await row.waitFor({ state: 'visible' });
    await row.click();
    // The palette stays up for a moment after the click: wait until it is gone or the command
    // shows its own prompt, so callers never mistake the palette for that prompt.
    await poll(async () => !(await input.isVisible()) || !(await input.inputValue().catch(() => '>')).startsWith('>'), UI_TIMEOUT, `the command palette to run "${title}"`);
  }

  /** A button in the side bar's title (e.g. the view's "Refresh"), by its tooltip text. */
  viewTitleAction(label: string): Locator {
    return this.page.locator(`.part.sidebar .title-actions a.action-label[aria-label^="${label}"], .part.sidebar .composite.title a.action-label[aria-label^="${label}"]`).first();
  }

  /** Drags the side bar's edge so long tree labels fit (VS Code has no setting for its width). */
  async setSidebarWidth(px: number): Promise<void> {
    const box = await this.page.locator('.part.sidebar').boundingBox();
    if (!box) return;
    const y = box.y + box.height / 2;
    await this.page.mouse.move(box.x + box.width + 1, y);
    await this.page.mouse.down();
    await this.page.mouse.move(box.x + px, y, { steps: 5 });
    await this.page.mouse.up();
    // Leave the sash: its highlight fades out with a CSS transition (seen in screenshots).
    await this.page.mouse.move(box.x + px + 200, 8);
    await this.page.waitForTimeout(1000);
  }

  quickInput(): Locator {
    return this.page.locator('.quick-input-widget');
  }

  /** The quick-pick row whose label is exactly `label` (aria-label starts with it). */
  quickInputRow(label: string | RegExp): Locator {
    const rows = this.quickInput().locator('.monaco-list-row');
    return typeof label === 'string' ? rows.filter({ has: this.page.locator('.label-name', { hasText: label }) }).first() : rows.filter({ hasText: label }).first();
  }

  /** Waits for an input box / quick pick, types `text` and presses Enter. Returns its prompt. */
  async typeInQuickInput(text: string, expectPrompt?: RegExp): Promise<string> {
    const widget = this.quickInput();
    const input = widget.locator('input');
    await input.waitFor({ state: 'visible' });
    if (expectPrompt) await widget.filter({ hasText: expectPrompt }).waitFor({ state: 'visible' });
    const prompt = await widget.innerText();
    await input.fill(text);
    await input.press('Enter');
    return prompt;
  }

  /**
   * Answers code-server's simple file dialog (a quick input holding a path) with `path`, as a
   * person does: look until the dialog shows what it proposes, replace it, check, press Enter.
   *
   * Why `proposed`: the dialog (VS Code's SimpleFileDialog) first shows the *parent* folder,
   * lists the default folder asynchronously, and only then writes its default path
   * (`<folder>/<default name>`) into the input — overwriting whatever was typed meanwhile, and
   * holding an Enter pressed meanwhile until it is done, so that Enter accepts the default. On a
   * loaded machine the listing takes long enough for a test to type into that gap (the lost
   * "download" name of issue 10). `proposed` is the default path the caller's showSaveDialog /
   * showOpenDialog asks for (a RegExp where it holds a time stamp); only once the input holds
   * it is the dialog done with its own writing.
   */
  async typeInFileDialog(path: string, title: string | RegExp, proposed: string | RegExp): Promise<void> {
    const widget = this.quickInput().filter({ has: this.page.locator('.quick-input-title', { hasText: title }) });
    const input = widget.locator('input');
    await input.waitFor({ state: 'visible' });
    const shows = (v: string) => (typeof proposed === 'string' ? v === proposed : proposed.test(v));
    let seen = '';
    await poll(async () => shows((seen = await input.inputValue().catch(() => ''))), UI_TIMEOUT, `the file dialog to propose ${String(proposed)} (it shows "${seen}")`);
    await input.fill(path);
    const value = await input.inputValue();
    if (value !== path) throw new Error(`The file dialog holds "${value}" after typing "${path}"`);
    await input.press('Enter');
    // Accepted: the dialog closes (or goes on to a prompt of its own, e.g. "already exists").
    await poll(async () => !(await widget.isVisible().catch(() => false)) || (await input.inputValue().catch(() => '')) !== path, UI_TIMEOUT, `the file dialog to accept ${path}`);
  }

  /** Picks an item of an open quick pick by its label. */
  async pickQuickItem(label: string | RegExp): Promise<void> {
    const row = this.quickInputRow(label);
    await row.waitFor({ state: 'visible' });
    // The pointer left on the previous pick can open an item's hover over this row (seen:
    // "written beside the archive (.log)" over "No log"): move it out of the way first.
    await this.page.mouse.move(1, 1);
    await row.click();
  }

  /**
   * Waits for whatever comes next: a quick input (returns its title, or its placeholder when it
   * has no title) or `done` becoming visible (returns undefined).
   */
  async nextPrompt(done: Locator, timeoutMs = UI_TIMEOUT * 3): Promise<string | undefined> {
    const widget = this.quickInput();
    let title: string | undefined;
    await poll(
      async () => {
        if (await widget.isVisible()) {
          title = (await widget.locator('.quick-input-title').innerText().catch(() => '')).trim();
          if (!title) title = (await widget.locator('input').getAttribute('placeholder').catch(() => null)) ?? '';
          return true;
        }
        return done.isVisible();
      },
      timeoutMs,
      'the next prompt or the result',
    );
    return title;
  }

  /** After answering a prompt: wait until the widget closed or shows another title. */
  async waitPromptGone(title: string): Promise<void> {
    const widget = this.quickInput();
    await poll(
      async () => !(await widget.isVisible()) || (await widget.locator('.quick-input-title').innerText().catch(() => '')).trim() !== title,
      UI_TIMEOUT,
      `the prompt "${title}" to close`,
    );
  }

  /**
   * Answers a multi-step flow's prompts as they come, until `done` shows. `answer` handles one
   * prompt by its title and returns false for one it does not know; a prompt coming back after
   * it was answered (a validation message) fails at once.
   */
  async answerPrompts(done: Locator, flow: string, answer: (title: string) => Promise<boolean>): Promise<void> {
    const answered = new Set<string>();
    for (;;) {
      const title = await this.nextPrompt(done);
      if (title === undefined) return;
      if (answered.has(title)) throw new Error(`The prompt "${title}" came back after it was answered (a validation message?): ${await this.quickInput().innerText()}`);
      answered.add(title);
      if (!(await answer(title))) throw new Error(`${flow} asked something this test does not know: "${title}"`);
      await this.waitPromptGone(title);
    }
  }

  /** Backup Now's outcome: its success message, or any error notification. */
  backupResultToast(): Locator {
    return this.page.locator('.notification-toast').filter({ hasText: /UCP backup \S+ completed/ }).or(this.errorToasts()).first();
  }

  /** Error notifications (red icon), to fail fast with the extension's own words. */
  errorToasts(): Locator {
    return this.page.locator('.notification-toast').filter({ has: this.page.locator('.codicon-error') });
  }

  /** Waits until `wanted` is visible; throws with the text of an error notification if one shows first. */
  async waitUnlessError(wanted: Locator, what: string, timeoutMs = UI_TIMEOUT * 2, extraError?: Locator): Promise<void> {
    const errors = [this.errorToasts().first(), ...(extraError ? [extraError] : [])];
    let failure: string | undefined;
    await poll(
      async () => {
        if (await wanted.isVisible().catch(() => false)) return true;
        for (const e of errors) {
          if (await e.isVisible().catch(() => false)) {
            const text = (await e.innerText().catch(() => '')).trim();
            if (text) failure = text;
          }
        }
        return failure !== undefined;
      },
      timeoutMs,
      what,
    );
    if (failure !== undefined) throw new Error(`Instead of ${what}, VS Code showed: ${failure.replace(/\s+/g, ' ')}`);
  }

  /** Closes every notification toast (they cover the tree and the webview in screenshots). */
  async dismissNotifications(): Promise<void> {
    await this.runCommand('Notifications: Clear All Notifications');
  }

  async closeQuickInput(): Promise<void> {
    if (await this.quickInput().isVisible()) {
      await this.page.keyboard.press('Escape');
      await this.quickInput().waitFor({ state: 'hidden' });
    }
  }

  /** Rows of the visible side bar tree(s), as the person reads them. */
  treeRows(): Locator {
    return this.page.locator('.part.sidebar .monaco-list-row');
  }

  async treeTexts(): Promise<string[]> {
    return (await this.treeRows().allInnerTexts()).map((t) => t.replace(/\s+/g, ' ').trim());
  }

  /**
   * The side bar tree's rows (depth and text) once two reads 500 ms apart agree. A custom tree
   * view re-renders in steps (a recycled row element gets its new depth and its new text in
   * different tasks), so one read taken while the list is re-rendering can pair a row's text
   * with another row's depth (seen once in CI: a manager row read at depth 1).
   */
  async stableTreeRows(timeoutMs = UI_TIMEOUT): Promise<{ level: number; text: string }[]> {
    const read = () =>
      this.treeRows().evaluateAll((rows) => rows.map((r) => ({ level: Number(r.getAttribute('aria-level')), text: ((r as unknown as { innerText: string }).innerText ?? '').replace(/\s+/g, ' ').trim() })));
    let last = JSON.stringify(await read());
    const until = Date.now() + timeoutMs;
    for (;;) {
      await this.page.waitForTimeout(500);
      const now = await read();
      if (JSON.stringify(now) === last) return now;
      if (Date.now() > until) throw new Error(`the tree kept changing for ${timeoutMs} ms; last read:\n${now.map((r) => `${r.level} ${r.text}`).join('\n')}`);
      last = JSON.stringify(now);
    }
  }

  treeRow(text: string | RegExp): Locator {
    return this.treeRows().filter({ hasText: text }).first();
  }

  /**
   * The tree row whose label is exactly `label`, or a backup row of that file name: a backup's
   * label is its local time and its description "[state · ]<file name> · <age> · …".
   */
  treeRowByLabel(label: string): Locator {
    const text = label.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    const byLabel = this.page.locator('.label-name', { hasText: new RegExp(`^${text}$`) });
    const byFileName = this.page.locator('.label-description', { hasText: new RegExp(`(^|· )${text}( ·|$)`) });
    return this.treeRows().filter({ has: byLabel.or(byFileName) }).first();
  }

  /** Expands a collapsed tree row (clicking its twistie) and leaves an expanded one alone. */
  async expandTreeRow(text: string | RegExp): Promise<void> {
    const row = this.treeRow(text);
    await row.waitFor({ state: 'visible' });
    if ((await row.getAttribute('aria-expanded')) === 'false') {
      await row.locator('.monaco-tl-twistie').click();
      await this.page.waitForFunction((el) => (el as { getAttribute(n: string): string | null }).getAttribute('aria-expanded') === 'true', await row.elementHandle());
    }
  }

  /** The DOM inside the visible webview (VS Code nests it: outer host iframe → active-frame). */
  webviewFrame(): FrameLocator {
    return this.page.frameLocator('iframe.webview:visible').frameLocator('iframe#active-frame');
  }

  /** Notification toasts and modal dialogs whose text matches. */
  message(text: string | RegExp): Locator {
    return this.page.locator('.notification-toast, .notifications-center .notification-list-item, .monaco-dialog-box').filter({ hasText: text }).first();
  }

  /** Right-clicks a row of the side bar's tree (by its exact label) and picks a context-menu entry. */
  async treeContextMenu(label: string, entry: string): Promise<void> {
    const row = this.treeRowByLabel(label);
    await row.waitFor({ state: 'visible' });
    await row.click({ button: 'right' });
    await this.clickMenuItem(entry);
  }

  /** Picks an entry of the open context menu (it lives in a shadow root; CSS locators pierce it). */
  async clickMenuItem(entry: string): Promise<void> {
    const item = this.page.locator('.monaco-menu .action-item').filter({ hasText: entry }).first();
    await item.waitFor({ state: 'visible' });
    // As in explorerContextMenu: the menu ignores a mouse-up right after it opened.
    await item.hover();
    await this.page.waitForTimeout(300);
    await item.click();
    await item.waitFor({ state: 'hidden' });
  }

  /** The button of the modal dialog (e.g. "Delete"), once the dialog shows `text`. */
  modalButton(text: string | RegExp, button: string): Locator {
    return this.page.locator('.monaco-dialog-box').filter({ hasText: text }).locator('.monaco-button', { hasText: button }).first();
  }

  /** Right-clicks a file of the opened folder in the Explorer and picks a context-menu entry. */
  async explorerContextMenu(fileName: string, entry: string): Promise<void> {
    await this.clickActivityBar('Explorer');
    const row = this.page.locator('.explorer-folders-view .monaco-list-row').filter({ hasText: fileName }).first();
    await row.waitFor({ state: 'visible' });
    await row.click({ button: 'right' });
    // The context menu lives in a shadow root; Playwright's CSS locators pierce open ones.
    const item = this.page.locator('.monaco-menu .action-item').filter({ hasText: entry }).first();
    await item.waitFor({ state: 'visible' });
    // VS Code's menu ignores a mouse-up that comes right after it opened (it takes it for the
    // release of the right click), so pause like a person reading the menu before clicking.
    await item.hover();
    await this.page.waitForTimeout(300);
    await item.click();
    await item.waitFor({ state: 'hidden' });
  }

  /** The editor tab that is active, to know which webview panel is in front. */
  activeTab(): Locator {
    return this.page.locator('.part.editor .tabs-container .tab.active');
  }

  /**
   * Saves a PNG into `dir` (default test-results/e2e/screenshots; the README's come from the
   * demo into docs/screenshots), after moving the mouse out of the way and waiting for hover
   * tooltips and highlighted sashes to go (they would cover what matters).
   */
  async screenshot(name: string, dir: string = TEST_SCREENSHOTS): Promise<string> {
    // An empty spot of the title bar: nothing there shows a tooltip.
    await this.page.mouse.move(250, 16);
    const hovers = this.page.locator('.workbench-hover-container, .monaco-hover:not(.hidden), .monaco-sash.hover');
    await poll(async () => (await hovers.count()) === 0 || !(await hovers.first().isVisible()), 10_000, 'hover tooltips to close').catch(() => undefined);
    mkdirSync(dir, { recursive: true });
    const path = join(dir, `${name}.png`);
    await this.page.screenshot({ path });
    return path;
  }

  /**
   * On failure: a screenshot, the code-server log and VS Code's logs (the extension's output
   * channel is among them) into test-results/e2e/<label>/. Returns that folder.
   */
  async saveFailureArtifacts(label: string): Promise<string> {
    const out = join(RESULTS, label.replace(/[^\w.-]+/g, '_'));
    mkdirSync(out, { recursive: true });
    await this.page.screenshot({ path: join(out, 'screen.png') }).catch(() => undefined);
    cpSync(this.logFile, join(out, 'code-server.log'));
    const logs = join(this.userDataDir, 'logs');
    if (existsSync(logs)) {
      cpSync(logs, join(out, 'vscode-logs'), { recursive: true });
      // The extension's LogOutputChannel ("UCP Backup"), where flows log each step and error.
      for (const f of findFiles(logs, (name) => name === 'UCP Backup.log')) cpSync(f, join(out, 'extension.log'));
    }
    writeFileSync(join(out, 'browser-console.log'), this.consoleErrors.join('\n') + '\n');
    console.error(`e2e: artifacts of "${label}" saved in ${out} (screen.png, extension.log, code-server.log, browser-console.log, vscode-logs/)`);
    return out;
  }

  /** Runs `fn`; if it throws, saves the failure artifacts before rethrowing. */
  async step<T>(label: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      await this.saveFailureArtifacts(label).catch((e) => console.error('e2e: could not save artifacts:', e));
      throw err;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.browser.close().catch(() => undefined);
    killGroup(this.server);
    rmSync(this.dir, { recursive: true, force: true, maxRetries: 3 });
  }
}

function findFiles(dir: string, match: (name: string) => boolean): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...findFiles(p, match));
    else if (match(e.name)) out.push(p);
  }
  return out;
}

function killGroup(child: ChildProcess): void {
  if (child.pid === undefined || child.exitCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGKILL');
  } catch {
    // already gone
  }
}
