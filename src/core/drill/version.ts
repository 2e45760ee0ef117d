/**
 * The backup's UCP version against the cluster it would be restored on. The spec: "if
 * backups occur on version N, then a restore on version N+1 is not supported" — a newer
 * major.minor is FAIL. Any other difference (another patch, an older cluster) is WARN:
 * restore runs the image of the backup's exact version, so the admin should know.
 */
import { majorMinor } from '../verify/ucpVersion';
import { check, type DrillCheck } from './report';

/** `from`: the manager whose version `target` is (none: the admin gave it). */
export function versionCheck(backup: string | undefined, target: string | undefined, from?: string): DrillCheck {
  const title = target ? `Restorable on UCP ${target}${from ? ` (${from})` : ''}` : 'UCP version';
  if (!backup) return check('version', title, 'FAIL', 'the backup\'s UCP version is not in the archive (no manifest, label or image tag)');
  if (!target) return check('version', title, 'PASS', `backup of UCP ${backup}; no --target-version given, so not compared`);
  const b = parse(backup);
  const t = parse(target);
  if (!b || !t) return check('version', title, 'WARN', `cannot compare versions ${backup} and ${target}`);
  if (backup === target) return check('version', title, 'PASS', `backup and target are both UCP ${backup}`);
  const newer = t[0] > b[0] || (t[0] === b[0] && t[1] > b[1]);
  if (newer) return check('version', title, 'FAIL', `backup of UCP ${backup} on a cluster of ${target}: a backup of version N is not restored on N+1 (spec); restore on ${majorMinor(backup)}.x first`);
  if (t[0] === b[0] && t[1] === b[1]) return check('version', title, 'WARN', `backup of UCP ${backup}, target ${target}: same ${majorMinor(backup)} but another patch; restore uses the ${backup} image`);
  return check('version', title, 'WARN', `backup of UCP ${backup} on an older cluster (${target}): not covered by the spec; restore uses the ${backup} image`);
}

function parse(v: string): [number, number] | undefined {
  const m = /^(\d+)\.(\d+)\.\d+/.exec(v);
  return m ? [Number(m[1]), Number(m[2])] : undefined;
}
