/**
 * The "Backup Details" webview panels (details, verify report, compare). One panel per
 * PanelRef; a WebviewPanelSerializer brings them back after a reload from the ids the
 * webview keeps in its state (never the passphrase or the listing).
 */
import * as vscode from 'vscode';
import { describeError } from '../../core/errors';
import { WEBVIEW_VIEW_TYPE, isWebviewMessage, type HostMessage, type PanelContent, type PanelRef, type ReportView, type WebviewState } from '../../shared/protocol';
import type { Log } from '../log';
import { webviewHtml } from './html';
import { localPathOf, mergedContent } from './panelReuse';

/** How a panel gets its content and acts on the webview's requests. */
export interface PanelSource {
  title: string;
  load(): Promise<PanelContent>;
  /** Decrypt and list (asks the passphrase); undefined when the admin cancelled. */
  verify?(progress: (message: string, percent?: number) => void): Promise<ReportView | undefined>;
  revealFile?(): Promise<void>;
  /** This backup's own log (else the panel's "Show log" shows the UCP Backup output). */
  showLog?(): Promise<void>;
  /** True when the contents can be listed without asking anything (then it is done at once). */
  autoVerify?(content: PanelContent): Promise<boolean>;
}

export type PanelResolver = (ref: PanelRef) => PanelSource;

const refKey = (ref: PanelRef): string => JSON.stringify(ref);

class DetailsPanel {
  private ready = false;
  private readonly queue: HostMessage[] = [];
  private content: PanelContent | undefined;

  constructor(
    readonly panel: vscode.WebviewPanel,
    private readonly source: PanelSource,
    private readonly log: Log,
    extensionUri: vscode.Uri,
    initial: PanelContent | undefined,
    onDispose: () => void,
  ) {
    const webview = panel.webview;
    const dist = vscode.Uri.joinPath(extensionUri, 'dist');
    webview.options = { enableScripts: true, localResourceRoots: [dist, vscode.Uri.joinPath(extensionUri, 'media')] };
    panel.iconPath = vscode.Uri.joinPath(extensionUri, 'media', 'ucp.svg');
    panel.title = source.title;
    webview.html = webviewHtml({
      cspSource: webview.cspSource,
      scriptUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.js')).toString(),
      styleUri: webview.asWebviewUri(vscode.Uri.joinPath(dist, 'webview.css')).toString(),
      title: source.title,
    });
    webview.onDidReceiveMessage((m: unknown) => this.onMessage(m));
    panel.onDidDispose(onDispose);
    if (initial) this.setContent(initial);
    else {
      source.load().then(
        (c) => this.setContent(c),
        (err) => this.post({ type: 'error', message: describeError(err) }),
      );
    }
  }

  /** The file this panel shows on this machine (a file, or a local backup), for one tab per backup. */
  localPath(ref: PanelRef): string | undefined {
    return localPathOf(this.content, ref);
  }

  /** Shows `content` in this open panel without losing what it already has (panelReuse.ts). */
  update(content: PanelContent): void {
    const merged = mergedContent(this.content, content);
    if (this.content?.kind === 'details' && merged.kind === 'details' && merged.report && merged.report === this.content.report && merged.record === this.content.record) return;
    this.setContent(merged);
  }

  setContent(content: PanelContent): void {
    this.content = content;
    if (content.kind === 'details' && content.record?.fileName) this.panel.title = content.record.fileName;
    this.post({ type: 'init', content });
    if (content.kind === 'details' && !content.report && this.source.autoVerify) {
      this.source.autoVerify(content).then(
        (yes) => (yes ? this.runVerify() : undefined),
        () => undefined,
      );
    }
  }

  /**
   * Messages posted before the webview's script listens are dropped by VS Code, so they
   * wait for its `ready`. A webview that reloads (hidden and shown again) says `ready`
   * again and gets the current content anew.
   */
  private post(message: HostMessage): void {
    if (this.ready) void this.panel.webview.postMessage(message);
    else if (message.type !== 'init') this.queue.push(message);
  }

  private async onMessage(m: unknown): Promise<void> {
    if (!isWebviewMessage(m)) return;
    switch (m.type) {
      case 'ready':
        this.ready = true;
        if (this.content) void this.panel.webview.postMessage({ type: 'init', content: this.content } satisfies HostMessage);
        for (const q of this.queue.splice(0)) void this.panel.webview.postMessage(q);
        break;
      case 'requestVerify':
        await this.runVerify();
        break;
      case 'revealFile':
        await this.source.revealFile?.();
        break;
      case 'showLog':
        if (!this.source.showLog) this.log.show(true);
        else {
          try {
            await this.source.showLog();
          } catch (err) {
            this.log.error(`Show log: ${describeError(err)}`);
            this.post({ type: 'error', message: describeError(err) });
          }
        }
        break;
    }
  }

  private verifying = false;

  async runVerify(): Promise<void> {
    if (this.verifying) return;
    if (!this.source.verify) {
      this.post({ type: 'error', message: 'This backup cannot be verified from here.' });
      return;
    }
    this.verifying = true;
    try {
      const report = await this.source.verify((message, percent) => this.post({ type: 'progress', message, percent }));
      if (!report) {
        this.post({ type: 'error', message: 'Verification cancelled.' });
        return;
      }
      if (this.content?.kind === 'details') this.content = { ...this.content, report };
      this.post({ type: 'report', report });
    } catch (err) {
      this.log.error(`Verify: ${describeError(err)}`);
      this.post({ type: 'error', message: describeError(err) });
    } finally {
      this.verifying = false;
    }
  }
}

export class DetailsPanels implements vscode.WebviewPanelSerializer<WebviewState> {
  private readonly open = new Map<string, DetailsPanel>();

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly log: Log,
    private readonly resolve: PanelResolver,
  ) {}

  register(): vscode.Disposable {
    return vscode.window.registerWebviewPanelSerializer(WEBVIEW_VIEW_TYPE, this);
  }

  /** Opens (or reveals) the panel for `ref`; `initial` skips loading when the caller has it. */
  show(ref: PanelRef, initial?: PanelContent): void {
    const key = refKey(ref);
    // A local file verified from the Explorer may be a backup whose panel is open: one tab.
    const existing = this.open.get(key) ?? (ref.kind === 'file' ? [...this.open.entries()].find(([k, p]) => p.localPath(JSON.parse(k) as PanelRef) === ref.path)?.[1] : undefined);
    if (existing) {
      if (initial) existing.update(initial);
      existing.panel.reveal();
      return;
    }
    const source = this.resolve(ref);
    const panel = vscode.window.createWebviewPanel(WEBVIEW_VIEW_TYPE, source.title, vscode.ViewColumn.Active, {});
    this.attach(key, panel, source, initial);
  }

  private attach(key: string, panel: vscode.WebviewPanel, source: PanelSource, initial?: PanelContent): DetailsPanel {
    const p = new DetailsPanel(panel, source, this.log, this.extensionUri, initial, () => this.open.delete(key));
    this.open.set(key, p);
    return p;
  }

  /** After a reload: rebuild from the ids the webview saved. The listing needs a new verify. */
  async deserializeWebviewPanel(panel: vscode.WebviewPanel, state: WebviewState | undefined): Promise<void> {
    const ref = state?.ref;
    if (!ref) {
      panel.dispose();
      return;
    }
    this.attach(refKey(ref), panel, this.resolve(ref));
  }

  dispose(): void {
    for (const p of this.open.values()) p.panel.dispose();
    this.open.clear();
  }
}
