/**
 * `ucp-backup copy`: one backup to an off-site place (src/core/copy), checked by reading it
 * back, and listed in the backup's record.
 */
import { resolve, dirname, basename } from 'node:path';
import type { CliCommand } from './common';
import { loadCluster, parse, printJson } from './common';
import { ConfigError, UcpError } from '../core/errors';
import { SessionPool } from '../core/ssh/sessionPool';
import { connectAny } from '../core/history/anyManager';
import { getBackup, listBackups } from '../core/history/backupHistory';
import { LocalHistory } from '../core/history/localHistory';
import type { BackupRecord } from '../core/history/record';
import { copyBackup } from '../core/copy/copyBackup';
import { parseCopyDestination } from '../core/copy/destination';

const HELP = `Usage: ucp-backup copy --config FILE [--cluster NAME] (--id ID | --file PATH) --to DEST
         [--s3-endpoint URL] [--ssh-identity FILE] [--known-hosts FILE]
         [--accept-new-host-keys] [--json]

Copies a backup archive to DEST and reads it back to check its SHA-256:
  sftp://user@host[:port]/dir/   any OpenSSH server; host key checked against known_hosts
                                 (--known-hosts, default ~/.ssh/known_hosts; unknown keys are
                                 refused unless --accept-new-host-keys, changed keys always);
                                 keys from --ssh-identity, ssh-agent or ~/.ssh/config
  s3://bucket/prefix/            AWS, or another S3 API with --s3-endpoint URL; credentials
                                 from AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, a profile or
                                 AWS_SHARED_CREDENTIALS_FILE (never on the command line)
  DIR                            a local folder (e.g. an NFS mount)
The copy appears only once complete and checked (temp name then rename; S3: multipart upload
completed, or aborted on failure). An archive that no longer matches its record's SHA-256 is
not copied. The copy is listed in the backup's record (place, size, SHA-256, when checked).
--file copies a local archive; it is recorded when a backup record names that file.
Exit status: 0 copied and checked, 1 failed, 2 usage.
`;

export const command: CliCommand = async (argv, io, signal) => {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' }, cluster: { type: 'string' }, id: { type: 'string' }, file: { type: 'string' }, to: { type: 'string' },
    's3-endpoint': { type: 'string' }, 'ssh-identity': { type: 'string' }, 'known-hosts': { type: 'string' },
    'accept-new-host-keys': { type: 'boolean' }, json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return io.stdout.write(HELP), 0;
  if (positionals.length) throw new ConfigError(`Unexpected argument "${positionals[0]}".`, 'Run `ucp-backup copy --help`.');
  if (!!values.id === !!values.file) throw new ConfigError('Give exactly one of --id ID and --file PATH.', 'Run `ucp-backup copy --help`.');
  if (!values.to) throw new ConfigError('Missing --to DEST.', 'Give sftp://user@host[:port]/dir/, s3://bucket/prefix/ or a folder.');
  parseCopyDestination(values.to);
  const cluster = await loadCluster(values.config, values.cluster);
  const pool = new SessionPool({ acceptUnknownHostKeys: values['accept-new-host-keys'] });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    const local = new LocalHistory();
    let record: BackupRecord | undefined;
    let file: string | undefined;
    if (values.id) {
      record = await getBackup(cluster, docker, values.id, local);
      if (!record) throw new UcpError(`No backup ${values.id} in the history of ${cluster.name}${docker ? '' : ` (${warning})`}.`, 'Run `ucp-backup list` for the ids.', 1);
    } else {
      file = resolve(values.file!);
      record = (await listBackups(cluster, docker, local)).find((r) => r.location !== 'host' && r.backupState === 'SUCCESS' && resolve(r.backupPath) === dirname(file!) && r.fileName === basename(file!));
    }
    const copy = await copyBackup(record && !file ? { record } : { record, file }, values.to, {
      docker,
      local,
      signal,
      s3: { endpoint: values['s3-endpoint'] },
      sftp: { identityFile: values['ssh-identity'], knownHostsFile: values['known-hosts'], acceptUnknownHostKeys: values['accept-new-host-keys'] },
    });
    for (const left of copy.staleRemoved ?? []) io.stderr.write(`ucp-backup: removed ${left}, left by an interrupted copy.\n`);
    if (values.json) printJson(io, { record: record?.id, copy });
    else io.stdout.write(`Copied ${record ? `backup ${record.id}` : file} to ${copy.location} (${copy.size} bytes, sha256 ${copy.sha256}, read back and checked)${record ? '' : '; not recorded: no backup record names this file'}.\n`);
    return 0;
  } finally {
    pool.closeAll();
  }
};
