// The synthetic volume of the backup benches (bench/backup.mjs, bench/backupStages.ts).
import { randomBytes } from 'node:crypto';
import { closeSync, mkdirSync, openSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

/** Random (incompressible) data shaped like a big UCP store: one large db file, medium files, many small ones. */
export function fillVolume(dir, mib) {
  const big = Math.round(mib / 2);
  const medium = Math.round(mib / 4);
  const small = mib - big - medium;
  const write = (path, bytes) => {
    const fd = openSync(path, 'w');
    for (let left = bytes; left > 0; left -= 4 << 20) writeSync(fd, randomBytes(Math.min(left, 4 << 20)));
    closeSync(fd);
  };
  mkdirSync(join(dir, 'member', 'snap'), { recursive: true });
  mkdirSync(join(dir, 'objects'), { recursive: true });
  mkdirSync(join(dir, 'small'), { recursive: true });
  write(join(dir, 'member', 'snap', 'db'), big << 20);
  for (let i = 0; i < medium / 4; i++) write(join(dir, 'objects', `obj-${i}.bin`), 4 << 20);
  for (let i = 0; i < (small << 20) / 16384; i++) writeFileSync(join(dir, 'small', `key-${i}.json`), randomBytes(16384));
  return { files: 1 + medium / 4 + (small << 20) / 16384 };
}
