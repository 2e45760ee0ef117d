/**
 * A schedule as this machine keeps it: <state dir>/schedules/<id>.json (0600), with the
 * passphrase beside it in <id>.passphrase (0600, only this user can read it; systemd hands it
 * to the run with LoadCredential=). The timer or crontab line only names the id.
 */
import { chmod, mkdir, readFile, readdir, rm, writeFile, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigError } from '../errors';
import { stateDir } from '../history/localHistory';
import type { RetentionPolicy } from '../retention/policy';

export interface ScheduleDefinition {
  id: string;
  cluster: string;
  /** Absolute path of the clusters file. */
  configFile: string;
  node?: string;
  /** Canonical 5-field cron expression (from --cron or --every). */
  cron: string;
  /** --every as given, for display. */
  every?: string;
  /** Zone the expression is read in (the machine's, as cron and systemd do). */
  timeZone: string;
  destination: { kind: 'local'; dir: string } | { kind: 'host'; hostPath: string };
  /** Each run writes <namePrefix><UTC time>.tar. */
  namePrefix: string;
  engine: 'auto' | 'builtin' | 'official';
  includeLogs: boolean;
  /** False: --no-passphrase. */
  encrypted: boolean;
  randomDelaySec: number;
  copyTo: string[];
  /** S3 endpoint for s3:// copies to stores other than AWS. */
  s3Endpoint?: string;
  /** Key and known_hosts for sftp:// copies (else ssh-agent, ~/.ssh/config, ~/.ssh/known_hosts). */
  sshIdentityFile?: string;
  knownHostsFile?: string;
  notifyCommand?: string;
  /** --keep-*: after each good backup (and its copies), the schedule's own backups are pruned to this. */
  retention?: RetentionPolicy;
  mode: 'systemd' | 'cron';
  /** Where the systemd units were written. */
  unitDir?: string;
  installedAt: string;
  machine: string;
  user: string;
}

export function schedulesDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(stateDir(env), 'schedules');
}

export function checkScheduleId(id: string): string {
  if (!/^[a-z0-9][a-z0-9_-]{0,39}$/.test(id)) throw new ConfigError(`Schedule name "${id}" is not usable.`, 'Use 1-40 lower-case letters, digits, - and _, starting with a letter or digit (it names the systemd unit and the swarm record).');
  return id;
}

export function passphrasePath(id: string, dir = schedulesDir()): string {
  return join(dir, `${id}.passphrase`);
}

export function logPath(id: string, dir = schedulesDir()): string {
  return join(dir, `${id}.log`);
}

async function writePrivate(path: string, text: string): Promise<void> {
  // Written 0600 under a temp name, then renamed: never readable by others, never half-written.
  const tmp = `${path}.${process.pid}.tmp`;
  await writeFile(tmp, text, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, path);
}

export async function saveSchedule(def: ScheduleDefinition, passphrase: string | undefined, dir = schedulesDir()): Promise<void> {
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await chmod(dir, 0o700);
  if (passphrase !== undefined) await writePrivate(passphrasePath(def.id, dir), passphrase + '\n');
  else await rm(passphrasePath(def.id, dir), { force: true });
  await writePrivate(join(dir, `${def.id}.json`), JSON.stringify(def, null, 2) + '\n');
}

export async function loadSchedule(id: string, dir = schedulesDir()): Promise<ScheduleDefinition> {
  try {
    return JSON.parse(await readFile(join(dir, `${checkScheduleId(id)}.json`), 'utf8')) as ScheduleDefinition;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigError(`No schedule "${id}" is installed on this machine (looked in ${dir}).`, 'Run `ucp-backup schedule list` to see the installed ones.');
    throw new ConfigError(`Schedule "${id}" cannot be read: ${(err as Error).message}`, `Remove it with \`ucp-backup schedule remove ${id}\` and install it again.`);
  }
}

export async function listSchedules(dir = schedulesDir()): Promise<ScheduleDefinition[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const out: ScheduleDefinition[] = [];
  for (const n of names.filter((x) => x.endsWith('.json')).sort()) out.push(await loadSchedule(n.slice(0, -5), dir));
  return out;
}

export async function deleteSchedule(id: string, dir = schedulesDir()): Promise<void> {
  for (const f of [`${id}.json`, `${id}.passphrase`]) await rm(join(dir, f), { force: true });
}

/**
 * The passphrase of a run: systemd's credentials directory when the unit loaded it, else the
 * 0600 file (cron, run-now).
 */
export async function readSchedulePassphrase(def: ScheduleDefinition, env = process.env, dir = schedulesDir(env)): Promise<string | undefined> {
  if (!def.encrypted) return undefined;
  const path = env.CREDENTIALS_DIRECTORY ? join(env.CREDENTIALS_DIRECTORY, 'passphrase') : passphrasePath(def.id, dir);
  try {
    const first = (await readFile(path, 'utf8')).split(/\r?\n/)[0];
    if (first) return first;
  } catch {
    /* said below */
  }
  throw new ConfigError(`The passphrase of schedule ${def.id} is missing from ${path}.`, `Install the schedule again with --passphrase-file (\`ucp-backup schedule install --name ${def.id} …\`).`);
}
