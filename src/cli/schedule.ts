/**
 * `ucp-backup schedule install|list|remove|run-now` (src/core/schedule) and `ucp-backup status`:
 * backups that happen on their own, and whether they did.
 */
import { resolve } from 'node:path';
import type { CliCommand, CliIO } from './common';
import { loadCluster, parse, printJson, readPassphrase } from './common';
import { ConfigError, UcpError } from '../core/errors';
import { SessionPool } from '../core/ssh/sessionPool';
import { connectAny } from '../core/history/anyManager';
import { listBackups } from '../core/history/backupHistory';
import type { ClusterConfig } from '../core/config';
import { everyToCron } from '../core/schedule/every';
import { parseCron } from '../core/schedule/cron';
import { checkScheduleId, listSchedules, loadSchedule, logPath } from '../core/schedule/definition';
import { installSchedule, uninstallSchedule, clusterScheduleOf } from '../core/schedule/install';
import { listClusterSchedules, putClusterSchedule, removeClusterSchedule } from '../core/schedule/clusterSchedule';
import { clusterBackupStatus, type ClusterBackupStatus } from '../core/schedule/status';
import { notify, runSchedule } from '../core/schedule/runSchedule';
import { parseCopyDestination } from '../core/copy/destination';
import { checkTimeZone, machineTimeZone } from '../core/retention/periods';
import { POLICY_OPTIONS, policyFrom } from './policyOptions';
import { policyText } from '../core/retention';

const HELP = `Usage: ucp-backup schedule install --config FILE [--cluster NAME] [--node NODE] [--name ID]
           (--every "daily 02:00" | --cron "EXPR") (--dir DIR | --host-path DIR)
           (--passphrase-file FILE|- | --no-passphrase) [--name-prefix P] [--include-logs]
           [--engine auto|builtin|official] [--random-delay 15m] [--copy-to DEST ...]
           [--s3-endpoint URL] [--ssh-identity F] [--known-hosts F] [--notify-command CMD] [--mode auto|systemd|cron]
           [--keep-last N] [--keep-daily N] [--keep-weekly N] [--keep-monthly N]
           [--unit-dir DIR] [--no-enable] [--time-zone ZONE] [--json]
       ucp-backup schedule list [--json]
       ucp-backup schedule remove ID [--config FILE]
       ucp-backup schedule run-now ID [--json]
       ucp-backup status --config FILE [--cluster NAME] [--json]

install writes a systemd timer + service where systemd runs (Persistent=true, so a run missed
while the machine was off happens at boot; RandomizedDelaySec= from --random-delay; the
passphrase handed over with LoadCredential=), else a line in this user's crontab. The
passphrase is kept in a file only this user can read, never in the unit or crontab. The
schedule (expected interval) is recorded in the cluster's history: \`status\` shows last good
backup, next due and OVERDUE for every machine's schedules.
  --every      hourly | hourly :MM | daily HH:MM | weekly DAY HH:MM | monthly D HH:MM |
               N minutes | N hours   (or --cron "M H DoM Mon DoW", crontab(5))
  --dir DIR    write each backup to DIR on this machine; --host-path DIR: on the manager
  --copy-to    after each backup, copy it to sftp://user@host[:port]/dir/, s3://bucket/prefix/
               or a folder (repeatable); S3 credentials from AWS_* / ~/.aws/credentials
  --notify-command CMD   run with /bin/sh after each run, the result as JSON on stdin
  --keep-*     after each good run (backup and every copy), prune this schedule's own backups
               (its prefix, its destination) as \`ucp-backup prune\` would; the newest verified
               one always stays. Without them the schedule removes nothing.
Each backup is <name-prefix><UTC time>.tar (default prefix: "<ID>-").
Exit status of run-now (what cron and systemd see): 0 backup and copies done, 1 backup
failed, 2 usage or set-up, 3 skipped (another backup was running), 4 backup done but a copy
failed, 5 backup and copies done but an old backup could not be pruned, 130/143
cancelled/stopped. status: 0 fine, 1 overdue, 2 usage.
`;

