/**
 * Records of backups written to the admin's own machine, kept beside the cluster copy so a
 * local archive is still described when the cluster is unreachable. JSON lines, appended;
 * the last line of an id wins.
 */
import { appendFile, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { checkRecord, type BackupRecord } from './record';

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
  if (env.UCP_BACKUP_STATE_DIR) return env.UCP_BACKUP_STATE_DIR;
  const base = env.XDG_STATE_HOME || join(homedir(), '.local', 'state');
  return join(base, 'ucp-backup');
}

export class LocalHistory {
  readonly file: string;
  constructor(dir = stateDir()) {
    this.file = join(dir, 'history.jsonl');
  }

  async put(record: BackupRecord): Promise<void> {
    await mkdir(join(this.file, '..'), { recursive: true });
    await appendFile(this.file, JSON.stringify(record) + '\n', { mode: 0o600 });
  }

  async list(cluster?: string): Promise<BackupRecord[]> {
    let text = '';
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const byId = new Map<string, BackupRecord>();
    for (const line of text.split('\n')) {
      if (!line.trim()) continue;
      try {
        const r = checkRecord(JSON.parse(line));
        if ('record' in r) byId.set(r.record.id, r.record);
      } catch {
        // A line cut short by a crash: skip it, keep the rest.
      }
    }
    return [...byId.values()].filter((r) => !cluster || r.cluster === cluster);
  }

  /** Drops every line of a record (Delete Backup): the file is rewritten without them. */
  async remove(id: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw err;
    }
    const idOf = (line: string) => {
      try {
        return (JSON.parse(line) as BackupRecord)?.id;
      } catch {
        return undefined;
      }
    };
    const kept = text.split('\n').filter((line) => line.trim() && idOf(line) !== id);
    const tmp = `${this.file}.tmp-${process.pid}`;
    await writeFile(tmp, kept.map((l) => l + '\n').join(''), { mode: 0o600 });
    await rename(tmp, this.file);
  }
}
