/**
 * How a backup row looks. The label is the backup's local time (never cut: a long file name
 * used to hide it); the file name, state and age follow in the description; the tooltip has
 * the exact local and UTC times and, for what did not succeed, what to do. Pure, unit-tested.
 */
import { listedCopies } from '../../core/copy/copyRecord';
import type { BackupRecord, DrillSummary } from '../../core/history/record';
import { lastDrillOf } from '../../core/history/lastDrill';
import { formatLocalTime, formatRelative, formatSize, formatUtcTime, isZeroTime } from '../../shared/format';
import type { Presentation } from './presentation';

/** What the admin tells apart at a glance; a run that never started is not a red failure. */
export type BackupKind = 'success' | 'missing' | 'inProgress' | 'failed' | 'cancelled' | 'refused';

/** The shortError runBackup records for a cancel (CANCELLED_ERROR) or a stop (STOPPED_ERROR, WINDOW_CLOSED_ERROR). */
const CANCELLED = /^(cancelled by user|stopped by SIGTERM|stopped: )/;
/** A refusal before anything ran: the cluster-wide lock was held by another backup. */
const REFUSED = /^another backup is running/;

/** The facts about a record the tree learns beside it (a local file checked on this machine). */
export interface BackupFacts {
  /** The archive of this SUCCESS record is not at its path any more (moved or deleted). */
  fileMissing?: boolean;
}

export function backupKind(r: BackupRecord, facts: BackupFacts = {}): BackupKind {
  if (r.backupState === 'IN_PROGRESS') return 'inProgress';
  if (r.backupState === 'SUCCESS') return facts.fileMissing ? 'missing' : 'success';
  if (CANCELLED.test(r.shortError)) return 'cancelled';
  if (REFUSED.test(r.shortError)) return 'refused';
  return 'failed';
}

export function backupContextValue(r: BackupRecord, facts: BackupFacts = {}): string {
  switch (backupKind(r, facts)) {
    case 'inProgress':
      return 'backup.inProgress';
    case 'missing':
      return 'backup.missing';
    case 'success':
      return r.location === 'local' ? 'backup.success.local' : 'backup.success.remote';
    default:
      // Cancelled and refused runs are FAILED records too: Delete and Clear Failed Records apply.
      return 'backup.failed';
  }
}

/** One line on what to do next, for a record that did not give a usable archive. */
export function failureAdvice(r: BackupRecord, facts: BackupFacts = {}): string {
  const kind = backupKind(r, facts);
  if (kind === 'missing') return `The file is no longer at ${r.backupPath}/${r.fileName} (moved or deleted). Put it back, or "Forget Backup" to drop this record.`;
  if (kind === 'cancelled') return 'Nothing to fix: the run was stopped and left no file. "Clear Failed Records" removes this record.';
  if (kind === 'refused') return 'It never started: another backup held the cluster lock. Run Backup Now again when that one has finished (or "Break Stale Backup Lock" if none is running).';
  if (kind !== 'failed') return '';
  const e = r.shortError;
  if (/^interrupted/.test(e)) return 'The run was killed before it finished (VS Code or the CLI closed, a crash); no file was published. Run Backup Now again.';
  if (/No space left/.test(e)) return 'Free space where the backup is written, or choose another destination, then run Backup Now again.';
  if (/removed while the backup ran|not writable|nobody/.test(e)) return 'Make the folder exist and be writable by nobody:nogroup on the node, then run Backup Now again.';
  if (/quorum|leader/i.test(e)) return 'The swarm lost its leader; once the managers are back (docker node ls), run Backup Now again.';
  return 'Open Show Log for the failing step, fix its cause, then run Backup Now again.';
}

const STATE_TEXT: Record<BackupKind, (r: BackupRecord) => string> = {
  success: () => '',
  missing: () => 'file missing',
  // reconcile.ts says why a run looks dead while its lock has not expired yet.
  inProgress: (r) => (r.shortError ? `in progress, ${r.shortError}` : 'in progress'),
  // A stop says by what (SIGTERM, the window closing): on the next start that is what happened.
  cancelled: (r) => (r.shortError.startsWith('stopped') ? r.shortError : 'cancelled'),
  refused: () => 'not started: another backup was running',
  failed: (r) => `FAILED: ${r.shortError || 'no error recorded'}`,
};

const LOOKS: Record<BackupKind, { icon: string; color?: string }> = {
  success: { icon: 'check', color: 'charts.green' },
  missing: { icon: 'warning', color: 'problemsWarningIcon.foreground' },
  inProgress: { icon: 'sync~spin' },
  cancelled: { icon: 'circle-slash', color: 'disabledForeground' },
  refused: { icon: 'circle-slash', color: 'disabledForeground' },
  failed: { icon: 'error', color: 'errorForeground' },
};