function seconds(text: string): number {
  const m = /^(\d+)\s*(s|sec|m|min|h)?$/.exec(text.trim());
  if (!m) throw new ConfigError(`--random-delay "${text}" is not a duration.`, 'e.g. 90s, 15m or 1h.');
  return Number(m[1]) * ({ s: 1, sec: 1, m: 60, min: 60, h: 3600 }[m[2] ?? 's'] ?? 1);
}

/** How to start this very CLI again from a timer: node, its loader flags, the script. */
function cliInvocation(): string[] {
  return [process.execPath, ...process.execArgv, resolve(process.argv[1])];
}

async function withCluster<T>(cluster: ClusterConfig, accept: boolean | undefined, use: (d: NonNullable<Awaited<ReturnType<typeof connectAny>>['docker']>) => Promise<T>): Promise<{ value?: T; warning?: string }> {
  const pool = new SessionPool({ acceptUnknownHostKeys: accept });
  try {
    const { docker, warning } = await connectAny(cluster, pool);
    if (!docker) return { warning: warning ?? `no manager of ${cluster.name} is reachable` };
    return { value: await use(docker) };
  } finally {
    pool.closeAll();
  }
}

async function install(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, {
    config: { type: 'string' }, cluster: { type: 'string' }, node: { type: 'string' }, name: { type: 'string' },
    every: { type: 'string' }, cron: { type: 'string' }, dir: { type: 'string' }, 'host-path': { type: 'string' },
    'passphrase-file': { type: 'string' }, 'no-passphrase': { type: 'boolean' }, 'name-prefix': { type: 'string' },
    'include-logs': { type: 'boolean' }, engine: { type: 'string' }, 'random-delay': { type: 'string' },
    'copy-to': { type: 'string', multiple: true }, 's3-endpoint': { type: 'string' }, 'ssh-identity': { type: 'string' }, 'known-hosts': { type: 'string' }, 'notify-command': { type: 'string' },
    mode: { type: 'string' }, 'unit-dir': { type: 'string' }, 'no-enable': { type: 'boolean' }, 'time-zone': { type: 'string' },
    'accept-new-host-keys': { type: 'boolean' }, json: { type: 'boolean' }, ...POLICY_OPTIONS,
  });
  if (positionals.length) throw new ConfigError(`Unexpected argument "${positionals[0]}".`, 'Run `ucp-backup schedule --help`.');
  if (!!values.every === !!values.cron) throw new ConfigError('Give exactly one of --every and --cron.', 'e.g. --every "daily 02:00" or --cron "0 2 * * *".');
  const cron = parseCron(values.cron ?? everyToCron(values.every!)).expression;
  if (!!values.dir === !!values['host-path']) throw new ConfigError('Give exactly one of --dir DIR (this machine) and --host-path DIR (on the manager).');
  if (!!values['passphrase-file'] === !!values['no-passphrase']) throw new ConfigError('Choose exactly one of --passphrase-file and --no-passphrase.', 'UCP never writes an unencrypted backup unless told so.');
  const engine = (values.engine ?? 'auto') as 'auto' | 'builtin' | 'official';
  if (!['auto', 'builtin', 'official'].includes(engine)) throw new ConfigError(`--engine must be auto, builtin or official, not "${engine}".`);
  const mode = (values.mode ?? 'auto') as 'auto' | 'systemd' | 'cron';
  if (!['auto', 'systemd', 'cron'].includes(mode)) throw new ConfigError(`--mode must be auto, systemd or cron, not "${mode}".`);
  const copyTo = (values['copy-to'] ?? []).map((d) => parseCopyDestination(d).url);
  const retention = policyFrom(values, undefined, false);
  if (retention && values['name-prefix'] === '') throw new ConfigError('--keep-* needs the schedule\'s own name prefix: with an empty --name-prefix every backup in the folder would count as its own.', 'Leave --name-prefix out (default "<ID>-") or give one.');
  const cluster = await loadCluster(values.config, values.cluster);
  const id = checkScheduleId(values.name ?? cluster.name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-'));
  const passphrase = values['passphrase-file'] ? await readPassphrase(values['passphrase-file'], io) : undefined;
  const done = await installSchedule(
    {
      id, cluster: cluster.name, configFile: resolve(values.config!), node: values.node, cron, every: values.every,
      timeZone: checkTimeZone(values['time-zone'] ?? machineTimeZone()),
      destination: values.dir ? { kind: 'local', dir: resolve(values.dir) } : { kind: 'host', hostPath: values['host-path']! },
      namePrefix: values['name-prefix'] ?? `${id}-`, engine, includeLogs: !!values['include-logs'], encrypted: passphrase !== undefined,
      randomDelaySec: values['random-delay'] ? seconds(values['random-delay']) : 0, copyTo, s3Endpoint: values['s3-endpoint'], sshIdentityFile: values['ssh-identity'] && resolve(values['ssh-identity']), knownHostsFile: values['known-hosts'] && resolve(values['known-hosts']), notifyCommand: values['notify-command'], retention,
    },
    passphrase,
    { mode, unitDir: values['unit-dir'] && resolve(values['unit-dir']), enable: !values['no-enable'], cli: cliInvocation(), workingDirectory: process.cwd() },
  );
  const recorded = await withCluster(cluster, values['accept-new-host-keys'], (d) => putClusterSchedule(d, clusterScheduleOf(done.def)));
  if (values.json) printJson(io, { ...done, recordedInCluster: !recorded.warning });
  else {
    io.stdout.write(`Installed schedule ${id} (${done.def.mode}, ${cron}${done.enabled ? '' : ', not enabled'}) for cluster ${cluster.name}:\n`);
    for (const f of done.files) io.stdout.write(`  ${f}\n`);
    if (done.cronLine) io.stdout.write(`  crontab: ${done.cronLine}\n  log: ${logPath(id)}\n`);
  }
  if (recorded.warning) io.stderr.write(`ucp-backup: the schedule is installed but not recorded in the cluster's history (${recorded.warning}); run install again when a manager is reachable, or status will not know it.\n`);
  return 0;
}

