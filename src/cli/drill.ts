/**
 * `ucp-backup drill FILE --local`: proves a backup restores, without touching the cluster
 * (issue 13). The etcd snapshot is restored and served by a throwaway local etcd, the
 * certificates and auth store opened, the version compared with --target-version.
 * Exit: 0 no FAIL (WARNs allowed), 1 a FAIL (the report says which row and why), 2 usage
 * or environment (no etcd on PATH).
 */
import type { CliCommand, CliIO } from './common';
import { parse, printJson, readPassphrase } from './common';
import { ConfigError } from '../core/errors';
import { drill } from '../core/drill/drill';
import type { DrillReport } from '../core/drill/report';
import { displayName } from '../core/verify/safeName';

const HELP = `Usage: ucp-backup drill FILE --local [--passphrase-file FILE|-] [--target-version V] [--json]

Restore drill: reads the backup once (as verify does), restores its etcd snapshot into a
throwaway data dir and starts an etcd member on it (127.0.0.1 only), checks the certificates
and the auth store, and compares the UCP version. Nothing is left running or on disk.
  --local            restore with the etcd on this machine (needs etcd and etcdutl or etcdctl on PATH)
  --passphrase-file  passphrase of an encrypted backup, from a file or stdin with "-"
  --target-version   UCP version of the cluster it would be restored on (N+1 is FAIL, other differences WARN)
  --json             print the whole report as JSON
Exit status: 0 no FAIL (WARN allowed), 1 a check FAILed, 2 usage error or no etcd on PATH.
`;

export const command: CliCommand = async (argv, io, signal) => {
  const { values, positionals } = parse(argv, {
    'passphrase-file': { type: 'string' },
    'target-version': { type: 'string' },
    local: { type: 'boolean' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new ConfigError('Give exactly one backup FILE.', 'Run `ucp-backup drill --help`.');
  const target = values['target-version'];
  if (target !== undefined && !/^\d+\.\d+\.\d+/.test(target)) throw new ConfigError(`--target-version ${JSON.stringify(target)} is not a UCP version like 3.2.4.`);
  const passFile = values['passphrase-file'];
  const report = await drill(positionals[0], {
    // Asked only when the archive turns out to be encrypted.
    passphrase: passFile ? () => readPassphrase(passFile, io) : undefined,
    local: !!values.local,
    targetVersion: target,
    signal,
  });
  if (values.json) printJson(io, report);
  else printDrill(io, report);
  return report.verdict === 'FAIL' ? 1 : 0;
};

export function printDrill(io: CliIO, r: DrillReport): void {
  const w = (s: string) => io.stdout.write(s + '\n');
  w(`${displayName(r.source)}: drill ${r.verdict}`);
  const v = r.verify;
  const about = [r.ucpVersion && `UCP ${r.ucpVersion}`, v && `${v.entryCount} entries`, v && (v.encrypted ? `OpenPGP ${v.cipher ?? ''}`.trim() : 'plain tar'), `${(r.durationMs / 1000).toFixed(1)} s`];
  w(`  ${about.filter(Boolean).join(', ')}`);
  if (r.etcd) {
    const e = r.etcd;
    w(`  etcd snapshot: hash ${e.hash}, revision ${e.revision}, ${e.totalKey} total keys, ${e.totalSize} bytes`);
    if (e.prefixes) w(`  keys per prefix: ${e.prefixes.map((p) => `${displayName(p.prefix)} ${p.keys}`).join(', ') || 'none'}`);
  }
  for (const c of r.checks) w(`  ${c.status.padEnd(4)} ${displayName(c.title)}: ${displayName(c.reason)}`);
}
