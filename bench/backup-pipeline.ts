/**
 * Bench helper, run by bench/backup.mjs (bundled with esbuild, like dist/cli.js): the built-in
 * engine's volumes step plus its encrypt/write step, applied to ONE arbitrary named volume.
 * `ucp-backup backup` only ever reads UCP's own volumes (and a 32 KiB etcd snapshot on the test
 * cluster), so this is how a large dataset goes through the same code: a never-started helper
 * container → Docker archive API over the SSH tunnel → tar re-rooting with per-entry SHA-256
 * (TarReader → ArchiveWriter) → OpenPGP encryption (seipdEncrypt.ts) → SHA-256 → fsynced temp
 * file → rename. No lock, no record, no etcd/auth steps.
 *
 * Usage: node pipeline.cjs --config F --cluster C --node N --volume V --file OUT
 *        (--passphrase-file P | --no-passphrase)
 * Prints {"size","sha256","entries"} on stdout.
 */
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { findCluster, findNode, loadConfigFile } from '../src/core/config';
import { readPassphrase } from '../src/cli/common';
import { ArchiveWriter } from '../src/core/engine/archiveWriter';
import { LocalTarget } from '../src/core/engine/destination';
import { removeQuietly } from '../src/core/engine/dockerStreams';
import { pickHelperImage } from '../src/core/engine/helperImage';
import { writeOut } from '../src/core/engine/outputPipeline';
import { hashThreadPays } from '../src/core/archive/parallelSha1';
import { inspectUcpNode } from '../src/core/engine/ucpNode';
import { backupVolume, createVolumeReader } from '../src/core/engine/volumeEntries';
import { SessionPool } from '../src/core/ssh/sessionPool';

async function main(): Promise<void> {
  const { values: v } = parseArgs({
    options: {
      config: { type: 'string' },
      cluster: { type: 'string' },
      node: { type: 'string' },
      volume: { type: 'string' },
      file: { type: 'string' },
      'passphrase-file': { type: 'string' },
      'no-passphrase': { type: 'boolean' },
    },
  });
  if (!v.config || !v.volume || !v.file || !!v['passphrase-file'] === !!v['no-passphrase']) {
    throw new Error('usage: --config F [--cluster C] [--node N] --volume V --file OUT (--passphrase-file P | --no-passphrase)');
  }
  const passphrase = v['passphrase-file'] ? await readPassphrase(v['passphrase-file'], process) : undefined;
  const cluster = findCluster(await loadConfigFile(v.config), v.cluster);
  const nodeConfig = findNode(cluster, v.node);
  const pool = new SessionPool();
  try {
    const docker = await pool.get(nodeConfig).docker();
    const node = await inspectUcpNode(docker, nodeConfig.name);
    const runId = randomUUID();
    const image = await pickHelperImage(docker, node, runId, false);
    const target = new LocalTarget(v.file, runId, true);
    await target.validate([target.fileName]);
    const sink = await target.openFile(target.fileName);
    const writer = new ArchiveWriter();
    const out = writeOut(writer.pack, sink, passphrase, { hashThreads: hashThreadPays() }); // as builtinEngine.ts
    out.catch((err: Error) => writer.destroy(err));
    const reader = await createVolumeReader(docker, [v.volume], { image, runId, selinux: node.selinux }, 'bench');
    try {
      await backupVolume(reader, v.volume, writer);
      writer.finalize();
      const written = await out;
      await sink.commit(written.size);
      process.stdout.write(JSON.stringify({ ...written, entries: writer.entries.length }) + '\n');
    } catch (err) {
      writer.destroy(err as Error);
      await out.catch(() => undefined);
      await sink.abort();
      throw err;
    } finally {
      await removeQuietly(reader);
    }
  } finally {
    pool.closeAll();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`backup-pipeline: ${err.message}\n`);
  process.exitCode = 1;
});
