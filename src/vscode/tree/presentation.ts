/**
 * How tree items look: labels, descriptions, tooltips, codicons and contextValues (which
 * drive the package.json `when` clauses). Pure, no `vscode` import, so it is unit-tested.
 */
import type { ManagerStatus } from '../../core/docker/discovery';
import type { BackupRecord } from '../../core/history/record';

export interface Presentation {
  label: string;
  description: string;
  tooltip: string;
  /** Codicon id; `~spin` animates it. */
  icon: string;
  /** ThemeColor id for the icon, if any. */
  color?: string;
  contextValue: string;
}

export type NodeKind = 'leader' | 'reachable' | 'unreachable' | 'noUcp' | 'notConnected';

/** The five states the admin tells apart at a glance (issue: leader / reachable / unreachable / no UCP / not connected). */
export function nodeKind(m: ManagerStatus): NodeKind {
  switch (m.state) {
    case 'ok':
      return m.leader || m.reachability === 'leader' ? 'leader' : 'reachable';
    case 'unreachable':
      // Found in the swarm and healthy there, only not reached over SSH with the guessed
      // settings: not a red "unreachable" (the swarm says otherwise), just not connected.
      return m.discoveredVia && m.reachability && m.reachability !== 'unreachable' ? 'notConnected' : 'unreachable';
    case 'no-ucp':
    case 'not-manager':
    case 'no-swarm':
      return 'noUcp';
    default:
      return 'notConnected';
  }
}

const NODE_ICONS: Record<NodeKind, { icon: string; color?: string; text: string }> = {
  leader: { icon: 'star-full', color: 'charts.green', text: 'leader' },
  reachable: { icon: 'vm-active', color: 'charts.green', text: 'reachable' },
  unreachable: { icon: 'vm-outline', color: 'errorForeground', text: 'unreachable' },
  noUcp: { icon: 'circle-slash', color: 'disabledForeground', text: 'no UCP' },
  notConnected: { icon: 'debug-disconnect', color: 'problemsWarningIcon.foreground', text: 'not connected' },
};

/** A manager found in the swarm, not configured: say how it was reached, so a wrong guess is visible. */
function discoveredLine(m: ManagerStatus): string {
  if (!m.discoveredVia) return '';
  const at = m.nodeConfig ? ` at ${m.nodeConfig.host}${m.nodeConfig.port ? ':' + m.nodeConfig.port : ''}` : '';
  if (m.state === 'ok') return `Found in the swarm, not configured: reached${at} with ${m.discoveredVia}'s SSH settings`;
  // Never "reached" for a node that was not: the guess was tried and failed.
  const swarm = m.reachability && m.reachability !== 'unreachable' ? ` The swarm reports it ${m.reachability}.` : '';
  return `Found in the swarm, not configured: tried${at} with ${m.discoveredVia}'s SSH settings, not reached.${swarm} Add it to the cluster's nodes with its own SSH port.`;
}

/**
 * Which engine a backup from this node would use under the `ucpBackup.engine` setting, and why
 * (the same rule as runBackup's engine choice). Both keep the passphrase on this machine.
 */
export function engineLine(m: ManagerStatus, engine: 'auto' | 'builtin' | 'official' = 'auto'): string {
  if (!m.ucp.installed) return '';
  const img = m.ucp.officialImage;
  if (engine === 'builtin') return 'Backup engine: built-in (setting ucpBackup.engine = builtin)';
  if (img) return `Backup engine: official ${img} (${engine === 'auto' ? 'auto: the image is on this node' : 'setting'}), run with --no-passphrase; encrypted on this machine`;
  if (engine === 'official') return `Backup engine: official, but no docker/ucp:${m.ucp.version ?? '?'} image on this node: a backup here fails`;
  return `Backup engine: built-in (auto: no docker/ucp:${m.ucp.version ?? '?'} image on this node)`;
}

export function nodePresentation(m: ManagerStatus, engine: 'auto' | 'builtin' | 'official' = 'auto'): Presentation {
  const kind = nodeKind(m);
  const look = NODE_ICONS[kind];
  const parts: string[] = [];
  if (m.ucp.installed && m.ucp.version) parts.push(`UCP ${m.ucp.version}`);
  if (kind === 'noUcp' && m.state !== 'no-ucp') parts.push(m.state === 'not-manager' ? 'not a manager' : 'no swarm');
  else parts.push(look.text);
  if (m.selinux) parts.push('SELinux');
  const tooltip = [
    m.name + (m.hostname && m.hostname !== m.name ? ` (${m.hostname})` : ''),
    m.address ? `Address: ${m.address}` : '',
    m.nodeConfig ? `SSH: ${m.nodeConfig.username ? m.nodeConfig.username + '@' : ''}${m.nodeConfig.host}${m.nodeConfig.port ? ':' + m.nodeConfig.port : ''}` : '',
    discoveredLine(m),
    m.engineVersion ? `Docker Engine ${m.engineVersion}` : '',
    m.ucp.installed ? `UCP ${m.ucp.version ?? '(version unknown)'}${m.ucp.namespace ? ` (${m.ucp.namespace} images)` : ''}` : 'UCP not installed',
    m.selinux ? 'SELinux enabled: backups run with --security-opt label=disable' : '',
    engineLine(m, engine),
    m.error ?? '',
  ]
    .filter(Boolean)
    .join('\n');
  // `node` = ready to back up; anything else is `node.<kind>` so menus can tell them apart.
  const contextValue = kind === 'leader' || kind === 'reachable' ? 'node' : `node.${kind}`;
  const description = parts.join(' · ') + (m.discoveredVia ? ' (discovered)' : '');
  return { label: m.name, description, tooltip, icon: look.icon, color: look.color, contextValue };
}

export { backupContextValue, backupKind, withBackupFacts, backupPresentation, failureAdvice, type BackupFacts, type BackupKind } from './backupPresentation';

/** Newest first (the issue); ties by id so the order is stable between refreshes. */
export function sortBackups(records: readonly BackupRecord[]): BackupRecord[] {
  return [...records].sort((a, b) => b.created_at.localeCompare(a.created_at) || a.id.localeCompare(b.id));
}

/** A running backup worth auto-refreshing for; an old IN_PROGRESS record is a crashed run's. */
export const LIVE_IN_PROGRESS_MS = 30 * 60_000;

export function anyInProgress(records: readonly BackupRecord[], now: number = Date.now()): boolean {
  return records.some((r) => r.backupState === 'IN_PROGRESS' && !(now - Date.parse(r.created_at) > LIVE_IN_PROGRESS_MS));
}

/** ucpBackup.maxBackupsShown's default: a long-lived cluster has hundreds of records. */
export const DEFAULT_MAX_BACKUPS_SHOWN = 50;

/**
 * The newest `max` records, and the older rest (shown under one expandable "N more…" item).
 * A running backup is always among the shown ones, however old its record.
 */
export function capBackups(sorted: readonly BackupRecord[], max: number = DEFAULT_MAX_BACKUPS_SHOWN): { shown: BackupRecord[]; rest: BackupRecord[] } {
  const limit = Number.isFinite(max) && max >= 1 ? Math.floor(max) : DEFAULT_MAX_BACKUPS_SHOWN;
  if (sorted.length <= limit) return { shown: [...sorted], rest: [] };
  const shown = sorted.slice(0, limit);
  const rest: BackupRecord[] = [];
  for (const r of sorted.slice(limit)) (r.backupState === 'IN_PROGRESS' ? shown : rest).push(r);
  return { shown, rest };
}

export function moreLabel(rest: number): string {
  return `${rest} more…`;
}
