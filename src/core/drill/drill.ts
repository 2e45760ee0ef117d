/**
 * The restore drill (issue 13): proves a backup restores without touching the running
 * cluster. One read of the archive through verify (decrypt, integrity, tar, checks) keeps the
 * parts a restore needs in a private temp dir; then the etcd snapshot is restored and served
 * by a throwaway member — in containers on a manager from the image its ucp-kv runs (the
 * cluster's own etcd version), or with the local etcd (`local`) — the certificates and auth
 * store are opened, the version compared. The temp dir, the member and its containers go
 * away whatever happens, also on cancel.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { WrongPassphraseError } from '../archive/errors';
import { CancelledError, ConfigError, UcpError, describeError } from '../errors';
import type { ProgressSink } from '../progress';
import { failedChecks, type VerifyReport } from '../verify/report';
import { verifyBackup, type VerifySource } from '../verify/verify';
import { inspectAuthStore } from './authStore';
import { DrillCapture } from './capture';
import { certificateChecks } from './certificates';
import type Docker from 'dockerode';
import { LocalEtcd, type EtcdBackend, type ServedMember } from './etcdBackend';
import { EtcdToolError } from './etcdLocal';
import { removeDeadDrillDirs, DRILL_DIR_PREFIX } from './drillDirs';
import { manifestFigures, type ManifestFigures } from './manifestFigures';
import { check, verdictOf, type DrillCheck, type DrillReport, type EtcdFigures } from './report';
import { versionCheck } from './version';

/** The manager the drill runs its etcd containers on; connecting may fail (then the etcd rows FAIL with why). */
export type DrillManager = () => Promise<{ docker: Docker; name: string }>;

export interface DrillOptions {
  passphrase?: string | (() => Promise<string | undefined>);
  /** Restore with the etcd on this machine's PATH instead of on a manager. */
  local?: boolean;
  /** Restore in throwaway containers on this manager (the default mode). */
  manager?: DrillManager;
  /** The UCP version of the cluster the backup would be restored on (default: the manager's). */
  targetVersion?: string;
  log?: (line: string) => void;
  /** List up to this many entries in the report (the VS Code panel shows them as verify's do); default none. */
  maxEntriesInReport?: number;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
}

export async function drill(archive: string | VerifySource, options: DrillOptions): Promise<DrillReport> {
  const started = Date.now();
  const source: VerifySource = typeof archive === 'string' ? { kind: 'file', path: archive } : archive;
  const label = source.kind === 'file' ? source.path : source.label;
  if (!options.local && !options.manager) throw new ConfigError('The restore drill needs a manager to restore the etcd snapshot on, or --local.', 'Give --config FILE [--cluster NAME] [--node NODE], or --local to use the etcd on this machine\'s PATH.');
  await removeDeadDrillDirs();
  // mkdtemp makes the dir 0700: decrypted keys and the store's data stay private.
  const dir = await mkdtemp(join(tmpdir(), DRILL_DIR_PREFIX));
  const checks: DrillCheck[] = [];
  const report: DrillReport = { verdict: 'FAIL', source: label, targetVersion: options.targetVersion, checks, durationMs: 0 };
  let backend: EtcdBackend | undefined;
  let backendError: string | undefined;
  try {
    // Before reading a big archive: without etcd (local) the drill cannot do its main part.
    if (options.local) backend = await LocalEtcd.open();
    else {
      options.onProgress?.({ step: 'verify', message: 'Connecting to the manager' });
      try {
        const m = await options.manager!();
        const { ClusterEtcd } = await import('./etcdContainer');
        const cluster = await ClusterEtcd.open(m.docker, m.name, options.log);
        backend = cluster;
        report.manager = cluster.node.hostname;
        if (!report.targetVersion) {
          report.targetVersion = cluster.node.ucpVersion;
          report.targetFrom = cluster.node.hostname;
        }
      } catch (err) {
        if (err instanceof CancelledError) throw err;
        backendError = `no manager to restore it on: ${describeError(err)}`;
      }
    }
    const capture = new DrillCapture(dir);
    const progress = (message: string) => options.onProgress?.({ step: 'verify', message });
    progress(`Reading ${label}`);
    let verified: VerifyReport | undefined;
    try {
      verified = await verifyBackup(source, { passphrase: options.passphrase, signal: options.signal, onProgress: options.onProgress, maxEntriesInReport: options.maxEntriesInReport ?? 0, onEntry: capture.onEntry });
    } catch (err) {
      // An unreadable passphrase file is the caller's usage error, not the archive's.
      if (err instanceof CancelledError || err instanceof ConfigError || !(err instanceof UcpError)) throw err;
      // A wrong passphrase, not a backup, an unreadable file: the drill's answer is FAIL, with why.
      checks.push(check('archive', 'Archive opens and verifies', 'FAIL', describeError(err)));
      if (err instanceof WrongPassphraseError) report.wrongPassphrase = true;
      return report;
    } finally {
      capture.close();
    }
    report.verify = { verdict: verified.verdict, entryCount: verified.entryCount, encrypted: verified.encrypted, cipher: verified.cipher };
    if (options.maxEntriesInReport) report.entries = verified.entries;
    report.ucpVersion = verified.ucpVersion;
    const failed = failedChecks(verified);
    checks.push(
      failed.length === 0
        ? check('archive', 'Archive opens and verifies', 'PASS', `VALID: ${verified.checks.length} verify checks pass, ${verified.entryCount} entries`)
        : check('archive', 'Archive opens and verifies', 'FAIL', `INVALID: ${failed.map((c) => `${c.title}: ${c.reason}`).join('; ')}`),
    );
    const figures = manifestFigures(capture.manifestText);

    progress(`Restoring the etcd snapshot with ${backend?.description ?? 'no etcd'}`);
    await etcdChecks(backend, backendError, capture, figures, report, options.signal);
    checks.push(...certificateChecks(capture.pems));
    if (!capture.authStore?.complete) checks.push(check('authStore', 'Auth store (auth-store.tar.gz) opens', 'FAIL', capture.authStore ? 'the entry is incomplete' : 'no ./ucp-backup/<id>/auth-store.tar.gz in the archive'));
    else {
      const a = await inspectAuthStore(capture.authStore.path, figures.authPausedMs, options.signal);
      checks.push(a.check);
      report.authStore = a.info;
    }
    checks.push(versionCheck(report.ucpVersion, report.targetVersion, report.targetFrom));
    if (options.signal?.aborted) throw new CancelledError();
    return report;
  } finally {
    report.verdict = verdictOf(checks);
    report.durationMs = Date.now() - started;
    await backend?.close();
    await rm(dir, { recursive: true, force: true });
  }
}

