/**
 * A process that does what a drill does with a local etcd — a private temp dir, the snapshot
 * restored into it, a member started on it — then prints where and waits forever, for a test
 * to SIGKILL it as a crash or `kill -9` would. argv[2]: the snapshot file.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DRILL_DIR_PREFIX } from '../../src/core/drill/drillDirs';
import { findEtcdTools, restoreSnapshot, startMember } from '../../src/core/drill/etcdLocal';

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), DRILL_DIR_PREFIX));
  const snap = join(dir, 'etcd.backup.db');
  copyFileSync(process.argv[2], snap);
  const tools = await findEtcdTools();
  const member = await startMember(tools, await restoreSnapshot(tools, snap, join(dir, 'etcd-data')));
  process.stdout.write(`UP ${dir} ${member.clientUrl}\n`);
  setInterval(() => undefined, 1 << 30);
}

main().catch((err) => {
  process.stderr.write(`${err}\n`);
  process.exit(1);
});
