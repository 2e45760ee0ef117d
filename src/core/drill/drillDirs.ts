/**
 * The drill's private temp dirs hold a decrypted snapshot, keys and the auth store. A CLI
 * killed with SIGKILL runs no `finally`: its dir stays. Each dir names its process, so the
 * next drill removes those whose process is gone (only ours: others' are not writable to us).
 */
import { readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pidAlive } from '../lock/lease';

export const DRILL_DIR_PREFIX = `ucp-drill-${process.pid}-`;
const DIR = /^ucp-drill-(\d+)-[A-Za-z0-9]{6}$/;

export async function removeDeadDrillDirs(dir = tmpdir()): Promise<string[]> {
  const names = await readdir(dir).catch(() => [] as string[]);
  const dead = names.filter((n) => {
    const m = DIR.exec(n);
    return m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]));
  });
  await Promise.all(dead.map((n) => rm(join(dir, n), { recursive: true, force: true }).catch(() => undefined)));
  return dead;
}