async function etcdChecks(backend: EtcdBackend | undefined, backendError: string | undefined, capture: DrillCapture, expected: ManifestFigures, report: DrillReport, signal?: AbortSignal): Promise<void> {
  const { checks } = report;
  const snap = capture.snapshot;
  const title = 'etcd snapshot restores';
  if (!snap?.complete) {
    checks.push(check('etcdRestore', title, 'FAIL', snap ? `${snap.name} is incomplete in the archive` : 'no ./ucp-backup/<id>/etcd.backup.db in the archive'));
    return;
  }
  if (!backend) {
    checks.push(check('etcdRestore', title, 'FAIL', `${backendError ?? 'no etcd to restore it with'}; the snapshot was not restored`));
    return;
  }
  let etcd: EtcdFigures;
  let member: ServedMember | undefined;
  try {
    // Restore first: its hash check names damage plainly, where `snapshot status` may crash on it.
    await backend.restore(snap.path, signal);
    member = await backend.serve(signal);
    const st = await member.status(signal);
    etcd = report.etcd = { hash: st.hash, revision: st.revision, totalKey: st.totalKey, totalSize: st.totalSize };
  } catch (err) {
    await member?.stop();
    checks.push(check('etcdRestore', title, 'FAIL', toolMessage(err)));
    return;
  }
  const others = capture.otherSnapshots.length ? `; ${capture.otherSnapshots.length} more snapshot entries not restored` : '';
  checks.push(check('etcdRestore', title, 'PASS', `snapshot status: hash ${etcd.hash}, revision ${etcd.revision}, ${etcd.totalKey} total keys, ${etcd.totalSize} bytes; restored into a throwaway data dir with ${backend.description}${others}`));
  try {
    const m = await member.figures(signal);
    Object.assign(etcd, { etcdVersion: m.version, memberRevision: m.revision, keys: m.keys, prefixes: m.prefixes });
    const byPrefix = m.prefixes.map((p) => `${p.prefix} ${p.keys}`).join(', ') || 'no keys';
    // A restore keeps the store's revision: another one means the member is not serving this snapshot.
    const same = m.revision === etcd.revision;
    checks.push(check('etcdMember', 'Restored etcd member answers', same ? 'PASS' : 'FAIL', `etcd ${m.version ?? '?'} on ${member.where} answered at revision ${m.revision}${same ? '' : ` (the snapshot is at ${etcd.revision})`}, ${m.keys} keys: ${byPrefix}`));
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
  // The live store's key count at the snapshot's revision against what the restored member serves.
  if (e.keys !== undefined && etcd.keys !== undefined && e.keys !== etcd.keys) {
    return check('etcdManifest', title, 'FAIL', `the restored member serves ${etcd.keys} keys; the live store held ${e.keys} at revision ${e.revision ?? etcd.revision} when the backup took it: keys were lost or added in the snapshot`);
  }
  const live = e.keys !== undefined ? (etcd.keys !== undefined ? ` and the ${e.keys} keys the live store held` : ` (the live store's ${e.keys} keys not compared: the member did not answer)`) : '';
  return check('etcdManifest', title, 'PASS', `revision ${etcd.revision} and ${etcd.totalKey} total keys${e.hash !== undefined ? ' and hash' : ''}${live} equal the manifest's record`);
}

function toolMessage(err: unknown): string {
  if (err instanceof CancelledError) throw err;
  if (err instanceof EtcdToolError) return err.message;
  return describeError(err);
}
