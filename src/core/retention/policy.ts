/**
 * Policy retention with restic's semantics (`restic forget --keep-last/daily/weekly/monthly`):
 * backups are walked newest first; `last N` keeps the N newest; `daily N` keeps the newest
 * backup of each of the N newest days that have a backup (days without one do not count, so
 * a week without backups never costs a daily slot), and so on for weeks (ISO, Monday first)
 * and months. A backup kept by several rules lists every reason. Pure: no I/O, no clock.
 */
import { ConfigError } from '../errors';
import { periodKey, type PeriodKind } from './periods';

export interface RetentionPolicy {
  last?: number;
  daily?: number;
  weekly?: number;
  monthly?: number;
}

/** One backup as the policy sees it. */
export interface Dated {
  id: string;
  created_at: string;
  completed_at?: string;
}

export interface PolicyDecision<T extends Dated> {
  item: T;
  keep: boolean;
  /** Why it stays: "last 2", "daily 2026-12-03", "weekly 2026-W49", "monthly 2026-12". Empty when it goes. */
  reasons: string[];
}

export const POLICY_RULES: readonly { key: keyof RetentionPolicy; option: string; kind?: PeriodKind; label: string }[] = [
  { key: 'last', option: '--keep-last', label: 'last' },
  { key: 'daily', option: '--keep-daily', kind: 'day', label: 'daily' },
  { key: 'weekly', option: '--keep-weekly', kind: 'week', label: 'weekly' },
  { key: 'monthly', option: '--keep-monthly', kind: 'month', label: 'monthly' },
];

const time = (s: string | undefined) => {
  const t = s ? Date.parse(s) : NaN;
  return Number.isFinite(t) ? t : 0;
};

/**
 * Newest first. Equal start times (two runs in one second, a clock that stepped back) are
 * ordered by completion, then id, so the same history always gives the same answer.
 */
export function newestFirst<T extends Dated>(items: readonly T[]): T[] {
  return [...items].sort((a, b) => time(b.created_at) - time(a.created_at) || time(b.completed_at) - time(a.completed_at) || (a.id < b.id ? 1 : a.id > b.id ? -1 : 0));
}

/** Checks counts (whole numbers ≥ 0) and that at least one rule keeps something. */
export function checkPolicy(policy: RetentionPolicy): RetentionPolicy {
  for (const r of POLICY_RULES) {
    const n = policy[r.key];
    if (n !== undefined && (!Number.isInteger(n) || n < 0)) throw new ConfigError(`${r.option} must be a whole number of 0 or more, not "${n}".`, `e.g. ${r.option} 7.`);
  }
  if (!POLICY_RULES.some((r) => (policy[r.key] ?? 0) > 0)) {
    throw new ConfigError('The retention policy keeps nothing.', 'Give at least one of --keep-last N, --keep-daily N, --keep-weekly N, --keep-monthly N with N of 1 or more.');
  }
  return policy;
}

/** The policy in words, e.g. "last 3, daily 7, weekly 4". */
export function describePolicy(policy: RetentionPolicy): string {
  return POLICY_RULES.filter((r) => (policy[r.key] ?? 0) > 0)
    .map((r) => `${r.label} ${policy[r.key]}`)
    .join(', ');
}

/** Applies the policy to successful backups; the result is newest first. */
export function applyPolicy<T extends Dated>(items: readonly T[], policy: RetentionPolicy, timeZone: string): PolicyDecision<T>[] {
  const rules = POLICY_RULES.filter((r) => (policy[r.key] ?? 0) > 0).map((r) => ({ ...r, left: policy[r.key]!, lastPeriod: undefined as string | undefined }));
  return newestFirst(items).map((item, index) => {
    const reasons: string[] = [];
    for (const rule of rules) {
      if (rule.left <= 0) continue;
      // `last` counts every backup; a period rule counts a period once, at its newest backup.
      const period = rule.kind ? periodKey(new Date(time(item.created_at)), rule.kind, timeZone) : String(index);
      if (period === rule.lastPeriod) continue;
      rule.lastPeriod = period;
      rule.left--;
      reasons.push(rule.kind ? `${rule.label} ${period}` : `${rule.label} ${policy.last}`);
    }
    return { item, keep: reasons.length > 0, reasons };
  });
}
