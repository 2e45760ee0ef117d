/** Subcommand table. Each module exports `command: CliCommand`. */
import type { CliCommand, CliIO } from './common';
import { reportError } from './common';

const commands: Record<string, { summary: string; load: () => Promise<CliCommand> }> = {
  nodes: { summary: 'list the managers of a cluster with status and UCP version', load: async () => (await import('./nodes')).command },
  backup: { summary: 'take a backup', load: async () => (await import('./backup')).command },
  list: { summary: 'list backup records', load: async () => (await import('./list')).command },
  show: { summary: 'show one backup record', load: async () => (await import('./show')).command },
  verify: { summary: 'verify a backup archive (local or on a manager)', load: async () => (await import('./verify')).command },
  drill: { summary: 'restore drill: restore the etcd snapshot on a manager (or locally), check certificates, auth store, version', load: async () => (await import('./drill')).command },
  diff: { summary: 'compare two backup archives', load: async () => (await import('./diff')).command },
  prune: { summary: 'remove old backups by policy (--keep-last/daily/weekly/monthly; for cron)', load: async () => (await import('./prune')).command },
  schedule: { summary: 'backups on a timer: install, list, remove, run-now (systemd or cron)', load: async () => (await import('./schedule')).command },
  status: { summary: "a cluster's last good backup, next due, overdue", load: async () => (await import('./schedule')).statusCommand },
  copy: { summary: 'copy a backup off-site (sftp://, s3://, a folder), checked', load: async () => (await import('./copy')).command },
  'break-lock': { summary: 'remove a stale backup lock', load: async () => (await import('./breakLock')).command },
  api: { summary: 'talk to the UCP API (backup, backups, get)', load: async () => (await import('./api')).command },
};

function usage(io: CliIO): void {
  io.stdout.write('Usage: ucp-backup <command> [options]\n\nCommands:\n');
  for (const [name, c] of Object.entries(commands)) io.stdout.write(`  ${name.padEnd(11)} ${c.summary}\n`);
  io.stdout.write('\nRun `ucp-backup <command> --help` for the options of one command.\n');
}

export async function runCli(argv: string[], io: CliIO = process): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === 'help' || name === '--help' || name === '-h') {
    usage(io);
    return name ? 0 : 2;
  }
  const entry = commands[name];
  if (!entry) {
    io.stderr.write(`ucp-backup: unknown command "${name}"\n`);
    usage(io);
    return 2;
  }
  const ac = new AbortController();
  // The signal's name is the abort reason: SIGTERM (cron, systemd stop) exits 143, SIGINT 130.
  const onSignal = (sig: NodeJS.Signals) => ac.abort(sig);
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    return await (await entry.load())(rest, io, ac.signal);
  } catch (err) {
    const code = reportError(io, err);
    return code === 130 && ac.signal.reason === 'SIGTERM' ? 143 : code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}
