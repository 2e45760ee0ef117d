/** The --keep-* options of `prune` and `schedule install`, read into a retention policy. */
import { ConfigError } from '../core/errors';
import { checkPolicy, POLICY_RULES, type RetentionPolicy } from '../core/retention';

export const POLICY_OPTIONS = {
  keep: { type: 'string' },
  'keep-last': { type: 'string' },
  'keep-daily': { type: 'string' },
  'keep-weekly': { type: 'string' },
  'keep-monthly': { type: 'string' },
} as const;

/** The policy the options give; none given: `configured`, else `required` decides (an error or undefined). */
export function policyFrom(values: Record<string, unknown>, configured?: RetentionPolicy, required = true): RetentionPolicy | undefined {
  const policy: RetentionPolicy = {};
  for (const rule of POLICY_RULES) {
    const v = values[rule.option.slice(2)] as string | boolean | undefined;
    if (v === undefined) continue;
    const n = Number(v);
    if (typeof v !== 'string' || !/^\d+$/.test(v)) throw new ConfigError(`${rule.option} must be a whole number of 0 or more, not "${String(v)}".`, `e.g. ${rule.option} 7.`);
    policy[rule.key] = n;
  }
  if (values.keep !== undefined) {
    const keep = Number(values.keep);
    if (typeof values.keep !== 'string' || !Number.isInteger(keep) || keep < 1) throw new ConfigError(`--keep must be a whole number of 1 or more, not "${String(values.keep)}".`, 'Say how many successful backups to keep, e.g. --keep 7.');
    if (policy.last !== undefined) throw new ConfigError('--keep is --keep-last: give one of them.');
    policy.last = keep;
  }
  if (!Object.keys(policy).length && configured) return checkPolicy(configured);
  if (!Object.keys(policy).length && !required) return undefined;
  if (!Object.keys(policy).length) throw new ConfigError('Say what to keep.', 'Give --keep-last N, --keep-daily N, --keep-weekly N and/or --keep-monthly N, e.g. --keep-daily 7 --keep-weekly 4.');
  return checkPolicy(policy);
}
