/**
 * `runBackup`: what `docker/ucp backup` does in the spec, run from the admin's machine over
 * one manager's Docker socket. Owns the record (IN_PROGRESS → SUCCESS | FAILED), the
 * cluster-wide lock, the engine choice, the destination and the optional log file; a failed
 * or cancelled run leaves no partial file, lock or helper container.
 */
import { randomUUID } from 'node:crypto';
import type Docker from 'dockerode';
import type { ClusterConfig, NodeConfig } from '../config';
import { CancelledError, ConfigError, UcpError, throwIfAborted } from '../errors';
import type { ProgressSink, StepName } from '../progress';
import { ZERO_TIME, type BackupRecord } from '../history/record';
import { createClusterRecord, getClusterRecord, listClusterRecords, updateClusterRecord } from '../history/clusterHistory';
import { LocalHistory } from '../history/localHistory';
import { BackupLock } from '../lock/clusterLock';
import { MIN_PASSPHRASE_LENGTH } from '../archive/pgp';
import { builtinBackup } from './builtinEngine';
import { unpauseAuthStoreLeftPaused } from './authStore';
import { removeStaleSnapshots } from './etcdSnapshot';
import { LocalTarget, logNameFor, type ArchiveTarget, type FileSink } from './destination';
import { HostTarget } from './hostTarget';
import { removeLeftoverHelpers, within } from './dockerStreams';
import { WeakPassphraseError, BackupRunningError, swarmQuorumError } from './errors';
import { pickHelperImage } from './helperImage';
import { findOfficialImage, officialBackup } from './officialEngine';
import { writeBuffer, type Written } from './outputPipeline';
import { inspectUcpNode } from './ucpNode';
import { engineInterruption, engineMark, quorumLost } from './engineWatch';
import { StepTimer } from './stepTimer';

/** How long the end-of-run removal of this run's helpers may take before it is left to the node. */
const HELPERS_GONE_WAIT_MS = 10_000;
/** How long the destination may take to say what went wrong with it (disk full, folder gone). */
const EXPLAIN_WAIT_MS = 5_000;

export type EngineChoice = 'auto' | 'builtin' | 'official';

export interface BackupRequest {
  destination: { kind: 'local'; path: string } | { kind: 'host'; hostPath: string; fileName: string };
  /** Undefined only together with `noPassphrase: true` (the spec's explicit choice). */
  passphrase?: string;
  noPassphrase?: boolean;
  includeLogs: boolean;
  engine: EngineChoice;
  /** Replace an existing file of the same name (the spec warns it would be overwritten). */
  overwrite?: boolean;
  /** Who, for the lock message (default user@host). */
  owner?: string;
  /** created_at of the record, when the caller put this time in the file name (Backup Now's default name): both say the same. */
  createdAt?: string;
}

export interface BackupDeps {
  docker: Docker;
  cluster: ClusterConfig;
  node: NodeConfig;
  signal?: AbortSignal;
  onProgress?: ProgressSink;
  log?: (line: string) => void;
  /** Where local-file records are kept (tests pass their own). */
  localHistory?: LocalHistory;
  /** Called with a copy of the record each time it is stored (IN_PROGRESS, then SUCCESS | FAILED). */
  onRecord?: (record: BackupRecord) => void;
  /**
   * The loss of the node's connection since a time, if any (NodeSession.connectionLostSince):
   * what a failure it caused is reported as, instead of "socket hang up" or "Premature close".
   */
  linkLostSince?: (since: number) => Error | undefined;
  /** How Docker calls reach the node (NodeSession.transportInUse), for the log. */
  transport?: string;
}

export const CANCELLED_ERROR = 'cancelled by user';
/** The CLI aborts with the signal's name as reason: a stop by cron/systemd is not the user's Ctrl-C. */
export const STOPPED_ERROR = 'stopped by SIGTERM';
/** The extension aborts with this reason when its window closes or reloads under a run. */
export const WINDOW_CLOSED = 'window-closed';
export const WINDOW_CLOSED_ERROR = 'stopped: the VS Code window running it was closed or reloaded';

