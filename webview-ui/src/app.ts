/** The details webview app: renders what the host sends (see src/shared/protocol.ts). */
import type { HostMessage, PanelContent, ReportView, WebviewState } from '../../src/shared/protocol';
import { renderCompare } from './compare';
import { append, el } from './dom';
import { renderSchemaTable } from './header';
import { Listing, type ListingState } from './listing';
import { renderReport } from './report';
import type { VsCodeApi } from './vscodeApi';

export class App {
  private state: WebviewState;
  private readonly status = el('div', { id: 'status', class: 'status', attrs: { role: 'status', 'aria-live': 'polite' } });
  private readonly main = el('main', { id: 'content' });
  private reportHost: HTMLElement | undefined;
  private verifyButton: HTMLElement | undefined;

  constructor(
    private readonly vscode: VsCodeApi,
    root: HTMLElement,
  ) {
    this.state = vscode.getState() ?? {};
    root.replaceChildren(this.main, this.status);
    this.main.append(el('p', { class: 'muted' }, 'Loading…'));
    window.addEventListener('message', (ev: MessageEvent) => this.onMessage(ev.data));
  }

  /** Tell the host we listen; it posts nothing before this (messages sent earlier are lost). */
  start(): void {
    this.vscode.postMessage({ type: 'ready' });
  }

  private saveState(patch: Partial<WebviewState>): void {
    this.state = { ...this.state, ...patch };
    this.vscode.setState(this.state);
  }

  private onMessage(data: unknown): void {
    if (!data || typeof data !== 'object' || typeof (data as { type?: unknown }).type !== 'string') return;
    const msg = data as HostMessage;
    switch (msg.type) {
      case 'init':
        this.saveState({ ref: msg.content.ref });
        this.render(msg.content);
        break;
      case 'progress':
        this.setStatus(msg.percent !== undefined ? `${msg.message} (${Math.round(msg.percent)}%)` : msg.message, 'busy');
        break;
      case 'report':
        this.showReport(msg.report);
        this.setStatus('', 'idle');
        break;
      case 'error':
        this.setStatus(msg.message, 'error');
        this.verifyButton?.removeAttribute('disabled');
        break;
    }
  }

  private setStatus(text: string, kind: 'busy' | 'idle' | 'error'): void {
    this.status.textContent = text;
    this.status.className = `status ${kind}`;
    this.main.setAttribute('aria-busy', String(kind === 'busy'));
  }

  private listingState(): ListingState {
    return { filter: this.state.filter ?? '', sort: this.state.sort ?? { column: 'name', descending: false } };
  }

  private render(content: PanelContent): void {
    this.reportHost = undefined;
    this.verifyButton = undefined;
    if (content.kind === 'compare') {
      this.main.replaceChildren(renderCompare(content.a, content.b, content.diff));
      return;
    }
    const record = content.record;
    const title = record ? record.fileName || record.id : content.ref.kind === 'file' ? content.ref.path : 'Backup';
    const actions = el('div', { class: 'actions' });
    if (!content.report) {
      this.verifyButton = el('vscode-button', { id: 'verify', on: { click: () => this.requestVerify() } }, 'Verify and list contents');
      actions.append(this.verifyButton);
    }
    if (record?.location === 'local' || content.ref.kind === 'file') {
      actions.append(el('vscode-button', { id: 'reveal', attrs: { secondary: '' }, on: { click: () => this.vscode.postMessage({ type: 'revealFile' }) } }, 'Reveal file'));
    }
    actions.append(el('vscode-button', { id: 'show-log', attrs: { secondary: '' }, on: { click: () => this.vscode.postMessage({ type: 'showLog' }) } }, 'Show log'));
    this.reportHost = el('div', { id: 'report-host' });
    this.main.replaceChildren(el('header', {}, el('h1', {}, title), actions));
    append(this.main, [
      record && el('section', { class: 'record', attrs: { 'aria-label': 'Backup record' } }, renderSchemaTable(record)),
      record?.backupState === 'FAILED' && record.shortError ? el('p', { class: 'error', attrs: { role: 'alert' } }, record.shortError) : null,
      this.reportHost,
    ]);
    if (content.report) this.showReport(content.report);
  }

  private requestVerify(): void {
    this.verifyButton?.setAttribute('disabled', '');
    this.setStatus('Verifying…', 'busy');
    this.vscode.postMessage({ type: 'requestVerify' });
  }

  private showReport(report: ReportView): void {
    if (!this.reportHost) return;
    this.verifyButton?.remove();
    this.verifyButton = undefined;
    const listing = new Listing(this.listingState(), (s) => this.saveState({ filter: s.filter, sort: s.sort }));
    this.reportHost.replaceChildren(renderReport(report), listing.element);
    listing.setEntries(report.entries);
  }
}
