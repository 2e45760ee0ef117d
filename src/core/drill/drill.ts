/**
 * The restore drill (issue 13): proves a backup restores without touching the running
 * cluster. One read of the archive through verify (decrypt, integrity, tar, checks) keeps the
 * parts a restore needs in a private temp dir; then the etcd snapshot is restored and served
 * by a throwaway local member, the certificates and auth store are opened, the version
 * compared. The temp dir and the member go away whatever happens, also on cancel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CancelledError, ConfigError, UcpError, describeError } from '../errors';
import type { ProgressSink } from '../progress';
import { failedChecks, type VerifyReport } from '../verify/report';
import { verifyBackup, type VerifySource } from '../verify/verify';
import { inspectAuthStore } from './authStore';
import { DrillCapture } from './capture';
import { certificateChecks } from './certificates';
import { EtcdToolError, findEtcdTools, memberFigures, restoreSnapshot, snapshotStatus, startMember, type EtcdTools } from './etcdLocal';
import { manifestFigures, type ManifestFigures } from './manifestFigures';
import { check, verdictOf, type DrillCheck, type DrillReport, type EtcdFigures } from './report';
import { versionCheck } from './version';

export interface DrillOptions {
  passphrase?: string | (() => Promise<string | undefined>);
  /** Restore with the etcd on this machine's PATH (the only mode: required). */
  local: boolean;
  /** The UCP version of the cluster the backup would be restored on. */
  targetVersion?: string;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export async function drill(archive: string | VerifySource, options: DrillOptions): Promise<DrillReport> {
  const started = Date.now();
  const source: VerifySource = typeof archive === 'string' ? { kind: 'file', path: archive } : archive;
  const label = source.kind === 'file' ? source.path : source.label;
  if (!options.local) throw new ConfigError('The restore drill needs --local: it restores the snapshot with the etcd on this machine\'s PATH.', 'Run it again with --local.');
  // Before reading a big archive: without etcd the drill cannot do its main part.
  const tools = await findEtcdTools();

  // mkdtemp makes the dir 0700: decrypted keys and the store's data stay private.
  const dir = await mkdtemp(join(tmpdir(), 'ucp-drill-'));
  const checks: DrillCheck[] = [];
  const report: DrillReport = { verdict: 'FAIL', source: label, targetVersion: options.targetVersion, checks, durationMs: 0 };
  try {
    const capture = new DrillCapture(dir);
    const progress = (message: string) => options.onProgress?.({ step: 'verify', message });
    progress(`Reading ${label}`);
    let verified: VerifyReport | undefined;
    try {
      verified = await verifyBackup(source, { passphrase: options.passphrase, signal: options.signal, onProgress: options.onProgress, maxEntriesInReport: 0, onEntry: capture.onEntry });
    } catch (err) {
      // An unreadable passphrase file is the caller's usage error, not the archive's.
      if (err instanceof CancelledError || err instanceof ConfigError || !(err instanceof UcpError)) throw err;
      // A wrong passphrase, not a backup, an unreadable file: the drill's answer is FAIL, with why.
      checks.push(check('archive', 'Archive opens and verifies', 'FAIL', describeError(err)));
      return report;
    } finally {
      capture.close();
    }
    report.verify = { verdict: verified.verdict, entryCount: verified.entryCount, encrypted: verified.encrypted, cipher: verified.cipher };
    report.ucpVersion = verified.ucpVersion;
    const failed = failedChecks(verified);
    checks.push(
      failed.length === 0
        ? check('archive', 'Archive opens and verifies', 'PASS', `VALID: ${verified.checks.length} verify checks pass, ${verified.entryCount} entries`)
        : check('archive', 'Archive opens and verifies', 'FAIL', `INVALID: ${failed.map((c) => `${c.title}: ${c.reason}`).join('; ')}`),
    );
    const figures = manifestFigures(capture.manifestText);

    progress('Restoring the etcd snapshot into a throwaway member');
    await etcdChecks(tools, capture, figures, dir, report, options.signal);
    checks.push(...certificateChecks(capture.pems));
    if (!capture.authStore?.complete) checks.push(check('authStore', 'Auth store (auth-store.tar.gz) opens', 'FAIL', capture.authStore ? 'the entry is incomplete' : 'no ./ucp-backup/<id>/auth-store.tar.gz in the archive'));
    else {
      const a = await inspectAuthStore(capture.authStore.path, figures.authPausedMs, options.signal);
      checks.push(a.check);
      report.authStore = a.info;
    }
    checks.push(versionCheck(report.ucpVersion, options.targetVersion));
    if (options.signal?.aborted) throw new CancelledError();
    return report;
  } finally {
    report.verdict = verdictOf(checks);
    report.durationMs = Date.now() - started;
    await rm(dir, { recursive: true, force: true });
  }
}