function checkRequest(req: BackupRequest): void {
  if (req.passphrase !== undefined && req.noPassphrase) throw new ConfigError('Both a passphrase and --no-passphrase were given.', 'Choose one.');
  if (req.passphrase === undefined && !req.noPassphrase) {
    throw new ConfigError('No passphrase choice was made.', 'Give a passphrase (12+ characters) or say --no-passphrase explicitly, as UCP requires.');
  }
  if (req.passphrase !== undefined && req.passphrase.length < MIN_PASSPHRASE_LENGTH) throw new WeakPassphraseError(req.passphrase.length);
  if (req.destination.kind === 'host') {
    const { hostPath, fileName } = req.destination;
    if (!hostPath.startsWith('/')) throw new ConfigError(`Host path "${hostPath}" is not absolute.`, 'Give the folder on the manager as an absolute path, e.g. /var/backups/ucp.');
    if (!fileName || fileName.includes('/') || fileName.startsWith('.')) throw new ConfigError(`"${fileName}" is not a plain file name.`, 'Give a file name like backup1.tar (no folders, not starting with a dot).');
  }
}

/**
 * Why this engine runs, in the admin's words (tree tooltip, details, record). Both engines keep
 * the passphrase on the admin's machine: the official image always runs with --no-passphrase.
 */
export function engineReason(choice: EngineChoice, officialImage: string | undefined, node: { hostname: string; ucpVersion: string }, encrypted: boolean): string {
  if (officialImage) return `${officialImage} is on ${node.hostname}${choice === 'auto' ? ' (engine: auto prefers it)' : ''}; run with --no-passphrase${encrypted ? ', the archive encrypted on the admin\'s machine' : ''}`;
  if (choice === 'builtin') return 'engine: builtin was chosen';
  return `no docker/ucp:${node.ucpVersion} or mirantis/ucp:${node.ucpVersion} image on ${node.hostname} (engine: auto)`;
}

/**
 * Calls a caller's sink (log, progress). One that throws must not cut the run's cleanup short:
 * a closing VS Code window's output channel throws "Channel has been closed" on every line.
 */
function quietly(sink: () => void): void {
  try {
    sink();
  } catch {
    // the caller is going away; the run still ends its record, lock and helpers
  }
}

function shortErrorOf(err: unknown, signal?: AbortSignal): string {
  if (signal?.aborted && signal.reason === 'SIGTERM') return STOPPED_ERROR;
  if (signal?.aborted && signal.reason === WINDOW_CLOSED) return WINDOW_CLOSED_ERROR;
  if (signal?.aborted || err instanceof CancelledError) return CANCELLED_ERROR;
  const m = err instanceof Error ? err.message : String(err);
  return m.length > 300 ? m.slice(0, 297) + '...' : m;
}

export async function runBackup(request: BackupRequest, deps: BackupDeps): Promise<BackupRecord> {
  try {
    return await runBackupOnce(request, deps);
  } catch (err) {
    throw swarmQuorumError(err) ?? err;
  }
}

