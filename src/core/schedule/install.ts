/**
 * Installing and removing a schedule on this machine: the definition and passphrase files
 * (./definition.ts), then a systemd timer + service where systemd runs (./systemdUnits.ts),
 * else a crontab line (./crontab.ts); and its expectation in the cluster's history
 * (./clusterSchedule.ts) so every admin sees next due and overdue.
 */
import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { homedir, hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UcpError } from '../errors';
import { longestGap, parseCron } from './cron';
import { cronLine, installCronLine, removeCronLine } from './crontab';
import { logPath, passphrasePath, saveSchedule, deleteSchedule, schedulesDir, type ScheduleDefinition } from './definition';
import { renderUnits, unitName } from './systemdUnits';
import type { ClusterSchedule } from './clusterSchedule';
import { machineTimeZone } from '../retention/periods';

const run = promisify(execFile);

/** sd_booted(3): systemd is the init system when this directory exists. */
export function systemdRunning(): boolean {
  return existsSync('/run/systemd/system');
}

export function defaultUnitDir(): string {
  return process.getuid?.() === 0 ? '/etc/systemd/system' : join(homedir(), '.config', 'systemd', 'user');
}

/** Variables a scheduled run needs to find what this one found (never a secret's value). */
export function runEnvironment(env = process.env): Record<string, string> {
  const keep = ['UCP_BACKUP_STATE_DIR', 'AWS_SHARED_CREDENTIALS_FILE', 'AWS_CONFIG_FILE', 'AWS_PROFILE', 'AWS_REGION'];
  return Object.fromEntries(keep.filter((k) => env[k]).map((k) => [k, env[k]!]));
}

export interface InstallOptions {
  mode: 'auto' | 'systemd' | 'cron';
  unitDir?: string;
  /** systemctl daemon-reload + enable --now (systemd form). */
  enable: boolean;
  /** How to start this CLI: [node, ...its flags, script]. */
  cli: string[];
  workingDirectory: string;
}

export interface Installed {
  def: ScheduleDefinition;
  /** Files written (units, definition, passphrase). */
  files: string[];
  cronLine?: string;
  enabled: boolean;
}

export function scheduleCommand(cli: string[], id: string, scheduled: boolean): string[] {
  return [...cli, 'schedule', 'run-now', id, ...(scheduled ? ['--scheduled'] : [])];
}

export async function installSchedule(draft: Omit<ScheduleDefinition, 'mode' | 'installedAt' | 'machine' | 'user' | 'unitDir'>, passphrase: string | undefined, opts: InstallOptions): Promise<Installed> {
  parseCron(draft.cron);
  const mode = opts.mode === 'auto' ? (systemdRunning() ? 'systemd' : 'cron') : opts.mode;
  if (mode === 'systemd' && opts.enable && !systemdRunning()) throw new UcpError('systemd is not running on this machine, so the timer cannot be enabled.', 'Use --mode cron (or --mode auto), or --no-enable to only write the units.', 2);
  const def: ScheduleDefinition = { ...draft, mode, unitDir: mode === 'systemd' ? (opts.unitDir ?? defaultUnitDir()) : undefined, installedAt: new Date().toISOString(), machine: hostname(), user: userInfo().username };
  await saveSchedule(def, passphrase);
  const dir = schedulesDir();
  const files = [join(dir, `${def.id}.json`), ...(passphrase !== undefined ? [passphrasePath(def.id, dir)] : [])];
  const environment = runEnvironment();
  const timeZone = def.timeZone === machineTimeZone() ? undefined : def.timeZone;
  if (mode === 'systemd') {
    const u = renderUnits({ id: def.id, cluster: def.cluster, cron: def.cron, timeZone, randomDelaySec: def.randomDelaySec, command: scheduleCommand(opts.cli, def.id, true), workingDirectory: opts.workingDirectory, environment, passphraseFile: passphrase !== undefined ? passphrasePath(def.id, dir) : undefined });
    await mkdir(def.unitDir!, { recursive: true });
    const service = join(def.unitDir!, `${unitName(def.id)}.service`);
    const timer = join(def.unitDir!, `${unitName(def.id)}.timer`);
    await writeFile(service, u.service, { mode: 0o644 });
    await writeFile(timer, u.timer, { mode: 0o644 });
    files.unshift(service, timer);
    if (opts.enable) {
      const user = def.unitDir !== '/etc/systemd/system' ? ['--user'] : [];
      await run('systemctl', [...user, 'daemon-reload']);
      await run('systemctl', [...user, 'enable', '--now', `${unitName(def.id)}.timer`]);
    }
    return { def, files, enabled: opts.enable };
  }
  // cron reads the expression in the machine's zone; a schedule for another zone cannot be a crontab line.
  if (timeZone) throw new UcpError(`cron runs on this machine's time zone (${machineTimeZone()}), not ${def.timeZone}.`, 'Leave out --time-zone, or use systemd.', 2);
  const line = cronLine({ id: def.id, cron: def.cron, command: scheduleCommand(opts.cli, def.id, true), workingDirectory: opts.workingDirectory, environment, logFile: logPath(def.id, dir) });
  await installCronLine(def.id, line);
  return { def, files, cronLine: line, enabled: true };
}

/** Removes the timer (disabled first) or the crontab line, and the definition and passphrase. */
export async function uninstallSchedule(def: ScheduleDefinition, opts: { disable: boolean }): Promise<string[]> {
  const removed: string[] = [];
  if (def.mode === 'systemd' && def.unitDir) {
    const user = def.unitDir !== '/etc/systemd/system' ? ['--user'] : [];
    if (opts.disable && systemdRunning()) await run('systemctl', [...user, 'disable', '--now', `${unitName(def.id)}.timer`]).catch(() => undefined);
    for (const ext of ['timer', 'service']) {
      const f = join(def.unitDir, `${unitName(def.id)}.${ext}`);
      if (existsSync(f)) removed.push(f);
      await rm(f, { force: true });
    }
    if (opts.disable && systemdRunning()) await run('systemctl', [...user, 'daemon-reload']).catch(() => undefined);
  } else if (def.mode === 'cron' && (await removeCronLine(def.id))) {
    removed.push(`crontab line "# ucp-backup schedule ${def.id}"`);
  }
  await deleteSchedule(def.id);
  return removed;
}

/** What the cluster's history keeps of a schedule. */
export function clusterScheduleOf(def: ScheduleDefinition): ClusterSchedule {
  const cron = parseCron(def.cron);
  return {
    id: def.id,
    cluster: def.cluster,
    machine: def.machine,
    user: def.user,
    mode: def.mode,
    cron: def.cron,
    every: def.every,
    timeZone: def.timeZone,
    intervalMs: longestGap(cron, new Date(def.installedAt), def.timeZone) ?? 0,
    randomDelaySec: def.randomDelaySec,
    destination: def.destination.kind === 'local' ? def.destination.dir : `host:${def.destination.hostPath}`,
    namePrefix: def.namePrefix,
    copyTo: def.copyTo,
    installedAt: def.installedAt,
  };
}
