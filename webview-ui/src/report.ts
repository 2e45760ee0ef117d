/** The verify report: an overall VALID/INVALID badge and each check with pass/fail and reason. */
import type { ReportView } from '../../src/shared/protocol';
import { el } from './dom';

export function renderVerdict(report: ReportView): HTMLElement {
  const badge = el('vscode-badge', { class: `verdict ${report.verdict.toLowerCase()}`, attrs: { 'data-verdict': report.verdict, role: 'status' } }, report.verdict);
  return badge;
}

const RESULT = { PASS: ['pass', 'passed', '✓ PASS'], WARN: ['warn', 'passed with a warning', '⚠ WARN'], FAIL: ['fail', 'failed', '✗ FAIL'] } as const;

export function renderReport(report: ReportView): HTMLElement {
  const checks = report.checks.map((c) => {
    const [cls, label, text] = RESULT[c.status ?? (c.pass ? 'PASS' : 'FAIL')];
    return el(
      'tr',
      { class: cls, attrs: { 'data-check': c.id } },
      el('td', { class: 'check-result', attrs: { 'aria-label': label } }, text),
      el('th', { attrs: { scope: 'row' } }, c.title),
      el('td', { class: 'reason' }, c.reason),
    );
  });
  return el(
    'section',
    { class: 'report', attrs: { 'aria-labelledby': 'report-title' } },
    el('h2', { id: 'report-title' }, `${report.title ?? 'Verify report'} `, renderVerdict(report)),
    el('p', { class: 'muted' }, `${report.source} · ${report.entryCount.toLocaleString('en-US')} entries · ${report.encrypted ? 'encrypted' : 'not encrypted'}`),
    el(
      'table',
      { class: 'checks', attrs: { 'aria-label': 'Checks' } },
      el('thead', {}, el('tr', {}, el('th', { attrs: { scope: 'col' } }, 'Result'), el('th', { attrs: { scope: 'col' } }, 'Check'), el('th', { attrs: { scope: 'col' } }, 'Reason'))),
      el('tbody', {}, ...checks),
    ),
  );
}