async function runBackupOnce(request: BackupRequest, deps: BackupDeps): Promise<BackupRecord> {
  checkRequest(request);
  const startedAt = Date.now();
  const timer = new StepTimer();
  const { docker } = deps;
  // The engines stop on the caller's cancel and also when the run loses its lock (a frozen run
  // whose lease ran out and was taken over): `signal` stays the caller's, for telling them apart.
  const signal = deps.signal;
  const stop = new AbortController();
  const forwardCancel = () => stop.abort(signal?.reason);
  if (signal?.aborted) forwardCancel();
  signal?.addEventListener('abort', forwardCancel, { once: true });
  const local = deps.localHistory ?? new LocalHistory();
  const logLines: string[] = [];
  const log = (line: string) => {
    const l = `${new Date().toISOString()} ${line}`;
    logLines.push(l);
    quietly(() => deps.log?.(l));
  };
  let current: StepName = 'validation';
  const step = (s: StepName, message: string, percent?: number, bytes?: number) => {
    current = s;
    log(`[${s}] ${message}`);
    quietly(() => deps.onProgress?.({ step: s, message, percent, bytes }));
  };

  step('validation', `Checking ${deps.node.name}`, 0);
  if (deps.transport) log(`validation: SSH transport ${deps.transport}`);
  const node = await inspectUcpNode(docker, deps.node.name);
  timer.mark('inspect node');
  log(`validation: ${node.hostname} is a swarm manager running UCP ${node.ucpVersion} (${node.namespace}), engine ${node.engineVersion}${node.selinux ? ', SELinux enabled' : ''}`);
  // To tell later whether the engine restarted under the run (its UCP containers start again).
  const kvId = node.containers.find((c) => c.name === 'ucp-kv')?.id;
  const engineAt = await engineMark(docker, kvId);
  timer.mark('engine mark');

  const id = randomUUID();
  const dest = request.destination;
  const target: ArchiveTarget =
    dest.kind === 'local'
      ? new LocalTarget(dest.path, id, request.overwrite)
      : new HostTarget(docker, dest.hostPath, dest.fileName, { runId: id, selinux: node.selinux, node: node.hostname, overwrite: request.overwrite });
  const record: BackupRecord = {
    id,
    encrypted: request.passphrase !== undefined,
    fileName: target.fileName,
    logFileName: request.includeLogs ? logNameFor(target.fileName) : '',
    backupPath: target.backupPath,
    backupState: 'IN_PROGRESS',
    nodeLocation: node.hostname,
    shortError: '',
    created_at: request.createdAt ?? new Date().toISOString(),
    completed_at: ZERO_TIME,
    ucpVersion: node.ucpVersion,
    location: target.location,
    cluster: deps.cluster.name,
  };
  const save = async () => {
    await updateClusterRecord(docker, record).catch((err) => log(`history: could not update the cluster record: ${(err as Error).message}`));
    if (record.location === 'local') await local.put(record);
    deps.onRecord?.({ ...record });
  };
  await createClusterRecord(docker, record);
  if (record.location === 'local') await local.put(record);
  deps.onRecord?.({ ...record });
  timer.mark('record');

  let lock: BackupLock | undefined;
  try {
    lock = await BackupLock.acquire(docker, { backupId: id, node: node.hostname, owner: request.owner, localHistory: local, log: (line) => step('validation', line), onLost: (err) => stop.abort(err) });
    log(`validation: cluster backup lock taken (${lock.holder.owner}, pid ${lock.holder.pid})`);
    timer.mark('lock');
    // We hold the cluster-wide lock, so helpers of any other backup run belong to a killed one.
    const stale = await removeLeftoverHelpers(docker, async (runId) => runId !== id && !!(await getClusterRecord(docker, runId).catch(() => undefined)));
    if (stale) log(`validation: removed ${stale} helper container(s) left by an interrupted backup`);
    // The other runs' records, read once: what a crash left paused, partial or snapshotted.
    const others = (await listClusterRecords(docker)).filter((r) => r.id !== id);
    const resumed = await unpauseAuthStoreLeftPaused(docker, node.containers.find((c) => c.name === 'ucp-auth-store')?.id, others, log);
    for (const r of resumed) await updateClusterRecord(docker, r).catch((err) => log(`history: could not update record ${r.id}: ${(err as Error).message}`));
    timer.mark('leftovers');

    const official = request.engine === 'builtin' ? undefined : await findOfficialImage(docker, node, request.engine === 'official');
    record.engine = official ? 'official' : 'builtin';
    record.engineReason = engineReason(request.engine, official, node, record.encrypted);
    log(`validation: engine ${record.engine}: ${record.engineReason}`);
    step('validation', `Engine: ${record.engine} (${record.engineReason})`);
    const officialContext = (image: string) => ({ docker, node, image, runId: id, passphrase: request.passphrase, dockerSocket: deps.node.dockerSocket, step, log, signal: stop.signal });
    if (target instanceof HostTarget) target.image = await pickHelperImage(docker, node, id, true);
    await target.validate(request.includeLogs ? [record.fileName, record.logFileName] : [record.fileName]);
    log(`validation: destination ${target.location === 'host' ? `${node.hostname}:` : ''}${target.backupPath}/${record.fileName} is writable`);
    timer.mark('engine and destination');
    // Temp files of a killed run of this cluster (we hold the lock, so it is not running).
    // Unknown prefixes are left alone: another cluster's backup may share the folder.
    const removedParts = await target.removeStalePartials([record.fileName, logNameFor(record.fileName)], (run) => others.some((r) => r.id.startsWith(run)));
    if (removedParts.length) log(`validation: removed partial file(s) left by an interrupted backup: ${removedParts.join(', ')}`);
    // Runs that did not succeed may have been killed in the etcd step; a finished run removed its own.
    const kv = node.containers.find((c) => c.name === 'ucp-kv');
    if (kv) {
      await removeStaleSnapshots(docker.getContainer(kv.id), others.filter((r) => r.backupState !== 'SUCCESS').map((r) => r.id)).catch((err) =>
        log(`validation: could not remove etcd snapshots of interrupted backups in ucp-kv: ${(err as Error).message}`),
      );
    }

    timer.mark('stale files');
    let written: Written;
    const wroteArchive = (w: Written) => {
      record.size = w.size;
      record.sha256 = w.sha256;
      step('write', `Wrote ${target.backupPath}/${record.fileName} (${w.size} bytes, sha256 ${w.sha256})`, 100, w.size);
    };
    // Archive and log both go to temp names and are published together at the end, so a
    // failure or cancel at any point (even while the log is written) leaves neither.
    const sink = await target.openFile(record.fileName);
    let logSink: FileSink | undefined;
    try {
      if (official) {
        written = await officialBackup(officialContext(official), sink);
      } else {
        const helperImage = await pickHelperImage(docker, node, id, false);
        const markAuthStorePaused = async (paused: boolean) => {
          record.authStorePaused = paused;
          // Stored before the pause, or a crash would leave a pause nobody may undo.
          if (paused) await updateClusterRecord(docker, record);
          else await updateClusterRecord(docker, record).catch((err) => log(`history: could not update the cluster record: ${(err as Error).message}`));
        };
        timer.mark('open file');
        written = await builtinBackup({ docker, node, runId: id, helperImage, passphrase: request.passphrase, markAuthStorePaused, step, log, signal: stop.signal, timer }, sink);
      }
      if (official) timer.mark('official image');
      wroteArchive(written);
      // So far, for the log file (written next); the whole run's line follows at the end.
      log(`timing: ${timer.summary()}`);
      let logSize = 0;
      if (request.includeLogs) {
        log(`log: writing ${record.logFileName}${request.passphrase ? ' (encrypted)' : ''}`);
        logSink = await target.openFile(record.logFileName);
        logSize = (await writeBuffer(Buffer.from(logLines.join('\n') + '\n'), logSink, request.passphrase, stop.signal)).size;
      }
      throwIfAborted(signal);
      // Publish only while the lock is ours: a run that lost it may overlap another backup.
      await lock.assertHeld();
      timer.mark('log and lock check');
      await sink.commit(written.size);
      await logSink?.commit(logSize);
      timer.mark('fsync and rename');
    } catch (err) {
      // The destination's own fault (disk full, folder removed) is the cause, not what it broke.
      // Bounded: over a link that just died, asking the node may not come back.
      const explain = (s?: FileSink) => within(s?.explain().catch(() => undefined) ?? Promise.resolve(undefined), EXPLAIN_WAIT_MS, () => undefined);
      const own = (await explain(sink)) ?? (await explain(logSink));
      await sink.abort();
      await logSink?.abort();
      throw own ?? err;
    }
    record.backupState = 'SUCCESS';
    record.completed_at = new Date().toISOString();
    await save();
    timer.mark('final record');
    record.timingsMs = timer.phases;
    log(`timing: ${timer.summary()}`);
    return record;
  } catch (caught) {
    const linkLost = !signal?.aborted ? deps.linkLostSince?.(startedAt) : undefined;
    // A run that failed because it lost its lock (a woken frozen run whose helpers the next
    // backup removed) says so, not what broke first; not asked over a link known dead.
    if (lock && !lock.lost && !linkLost && !signal?.aborted) await lock.assertHeld().catch(() => undefined);
    // The engine stopping or restarting under the run is the cause of whatever it broke.
    const engineGone = !lock?.lost && !linkLost && !signal?.aborted ? await engineInterruption(docker, node.hostname, kvId, engineAt, current) : undefined;
    const noQuorum = !lock?.lost && !linkLost && !engineGone && !signal?.aborted ? (swarmQuorumError(caught) ?? (await quorumLost(docker))) : undefined;
    const err = lock?.lost ?? (linkLost || engineGone || noQuorum || caught);
    record.backupState = 'FAILED';
    record.shortError = err instanceof BackupRunningError ? `another backup is running (${err.holder.owner} on ${err.holder.host}, since ${err.holder.since})` : shortErrorOf(err, signal);
    record.completed_at = new Date().toISOString();
    log(`FAILED: ${record.shortError}`);
    await save();
    if (signal?.aborted || err instanceof CancelledError) throw new CancelledError(`Backup ${id} was ${record.shortError}; no file was left behind.`);
    if (err instanceof UcpError) throw err;
    throw new UcpError(`Backup ${id} failed: ${record.shortError}`, 'See the log (--include-logs or the progress output) for the failing step.', 1, { cause: err });
  } finally {
    await target.close(log).catch(() => undefined);
    // Whatever this run started and a failure cut short (the official image's own helpers, when
    // the image was killed): none of it outlives the run. Bounded, as target.close() is: a
    // removal dockerd holds finishes there on its own, or the next backup does it.
    const helpersGone = removeLeftoverHelpers(docker, async (runId) => runId === id).catch((err) => log(`cleanup: could not remove the helper containers of this run: ${(err as Error).message}`));
    await within(helpersGone, HELPERS_GONE_WAIT_MS, () => log('cleanup: helper containers of this run are still being removed on the node; the next backup removes any left'));
    await lock?.release().catch((err) => log(`lock: could not release: ${(err as Error).message}`));
    signal?.removeEventListener('abort', forwardCancel);
  }
}