/** A SUCCESS row: a backup proven to restore shows it; one whose drill FAILed must not look fine. */
const DRILLED: Record<DrillSummary['verdict'], { icon: string; color?: string }> = {
  PASS: { icon: 'verified-filled', color: 'charts.green' },
  WARN: { icon: 'verified', color: 'problemsWarningIcon.foreground' },
  FAIL: { icon: 'error', color: 'errorForeground' },
};

function drillLook(r: BackupRecord): { icon: string; color?: string } {
  const d = lastDrillOf(r);
  return d ? DRILLED[d.verdict] : LOOKS.success;
}

function drillLine(r: BackupRecord): string {
  const d = lastDrillOf(r);
  if (!d) return 'Never restore-drilled: UCP: Restore Drill proves it restores';
  const figures = d.revision !== undefined ? `, revision ${d.revision}, ${d.keys ?? '?'} keys` : '';
  return [`Last restore drill: ${d.verdict}, ${formatLocalTime(d.at, true) || d.at} (etcd on ${d.ranOn}${figures})`, ...d.findings].join('\n');
}

function timeLine(what: string, iso: string): string {
  const local = formatLocalTime(iso, true);
  return local ? `${what}: ${local} (${formatUtcTime(iso)})` : '';
}

/** "read back and checked 2024-05-01 08:03": what the tooltip and a copy's row say. */
export function copyChecked(c: { checkedAt: string }): string {
  return `read back and checked ${formatLocalTime(c.checkedAt) || c.checkedAt}`;
}

/** Off-site copies listed in the record (ucp-backup copy, Copy Backup To…, a schedule's --copy-to). */
function copyLines(r: BackupRecord): string[] {
  return listedCopies(r).map((c) => `Copy: ${c.location} (${copyChecked(c)})`);
}

/** Which engine wrote a backup, in the words the toast, tooltip and details share. */
export function engineName(engine: BackupRecord['engine']): string {
  return engine === 'official' ? 'official image' : 'built-in';
}

export function backupPresentation(r: BackupRecord, now: number = Date.now(), facts: BackupFacts = {}): Presentation {
  const kind = backupKind(r, facts);
  const parts = [STATE_TEXT[kind](r), r.fileName, formatRelative(r.created_at, now)];
  if (r.size !== undefined && r.backupState === 'SUCCESS') parts.push(formatSize(r.size));
  if (r.encrypted) parts.push('🔒');
  if (r.nodeLocation) parts.push(r.nodeLocation);
  const where = r.location === 'local' ? `Local file: ${r.backupPath}/${r.fileName}` : `On ${r.nodeLocation}: ${r.backupPath}/${r.fileName}`;
  const advice = failureAdvice(r, facts);
  const tooltip = [
    `${r.fileName || r.id} — ${r.backupState}${kind === 'missing' ? ' (file missing)' : ''}`,
    timeLine('Created', r.created_at),
    isZeroTime(r.completed_at) ? '' : timeLine('Completed', r.completed_at),
    where,
    r.encrypted ? 'Encrypted with a passphrase' : 'Not encrypted',
    r.size !== undefined ? `Size: ${formatSize(r.size)} (${r.size} bytes)` : '',
    r.sha256 ? `SHA-256: ${r.sha256}` : '',
    r.ucpVersion ? `UCP ${r.ucpVersion}` : '',
    r.engine ? `Engine: ${engineName(r.engine)}` : '',
    ...copyLines(r),
    r.shortError ? `Error: ${r.shortError}` : '',
    advice ? `What to do: ${advice}` : '',
    kind === 'success' ? drillLine(r) : '',
    `ID: ${r.id}`,
  ]
    .filter(Boolean)
    .join('\n');
  // The time is the label: what an admin scans a history by, and short enough never to be cut.
  const label = formatLocalTime(r.created_at) || r.fileName || r.id;
  // A run whose process is gone while its lock has not expired: not the spinner, nothing runs.
  const look = kind === 'inProgress' && r.shortError ? { icon: 'warning', color: 'problemsWarningIcon.foreground' } : kind === 'success' ? drillLook(r) : LOOKS[kind];
  return { label, description: parts.filter(Boolean).join(' · '), tooltip, ...look, contextValue: backupContextValue(r, facts) };
}

/**
 * The facts learnt beside a record applied to a row built without them (the API tree's merged
 * presentation builds on backupPresentation): a SUCCESS whose file is gone reads as such.
 */
export function withBackupFacts(p: Presentation, r: BackupRecord, facts: BackupFacts): Presentation {
  if (backupKind(r, facts) !== 'missing' || p.contextValue === 'backup.missing') return p;
  const [first, ...rest] = p.tooltip.split('\n');
  return {
    ...p,
    ...LOOKS.missing,
    description: `${STATE_TEXT.missing(r)} · ${p.description}`,
    tooltip: [`${first} (file missing)`, ...rest.filter((l) => !l.startsWith('ID: ')), `What to do: ${failureAdvice(r, facts)}`, `ID: ${r.id}`].join('\n'),
    contextValue: backupContextValue(r, facts),
  };
}
