/**
 * `ucp-backup verify`: the spec's "Verify a UCP backup" (`gpg --decrypt FILE | tar --list`,
 * 27+ entries, key.pem present) plus integrity, manifest, etcd and version checks.
 * A local file, or a file still on a manager (streamed through SSH, not downloaded).
 * Exit: 0 VALID, 1 INVALID (the report says why), 2 usage or I/O error (wrong passphrase too).
 */
import type { CliCommand, CliIO } from './common';
import { loadCluster, parse, readPassphrase } from './common';
import { StreamedListing } from './verifyListing';
import { ConfigError } from '../core/errors';
import { findNode } from '../core/config';
import { verifyBackup, type VerifyOptions } from '../core/verify/verify';
import type { VerifyReport } from '../core/verify/report';
import { displayName, safeText } from '../core/verify/safeName';

const HELP = `Usage: ucp-backup verify FILE|- [--passphrase-file FILE|-] [--json] [--list] [--sha256] [--cluster-version V]
       ucp-backup verify --config FILE [--cluster NAME] --node NODE --remote PATH [options]

Reads the backup once, streamed (decrypt, tar listing, hashes); nothing is extracted.
FILE may be a named pipe; "-" reads the backup from stdin (then give the passphrase in a file).
  --passphrase-file  passphrase of an encrypted backup, from a file or stdin with "-"
  --remote PATH      a backup file on the manager NODE (e.g. /var/backups/ucp/backup.tar)
  --cluster-version  also check that a cluster on this UCP version can restore it
  --list             print every entry (names with control characters are shown escaped)
  --sha256           also compute the SHA-256 of the file and of every entry (slower)
  --json             print the whole report as JSON
Exit status: 0 VALID, 1 INVALID, 2 usage or I/O error (also: wrong or missing passphrase).
`;

export const command: CliCommand = async (argv, io, signal) => {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' },
    cluster: { type: 'string' },
    node: { type: 'string' },
    remote: { type: 'string' },
    'passphrase-file': { type: 'string' },
    'cluster-version': { type: 'string' },
    list: { type: 'boolean' },
    sha256: { type: 'boolean' },
    json: { type: 'boolean' },
    'accept-new-host-keys': { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  const remote = values.remote !== undefined;
  if (remote ? positionals.length !== 0 || !values.node : positionals.length !== 1) {
    throw new ConfigError(remote ? 'With --remote PATH give --config, --node and no FILE.' : 'Give exactly one backup FILE (or --remote PATH with --config and --node).', 'Run `ucp-backup verify --help`.');
  }
  const passFile = values['passphrase-file'];
  const fromStdin = !remote && positionals[0] === '-';
  if (fromStdin && passFile === '-') {
    throw new ConfigError('The backup and the passphrase cannot both come from stdin.', 'Give the passphrase with --passphrase-file FILE when the backup is piped in with "-".');
  }
  const listing = values.json ? new StreamedListing(io, 'json') : values.list ? new StreamedListing(io, 'lines') : undefined;
  const options: VerifyOptions = {
    // Asked only when the archive turns out to be encrypted.
    passphrase: passFile ? () => readPassphrase(passFile, io) : undefined,
    clusterVersion: values['cluster-version'],
    signal,
    // --list and --json stream every entry as it passes (verifyListing.ts); the report keeps none.
    maxEntriesInReport: listing ? 0 : 10_000,
    onListed: listing?.add,
    // One more pass over the bytes each: only when asked.
    fileSha256: values.sha256,
    hashEntries: values.sha256 ? true : undefined,
  };

  let report: VerifyReport;
  try {
    report = await readReport(values, positionals, remote, fromStdin, io, options);
  } catch (err) {
    listing?.fail(safeText(err instanceof Error ? err.message : String(err)));
    throw err;
  }
  listing?.finish(report);
  if (!values.json) printReport(io, report);
  return report.verdict === 'VALID' ? 0 : 1;
};

async function readReport(
  values: { config?: string; cluster?: string; node?: string; remote?: string; 'accept-new-host-keys'?: boolean },
  positionals: string[],
  remote: boolean,
  fromStdin: boolean,
  io: CliIO,
  options: VerifyOptions,
): Promise<VerifyReport> {
  let report: VerifyReport;
  if (remote) {
    const cluster = await loadCluster(values.config, values.cluster);
    const node = findNode(cluster, values.node);
    // SSH and Docker clients load only for --remote: a local verify stays small in memory.
    const [{ SessionPool }, { verifyRemoteBackup }] = await Promise.all([import('../core/ssh/sessionPool'), import('../core/verify/remoteSource')]);
    const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
    try {
      report = await verifyRemoteBackup(await pool.get(node).docker(), node.name, values.remote!, options);
    } finally {
      pool.closeAll();
    }
  } else if (fromStdin) {
    // Streamed in one pass like any source: stdin cannot be read twice (input.ts).
    report = await verifyBackup({ kind: 'stream', label: 'stdin', open: async () => io.stdin as AsyncIterable<Buffer> }, options);
  } else report = await verifyBackup({ kind: 'file', path: positionals[0] }, options);
  return report;
}

export function printReport(io: CliIO, r: VerifyReport): void {
  // Names are escaped once where they enter a line; safeText leaves those alone and catches the rest.
  const w = (s: string) => io.stdout.write(safeText(s) + '\n');
  const how = r.encrypted ? `OpenPGP ${r.cipher ?? ''}${r.compression ? `, compression ${r.compression}` : ''}` : 'plain tar';
  w(`${displayName(r.source)}: ${r.verdict}`);
  w(`  ${r.entryCount} entries, ${r.tarBytes} bytes of tar, ${how}${r.ucpVersion ? `, UCP ${r.ucpVersion}` : ''}`);
  if (r.sha256) w(`  SHA-256 ${r.sha256}`);
  for (const c of r.checks) w(`  ${c.pass ? 'ok  ' : 'FAIL'} ${c.title}: ${c.reason}`);
}
