/**
 * `ucp-backup backup`: the spec's `docker/ucp backup`, run from the admin's machine over SSH.
 * Progress goes to stderr; with --json the record goes to stdout.
 * Exit: 0 SUCCESS, 1 FAILED, 2 usage, 3 another backup is running, 130 cancelled (SIGINT),
 * 143 stopped (SIGTERM: cron, systemd stop); both end the record FAILED and clean up.
 */
import type { CliCommand } from './common';
import { loadCluster, parse, printJson, readPassphrase } from './common';
import { ConfigError, describeError } from '../core/errors';
import { copyBackup, type CopyRecord } from '../core/copy/copyBackup';
import { parseCopyDestination } from '../core/copy/destination';
import { findNode } from '../core/config';
import { SessionPool } from '../core/ssh/sessionPool';
import { runBackup, type BackupRequest, type EngineChoice } from '../core/engine/runBackup';
import type { BackupRecord } from '../core/history/record';

const HELP = `Usage: ucp-backup backup --config FILE [--cluster NAME] [--node NODE]
         (--file PATH | --host-path DIR --name FILE)
         (--passphrase-file FILE|- | --no-passphrase)
         [--include-logs] [--engine auto|builtin|official] [--overwrite] [--json]
         [--copy-to DEST ...] [--s3-endpoint URL] [--ssh-identity F] [--known-hosts F]
         [--accept-new-host-keys] [--verbose]

Backs up UCP from one manager (default: the first configured node).
  --file PATH        write the archive on this machine
  --host-path DIR    write it in DIR on the manager, as user nobody (the spec's hostPath;
  --name FILE          DIR must be owned by nobody: sudo chown nobody:nogroup DIR)
  --passphrase-file  passphrase (12+ characters) from a file, or stdin with "-"
  --no-passphrase    write a plain tar
  --include-logs     also write <name>.log beside the archive (encrypted when the archive is)
  --engine           auto (official image when on the node), builtin, or official
  --copy-to DEST     then copy it to sftp://user@host[:port]/dir/, s3://bucket/prefix/ or a
                     folder, read back and checked, listed in the record (see ucp-backup copy)
Exit status: 0 success, 1 backup failed, 2 usage, 3 another backup is running,
4 backup done but a copy failed,
130 cancelled by SIGINT (Ctrl-C), 143 stopped by SIGTERM; both record the run FAILED and leave no file.
A run killed with SIGKILL leaves its lock: a running backup renews it; once not renewed for its
lease (60 s, or UCP_BACKUP_LOCK_STALE_MS) the next backup takes it over and removes the leftovers.
"ucp-backup break-lock" removes it sooner when its process is known gone.
`;

export const command: CliCommand = async (argv, io, signal) => {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    cluster: { type: 'string' },
    node: { type: 'string' },
    file: { type: 'string' },
    'host-path': { type: 'string' },
    name: { type: 'string' },
    'passphrase-file': { type: 'string' },
    'no-passphrase': { type: 'boolean' },
    'include-logs': { type: 'boolean' },
    engine: { type: 'string' },
    overwrite: { type: 'boolean' },
    json: { type: 'boolean' },
    'accept-new-host-keys': { type: 'boolean' },
    verbose: { type: 'boolean' },
    'copy-to': { type: 'string', multiple: true },
    's3-endpoint': { type: 'string' },
    'ssh-identity': { type: 'string' },
    'known-hosts': { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length) throw new ConfigError(`Unexpected argument "${positionals[0]}".`, 'Run `ucp-backup backup --help`.');
  const engine = (values.engine ?? 'auto') as EngineChoice;
  if (!['auto', 'builtin', 'official'].includes(engine)) throw new ConfigError(`--engine must be auto, builtin or official, not "${engine}".`);
  let destination: BackupRequest['destination'];
  if (values.file && !values['host-path'] && !values.name) destination = { kind: 'local', path: values.file };
  else if (!values.file && values['host-path'] && values.name) destination = { kind: 'host', hostPath: values['host-path'], fileName: values.name };
  else throw new ConfigError('Give either --file PATH, or --host-path DIR with --name FILE.', 'Run `ucp-backup backup --help`.');
  if (!!values['passphrase-file'] === !!values['no-passphrase']) {
    throw new ConfigError('Choose exactly one of --passphrase-file and --no-passphrase.', 'UCP never writes an unencrypted backup unless told so.');
  }
  const copyTo = (values['copy-to'] ?? []).map((d) => parseCopyDestination(d).url);
  const passphrase = values['passphrase-file'] ? await readPassphrase(values['passphrase-file'], io) : undefined;

  const cluster = await loadCluster(values.config, values.cluster);
  const node = findNode(cluster, values.node);
  const pool = new SessionPool({
    acceptUnknownHostKeys: values['accept-new-host-keys'],
    log: values.verbose ? (l) => io.stderr.write(`ssh: ${l}\n`) : undefined,
  });
  let last: BackupRecord | undefined;
  try {
    const session = pool.get(node);
    const docker = await session.docker();
    const record = await runBackup(
      { destination, passphrase, noPassphrase: !!values['no-passphrase'], includeLogs: !!values['include-logs'], engine, overwrite: !!values.overwrite },
      {
        docker,
        cluster,
        node,
        signal,
        onProgress: (e) => io.stderr.write(`[${e.step}]${e.percent !== undefined ? ` ${String(e.percent).padStart(3)}%` : ''} ${e.message}\n`),
        log: values.verbose ? (l) => io.stderr.write(`${l}\n`) : undefined,
        onRecord: (r) => (last = r),
        linkLostSince: (t) => session.connectionLostSince(t),
        transport: session.transportInUse,
      },
    );
    let failedCopies = 0;
    const copies: CopyRecord[] = [];
    for (const to of copyTo) {
      try {
        const c = await copyBackup({ record }, to, { docker, signal, s3: { endpoint: values['s3-endpoint'] }, sftp: { identityFile: values['ssh-identity'], knownHostsFile: values['known-hosts'], acceptUnknownHostKeys: values['accept-new-host-keys'] } });
        copies.push(c);
        io.stderr.write(`[copy] ${c.location}: ${c.size} bytes, sha256 ${c.sha256}, read back and checked\n`);
      } catch (err) {
        failedCopies++;
        io.stderr.write(`ucp-backup: the backup is done, but its copy to ${to} failed: ${describeError(err)}\n`);
      }
    }
    if (values.json) printJson(io, copies.length ? { ...record, copies } : record);
    else io.stderr.write(`Backup ${record.id} ${record.backupState}: ${record.backupPath}/${record.fileName} on ${record.location === 'local' ? 'this machine' : record.nodeLocation}\n`);
    return failedCopies ? 4 : 0;
  } catch (err) {
    // With --json the FAILED record is printed too, so scripts see id and shortError.
    if (values.json && last?.backupState === 'FAILED') printJson(io, last);
    throw err;
  } finally {
    pool.closeAll();
  }
};