async function etcdChecks(tools: EtcdTools, capture: DrillCapture, expected: ManifestFigures, dir: string, report: DrillReport, signal?: AbortSignal): Promise<void> {
  const { checks } = report;
  const snap = capture.snapshot;
  const title = 'etcd snapshot restores';
  if (!snap?.complete) {
    checks.push(check('etcdRestore', title, 'FAIL', snap ? `${snap.name} is incomplete in the archive` : 'no ./ucp-backup/<id>/etcd.backup.db in the archive'));
    return;
  }
  let etcd: EtcdFigures;
  let member;
  try {
    // Restore first: its hash check names damage plainly, where `snapshot status` may crash on it.
    const restored = await restoreSnapshot(tools, snap.path, join(dir, 'etcd-data'), signal);
    const st = await snapshotStatus(tools, snap.path, signal);
    etcd = report.etcd = { hash: st.hash, revision: st.revision, totalKey: st.totalKey, totalSize: st.totalSize };
    member = await startMember(tools, restored, signal);
  } catch (err) {
    checks.push(check('etcdRestore', title, 'FAIL', toolMessage(err)));
    return;
  }
  const others = capture.otherSnapshots.length ? `; ${capture.otherSnapshots.length} more snapshot entries not restored` : '';
  checks.push(check('etcdRestore', title, 'PASS', `snapshot status: hash ${etcd.hash}, revision ${etcd.revision}, ${etcd.totalKey} total keys, ${etcd.totalSize} bytes; restored into a throwaway data dir${others}`));
  try {
    const m = await memberFigures(member.clientUrl, signal);
    Object.assign(etcd, { etcdVersion: m.version, memberRevision: m.revision, keys: m.keys, prefixes: m.prefixes });
    const byPrefix = m.prefixes.map((p) => `${p.prefix} ${p.keys}`).join(', ') || 'no keys';
    // A restore keeps the store's revision: another one means the member is not serving this snapshot.
    const same = m.revision === etcd.revision;
    checks.push(check('etcdMember', 'Restored etcd member answers', same ? 'PASS' : 'FAIL', `etcd ${m.version ?? '?'} on ${member.clientUrl} answered at revision ${m.revision}${same ? '' : ` (the snapshot is at ${etcd.revision})`}, ${m.keys} keys: ${byPrefix}`));
  } catch (err) {
    if (err instanceof CancelledError) throw err;
    checks.push(check('etcdMember', 'Restored etcd member answers', 'FAIL', toolMessage(err)));
  } finally {
    await member.stop();
  }
  checks.push(compareWithManifest(etcd, expected));
}

/** The built-in engine records the snapshot's status in ucp-kv when it took it; an archive without it only shows the figures. */
function compareWithManifest(etcd: EtcdFigures, expected: ManifestFigures): DrillCheck {
  const title = 'etcd snapshot matches the backup\'s record';
  const e = expected.etcd;
  if (!e) return check('etcdManifest', title, 'PASS', `the archive records no revision or key count (not our built-in engine's manifest): revision ${etcd.revision}, ${etcd.totalKey} total keys, not compared`);
  const diffs: string[] = [];
  if (e.revision !== undefined && e.revision !== etcd.revision) diffs.push(`revision ${etcd.revision}, recorded ${e.revision}`);
  if (e.totalKey !== undefined && e.totalKey !== etcd.totalKey) diffs.push(`${etcd.totalKey} total keys, recorded ${e.totalKey}`);
  if (e.hash !== undefined && e.hash !== etcd.hash) diffs.push(`hash ${etcd.hash}, recorded ${e.hash}`);
  if (diffs.length) return check('etcdManifest', title, 'FAIL', `${diffs.join('; ')}: the snapshot is not the one the backup took`);
  return check('etcdManifest', title, 'PASS', `revision ${etcd.revision} and ${etcd.totalKey} total keys${e.hash !== undefined ? ' and hash' : ''} equal the manifest's record`);
}

function toolMessage(err: unknown): string {
  if (err instanceof CancelledError) throw err;
  if (err instanceof EtcdToolError) return err.message;
  return describeError(err);
}