async function remove(argv: string[], io: CliIO): Promise<number> {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, 'no-disable': { type: 'boolean' } });
  if (positionals.length !== 1) throw new ConfigError('Say which schedule: ucp-backup schedule remove ID.', 'Run `ucp-backup schedule list`.');
  const def = await loadSchedule(positionals[0]);
  const removed = await uninstallSchedule(def, { disable: !values['no-disable'] });
  const cluster = await loadCluster(values.config ?? def.configFile, def.cluster).catch(() => undefined);
  const r = cluster ? await withCluster(cluster, false, (d) => removeClusterSchedule(d, def)) : { warning: 'its cluster is no longer configured' };
  io.stdout.write(`Removed schedule ${def.id}${removed.length ? `: ${removed.join(', ')}` : ''}.\n`);
  if (r.warning) io.stderr.write(`ucp-backup: its record in the cluster's history stays (${r.warning}); status will call it overdue until it is removed there.\n`);
  return 0;
}

async function list(argv: string[], io: CliIO): Promise<number> {
  const { values } = parse(argv, { json: { type: 'boolean' } });
  const defs = await listSchedules();
  if (values.json) printJson(io, defs);
  else if (!defs.length) io.stdout.write('No schedule is installed on this machine.\n');
  else for (const d of defs) io.stdout.write(`${d.id.padEnd(16)} ${d.cluster.padEnd(12)} ${d.mode.padEnd(7)} ${d.cron.padEnd(14)} ${d.destination.kind === 'local' ? d.destination.dir : `host:${d.destination.hostPath}`}${d.copyTo.length ? ` → ${d.copyTo.join(', ')}` : ''}${d.retention ? ` keep ${policyText(d.retention)}` : ''}\n`);
  return 0;
}

