/**
 * The cron form of a schedule, where systemd is not running: one line in this user's crontab
 * (`crontab -l` / `crontab -`), marked with the schedule's id so remove finds exactly it.
 */
import { spawn } from 'node:child_process';
import { UcpError } from '../errors';

export const MARK = '# ucp-backup schedule ';

/** A word for /bin/sh; `%` is crontab's newline and must be escaped even inside quotes. */
function shWord(w: string): string {
  const q = /^[A-Za-z0-9_@+=:,./-]+$/.test(w) ? w : `'${w.replace(/'/g, `'\\''`)}'`;
  return q.replace(/%/g, '\\%');
}

export function cronLine(input: { id: string; cron: string; command: string[]; workingDirectory: string; environment: Record<string, string>; logFile: string }): string {
  const env = Object.entries(input.environment).map(([k, v]) => `${k}=${shWord(v)}`);
  return `${input.cron} cd ${shWord(input.workingDirectory)} && ${[...env, ...input.command.map(shWord)].join(' ')} >>${shWord(input.logFile)} 2>&1 ${MARK}${input.id}`;
}

function run(args: string[], stdin?: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    // `crontab -l` never reads stdin: give it none, or our write races its exit (EPIPE).
    const child = spawn('crontab', args, { stdio: [stdin === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.on('data', (d) => (stdout += d));
    child.stderr!.on('data', (d) => (stderr += d));
    child.on('error', (err: NodeJS.ErrnoException) =>
      reject(err.code === 'ENOENT' ? new UcpError('The crontab command is not installed, and systemd is not running here.', 'Install cron (Debian: apt-get install cron) or run on a machine with systemd.', 2) : err),
    );
    child.on('close', (code) => resolve({ code, stdout, stderr }));
    if (child.stdin) {
      // A crontab that exits before reading (refused user, bad line) closes the pipe: its exit
      // code and stderr say why, so the broken pipe itself is not the error to report.
      child.stdin.on('error', () => undefined);
      child.stdin.end(stdin);
    }
  });
}

export async function readCrontab(): Promise<string[]> {
  const r = await run(['-l']);
  // "no crontab for <user>" is an empty crontab.
  if (r.code !== 0) return /no crontab/i.test(r.stderr) ? [] : Promise.reject(new UcpError(`crontab -l failed: ${r.stderr.trim()}`, 'Check that this user may use cron (/etc/cron.allow, /etc/cron.deny).', 1));
  return r.stdout.split('\n').filter((l, i, all) => l !== '' || i < all.length - 1);
}

async function writeCrontab(lines: string[]): Promise<void> {
  const r = await run(['-'], lines.length ? lines.join('\n') + '\n' : '');
  if (r.code !== 0) throw new UcpError(`crontab - failed: ${r.stderr.trim()}`, 'Check that this user may use cron (/etc/cron.allow, /etc/cron.deny).', 1);
}

const ours = (id: string) => (l: string) => l.endsWith(`${MARK}${id}`);

/** Replaces the schedule's line (or adds it); every other line stays as it was. */
export async function installCronLine(id: string, line: string): Promise<void> {
  const lines = (await readCrontab()).filter((l) => !ours(id)(l));
  await writeCrontab([...lines, line]);
}

export async function removeCronLine(id: string): Promise<boolean> {
  const lines = await readCrontab();
  const rest = lines.filter((l) => !ours(id)(l));
  if (rest.length === lines.length) return false;
  await writeCrontab(rest);
  return true;
}
