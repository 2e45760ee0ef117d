/**
 * Retention in words, shared by `ucp-backup prune --dry-run` and VS Code's "Apply Retention…":
 * the policy as the admin types it ("last=3 daily=7 weekly=4"), and a plan as a preview that
 * lists every backup in scope with what happens to it and why.
 */
import { ConfigError } from '../errors';
import type { BackupRecord } from '../history/record';
import { listedCopies } from '../copy/copyRecord';
import type { PrunePlan } from './plan';
import { checkPolicy, POLICY_RULES, type RetentionPolicy } from './policy';

const EXAMPLE = 'e.g. "daily=7 weekly=4 monthly=6" or "last=3"';

/** "last=3 daily=7" (spaces or commas between; `keep-daily=7` also read) as a checked policy. */
export function parsePolicyText(text: string): RetentionPolicy {
  const policy: RetentionPolicy = {};
  const words = text.split(/[\s,]+/).filter(Boolean);
  if (!words.length) throw new ConfigError('Say what to keep.', EXAMPLE);
  for (const word of words) {
    const m = /^(?:keep-)?([a-z]+)=(\d+)$/.exec(word.toLowerCase());
    const rule = m && POLICY_RULES.find((r) => r.label === m[1]);
    if (!m || !rule) throw new ConfigError(`"${word}" is not a retention rule.`, `Use last=N, daily=N, weekly=N and/or monthly=N, ${EXAMPLE}.`);
    if (policy[rule.key] !== undefined) throw new ConfigError(`${rule.label} is given twice.`, EXAMPLE);
    policy[rule.key] = Number(m[2]);
  }
  return checkPolicy(policy);
}

/** The policy as parsePolicyText reads it back. */
export function policyText(policy: RetentionPolicy): string {
  return POLICY_RULES.filter((r) => policy[r.key] !== undefined)
    .map((r) => `${r.label}=${policy[r.key]}`)
    .join(' ');
}

/** Off-site copies are not removed with their backup: said, so the admin prunes them first (`--copies-at`). */
function copiesStay(r: BackupRecord): string {
  const where = listedCopies(r).map((c) => c.location);
  return where.length ? `; its copies stay: ${where.join(', ')} (prune --copies-at removes copies)` : '';
}

/** Every backup in scope, newest first, with what happens to it and why. */
export function describePlan(plan: PrunePlan): string {
  const rows: [BackupRecord, string, string][] = [
    ...plan.running.map((r): [BackupRecord, string, string] => [r, 'keep', 'running']),
    ...plan.kept.map((k): [BackupRecord, string, string] => [k.record, 'keep', k.reasons.join('; ')]),
    ...plan.remove.map((p): [BackupRecord, string, string] => [p.record, 'remove', p.reason + (p.files.length ? ` (files: ${p.files.join(', ')})` : p.note ? ` (record only: ${p.note})` : ' (record only)') + copiesStay(p.record)]),
  ].sort((a, b) => Date.parse(b[0].created_at) - Date.parse(a[0].created_at));
  let out = `Policy: ${plan.policy}; days, weeks and months in ${plan.timeZone}.\n`;
  for (const [r, action, why] of rows) out += `${action.padEnd(6)} ${r.id} ${r.backupState.padEnd(11)} ${r.created_at} ${r.fileName}: ${why}\n`;
  return out + `${plan.remove.length} would be removed, ${plan.kept.length + plan.running.length} kept.\n`;
}