async function runNow(argv: string[], io: CliIO, signal: AbortSignal): Promise<number> {
  const { values, positionals } = parse(argv, { json: { type: 'boolean' }, scheduled: { type: 'boolean' } });
  if (positionals.length !== 1) throw new ConfigError('Say which schedule: ucp-backup schedule run-now ID.', 'Run `ucp-backup schedule list`.');
  const def = await loadSchedule(positionals[0]);
  // systemd spreads timers itself (RandomizedDelaySec=); for cron the run waits its random delay.
  if (values.scheduled && def.mode === 'cron' && def.randomDelaySec > 0) await new Promise((r) => setTimeout(r, Math.random() * def.randomDelaySec * 1000));
  const result = await runSchedule(def, { signal, onProgress: (e) => io.stderr.write(`[${e.step}]${e.percent !== undefined ? ` ${String(e.percent).padStart(3)}%` : ''} ${e.message}\n`) });
  if (def.notifyCommand) {
    const problem = await notify(def.notifyCommand, result);
    if (problem) io.stderr.write(`ucp-backup: ${problem}\n`);
  }
  if (values.json) printJson(io, result);
  const r = result.record;
  io.stderr.write(`Schedule ${def.id}: ${result.outcome}${r ? ` (backup ${r.id} ${r.backupState} ${r.backupPath}/${r.fileName})` : ''}${result.copies.map((c) => `, copied to ${c.location}`).join('')}${result.pruned?.length ? `, pruned ${result.pruned.length} older backup(s)` : ''}${result.error ? `: ${result.error}` : ''}\n`);
  return result.exitCode;
}

function age(ms: number): string {
  const m = Math.round(ms / 60_000);
  return m < 120 ? `${m} min` : m < 2880 ? `${Math.round(m / 60)} h` : `${Math.round(m / 1440)} days`;
}

function statusText(s: ClusterBackupStatus): string {
  let out = `Cluster ${s.cluster}: ${s.overdue ? `OVERDUE since ${s.overdueSince}` : s.schedules.length ? 'on schedule' : 'no schedule recorded'}\n`;
  out += s.lastGood ? `  last good backup: ${s.lastGood.id} ${s.lastGood.fileName}, ${s.lastGood.completed_at} (${age(s.lastGoodAgeMs!)} ago)\n` : '  last good backup: none\n';
  if (s.lastFailure) out += `  last failure: ${s.lastFailure.record.id} ${s.lastFailure.record.created_at}: ${s.lastFailure.why}\n`;
  if (s.nextDueAt) out += `  next due: ${s.nextDueAt}\n`;
  for (const st of s.schedules) out += `  schedule ${st.schedule.id} on ${st.schedule.user}@${st.schedule.machine} (${st.schedule.mode}, ${st.schedule.cron}, every ${age(st.schedule.intervalMs)} at most): ${st.overdue ? `OVERDUE, due ${st.dueAt}` : `next ${st.nextRunAt}`}\n`;
  return out;
}

export const statusCommand: CliCommand = async (argv, io) => {
  const { values, positionals } = parse(argv, { config: { type: 'string' }, cluster: { type: 'string' }, json: { type: 'boolean' }, 'accept-new-host-keys': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return io.stdout.write(HELP), 0;
  if (positionals.length) throw new ConfigError(`Unexpected argument "${positionals[0]}".`, 'Run `ucp-backup status --help`.');
  const cluster = await loadCluster(values.config, values.cluster);
  const r = await withCluster(cluster, values['accept-new-host-keys'], async (d) => clusterBackupStatus(cluster.name, await listBackups(cluster, d), await listClusterSchedules(d), new Date()));
  if (!r.value) throw new UcpError(`Cannot read the history of ${cluster.name}: ${r.warning}`, 'Retry when a manager is reachable.', 2);
  if (values.json) printJson(io, r.value);
  else io.stdout.write(statusText(r.value));
  return r.value.overdue ? 1 : 0;
};

export const command: CliCommand = async (argv, io, signal) => {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') return io.stdout.write(HELP), sub ? 0 : 2;
  if (sub === 'install') return install(rest, io);
  if (sub === 'remove') return remove(rest, io);
  if (sub === 'list') return list(rest, io);
  if (sub === 'run-now') return runNow(rest, io, signal);
  throw new ConfigError(`Unknown schedule command "${sub}".`, 'Use install, list, remove or run-now (see `ucp-backup schedule --help`).');
};
