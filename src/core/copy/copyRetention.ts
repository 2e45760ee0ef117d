/**
 * Retention of off-site copies, per destination (`ucp-backup prune --copies-at DEST`): a longer
 * policy off-site than on the manager is the usual case. The copies a destination holds are
 * the ones listed in the backups' records (`copies`, with `to` = DEST); each counts at its
 * backup's time, with restic's semantics as for backups (src/core/retention). The newest copy
 * at the place is never removed, whatever the policy says. A removed copy is deleted at the
 * destination, then dropped from its record (swarm and local); the backup itself is untouched.
 * Copies of records that are gone (pruned earlier) are not listed anywhere, so not seen here.
 */
import { rm } from 'node:fs/promises';
import type Docker from 'dockerode';
import { DeleteObjectCommand } from '@aws-sdk/client-s3';
import type { SFTPWrapper } from 'ssh2';
import { describeError, UcpError } from '../errors';
import { LocalHistory } from '../history/localHistory';
import type { BackupRecord } from '../history/record';
import { applyPolicy, checkPolicy, describePolicy, newestFirst, type RetentionPolicy } from '../retention/policy';
import { checkTimeZone, machineTimeZone } from '../retention/periods';
import type { NodeSession } from '../ssh/nodeSession';
import { editCopies } from './copyBackup';
import { listedCopies, type CopyRecord } from './copyRecord';
import { copyLocation, parseCopyDestination, type CopyDestination } from './destination';
import { s3Client, type S3Options } from './s3Copy';
import { call, sftpSession, type SftpOptions } from './sftpCopy';

export const NEWEST_COPY = 'newest copy at this place (never removed)';

export interface CopyPlanItem {
  record: BackupRecord;
  copy: CopyRecord;
  /** Why it stays, or why it goes. */
  reasons: string[];
  /** The file is also a kept copy's (two backups of one name: the newer overwrote it): only the listing goes. */
  listingOnly?: boolean;
}

export interface CopyPlan {
  to: string;
  keep: CopyPlanItem[];
  /** Oldest first. */
  remove: CopyPlanItem[];
  policy: string;
  timeZone: string;
}

/** The copy of a record at `to`, when it lists one. */
function copyAt(r: BackupRecord, to: string): CopyRecord | undefined {
  return listedCopies(r).find((c) => c.to === to);
}

export function planCopyRetention(records: readonly BackupRecord[], to: string, policy: RetentionPolicy, timeZone = machineTimeZone()): CopyPlan {
  const dest = parseCopyDestination(to).url;
  checkPolicy(policy);
  checkTimeZone(timeZone);
  const items = newestFirst(records.filter((r) => r.backupState === 'SUCCESS' && copyAt(r, dest)));
  const decisions = applyPolicy(items, policy, timeZone);
  const keep: CopyPlanItem[] = [];
  const remove: CopyPlanItem[] = [];
  decisions.forEach((d, i) => {
    const item = { record: d.item, copy: copyAt(d.item, dest)!, reasons: [...d.reasons] };
    if (i === 0) item.reasons.push(NEWEST_COPY);
    if (d.keep || i === 0) keep.push(item);
    else remove.push({ ...item, reasons: [`not the newest copy of any period the policy (${describePolicy(policy)}) keeps`] });
  });
  const keptFiles = new Set(keep.map((k) => k.copy.location));
  for (const r of remove) {
    if (!keptFiles.has(r.copy.location)) continue;
    r.listingOnly = true;
    r.reasons.push(`${r.copy.location} now holds a newer backup's copy that is kept: only this listing goes`);
  }
  return { to: dest, keep, remove: remove.reverse(), policy: describePolicy(policy), timeZone };
}

export function describeCopyPlan(plan: CopyPlan): string {
  const rows = [...plan.keep.map((k) => ['keep', k] as const), ...plan.remove.map((k) => ['remove', k] as const)].sort((a, b) => Date.parse(b[1].record.created_at) - Date.parse(a[1].record.created_at));
  let out = `Copies at ${plan.to}; policy: ${plan.policy}; days, weeks and months in ${plan.timeZone}.\n`;
  for (const [action, k] of rows) out += `${action.padEnd(6)} ${k.record.id} ${k.record.created_at} ${k.copy.location}: ${k.reasons.join('; ')}\n`;
  return out + `${plan.remove.length} would be removed, ${plan.keep.length} kept.\n`;
}

export interface CopyPruneDeps {
  docker?: Docker;
  local?: LocalHistory;
  sftp?: SftpOptions;
  s3?: Omit<S3Options, 'signal'>;
}

/** Deletes copies at one destination; a copy already gone counts as deleted. */
class Remover {
  private sftp?: { session: NodeSession; sftp: SFTPWrapper };

  constructor(
    private readonly dest: CopyDestination,
    private readonly deps: CopyPruneDeps,
  ) {}

  async remove(location: string): Promise<void> {
    const d = this.dest;
    // A record names the copy; it is only deleted where this destination keeps its copies.
    const base = copyLocation(d, '');
    const rest = location.startsWith(base) ? location.slice(base.length) : '';
    if (!rest || rest.includes('/') || rest === '..' || rest === '.') throw new UcpError(`The record lists the copy as ${location}, which is not a file directly in ${base}: left alone.`);
    if (d.kind === 'local') return rm(location, { force: true });
    if (d.kind === 's3') {
      const client = s3Client(this.deps.s3 ?? {});
      try {
        await client.send(new DeleteObjectCommand({ Bucket: d.bucket, Key: location.slice(`s3://${d.bucket}/`.length) }));
      } finally {
        client.destroy();
      }
      return;
    }
    const path = `${d.dir.replace(/\/+$/, '')}/${rest}`;
    const s = await this.session();
    await call((cb) => s.unlink(path, cb)).catch((err: { code?: number }) => {
      if (err?.code !== 2) throw err; // 2: SSH_FX_NO_SUCH_FILE
    });
  }

  private async session(): Promise<SFTPWrapper> {
    if (this.sftp) return this.sftp.sftp;
    const session = sftpSession(this.dest as Extract<CopyDestination, { kind: 'sftp' }>, this.deps.sftp);
    try {
      const client = await session.connect();
      const sftp = await call<SFTPWrapper>((cb) => client.sftp(cb));
      this.sftp = { session, sftp };
      return sftp;
    } catch (err) {
      session.close();
      throw err;
    }
  }

  close(): void {
    this.sftp?.session.close();
  }
}

export async function executeCopyPrune(plan: CopyPlan, deps: CopyPruneDeps): Promise<(CopyPlanItem & { error?: string })[]> {
  const remover = new Remover(parseCopyDestination(plan.to), deps);
  const local = deps.local ?? new LocalHistory();
  const out: (CopyPlanItem & { error?: string })[] = [];
  try {
    for (const item of plan.remove) {
      try {
        if (!item.listingOnly) await remover.remove(item.copy.location);
        await editCopies(item.record, (copies) => copies.filter((c) => c.location !== item.copy.location), { docker: deps.docker, local });
        out.push(item);
      } catch (err) {
        out.push({ ...item, error: describeError(err) });
      }
    }
  } finally {
    remover.close();
  }
  return out;
}
