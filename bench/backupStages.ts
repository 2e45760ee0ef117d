/**
 * Each stage of the backup pipeline alone, against `ssh mgr tar c` and `ssh mgr tar c | gpg`,
 * in one process, interleaved round by round (issue 14: find the layer that loses).
 *   ssh-tar           ssh (OpenSSH client) mgr 'tar c vol' > /dev/null
 *   ssh-tar-gpg       ... | gpg --symmetric --compress-algo none > /dev/null
 *   ssh2-exec         the same tar over a bare ssh2 exec channel, drained (our SSH library alone)
 *   local-archive     GET /containers/{id}/archive on dockerd's local socket, drained (dockerd alone)
 *   tunnel-archive    the same through our ssh2 tunnel (NodeSession), drained
 *   openssh-archive   the same through `ssh -L sock:/var/run/docker.sock` (the openssh transport)
 *   +reroot           tunnel + TarReader → ArchiveWriter (re-rooting, per-entry SHA-256), drained
 *   +hash             + SHA-256 of the output (the record's checksum)
 *   +encrypt          + OpenPGP (seipdEncrypt)
 *   +write            + the file (fsync, rename): the engine's whole volume path
 *   openssh+reroot, openssh+write: the same over the openssh transport (NodeSession, transport 'openssh')
 * Times are from the first request to the last byte (connection set up once, before the rounds).
 * Usage: node --import tsx bench/backupStages.ts [--size-mib 256] [--runs 5] [--stages a,b,...]
 */
import { spawn, execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { Writable, type Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import Dockerode from 'dockerode';
import type { ClientChannel } from 'ssh2';
import { findCluster, findNode, loadConfigFile } from '../src/core/config';
import { ArchiveWriter } from '../src/core/engine/archiveWriter';
import { LocalTarget } from '../src/core/engine/destination';
import { removeQuietly } from '../src/core/engine/dockerStreams';
import { pickHelperImage } from '../src/core/engine/helperImage';
import { hashing, writeOut } from '../src/core/engine/outputPipeline';
import { encryptStream } from '../src/core/archive/pgp';
import { hashThreadPays } from '../src/core/archive/parallelSha1';
import { inspectUcpNode } from '../src/core/engine/ucpNode';
import { backupVolume, createVolumeReader } from '../src/core/engine/volumeEntries';
import { SessionPool } from '../src/core/ssh/sessionPool';
import { fillVolume } from './benchVolume.mjs';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '256' },
    runs: { type: 'string', default: '5' },
    stages: { type: 'string' },
    node: { type: 'string', default: 'manager1' },
  },
});
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};
const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
const load = () => loadavg().map((x) => x.toFixed(2)).join(' ');

const devNull = () => new Writable({ write: (_c, _e, cb) => cb() });

function sh(cmd: string, env: NodeJS.ProcessEnv): Promise<void> {
  return new Promise((res, rej) => {
    const c = spawn('bash', ['-o', 'pipefail', '-c', cmd], { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    c.stderr.on('data', (d) => (err += d));
    c.on('close', (code) => (code === 0 ? res() : rej(new Error(`${cmd}: exit ${code}: ${err}`))));
  });
}

async function main(): Promise<void> {
  const tb = JSON.parse(readFileSync(join(ROOT, '.testbed', 'testbed.json'), 'utf8'));
  const m = tb.managers.find((x: { name: string }) => x.name === opt.node);
  const work = mkdtempSync(join(tmpdir(), 'ucp-bench-stages-'));
  const gnupg = join(work, 'gnupg');
  mkdirSync(gnupg, { mode: 0o700 });
  const passFile = join(work, 'pass');
  const passphrase = 'bench-passphrase-stages';
  writeFileSync(passFile, passphrase + '\n', { mode: 0o600 });
  const env = { ...process.env, GNUPGHOME: gnupg };
  const sshArgv = ['ssh', '-i', tb.ssh.identityFile, '-o', `UserKnownHostsFile=${tb.ssh.knownHostsFile}`, '-o', 'BatchMode=yes', '-p', String(m.sshPort)];
  const sshDest = `${tb.ssh.username}@${m.host}`;
  const localDocker = new Dockerode({ socketPath: m.dockerSocketPath });
  const volume = `ucp-backup-bench-stages-${process.pid}`;
  await localDocker.createVolume({ Name: volume, Labels: { 'com.ucp-backup.bench': '1' } });
  let forward: ReturnType<typeof spawn> | undefined;
  const pool = new SessionPool({ transport: 'builtin' });
  const poolOpenssh = new SessionPool({ transport: 'openssh' });
  let reader: Dockerode.Container | undefined;
  try {
    const vol = await localDocker.getVolume(volume).inspect();
    const { files } = fillVolume(vol.Mountpoint, Number(opt['size-mib']));
    const tarCmd = `tar -C ${join(m.dataRoot, 'volumes')} -cf - ${volume}/_data`;
    const sshTar = `${sshArgv.map(q).join(' ')} ${sshDest} ${q(tarCmd)}`;
    const gpg = `gpg --batch --yes --pinentry-mode loopback --passphrase-file ${q(passFile)} --symmetric --compress-algo none`;

    const cluster = findCluster(await loadConfigFile(tb.clustersFile), tb.clusterName);
    const nodeConfig = findNode(cluster, opt.node);
    const session = pool.get(nodeConfig);
    const opensshDocker = await poolOpenssh.get(nodeConfig).docker();
    const docker = await session.docker();
    const node = await inspectUcpNode(docker, nodeConfig.name);
    const runId = randomUUID();
    const image = await pickHelperImage(docker, node, runId, false);
    reader = await createVolumeReader(docker, [volume], { image, runId, selinux: node.selinux }, 'bench-stages');
    const localReader = localDocker.getContainer(reader.id);

    // OpenSSH client forwarding the Docker socket to a local one (what the openssh transport does).
    const fwdSock = join(work, 'docker.sock');
    forward = spawn(sshArgv[0], [...sshArgv.slice(1), '-N', '-o', 'ExitOnForwardFailure=yes', '-o', 'StreamLocalBindUnlink=yes', '-L', `${fwdSock}:${m.dockerSocketOnNode ?? '/var/run/docker.sock'}`, sshDest], { stdio: 'ignore' });
    for (let i = 0; i < 100; i++) {
      try {
        await new Dockerode({ socketPath: fwdSock }).ping();
        break;
      } catch {
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    const fwdReader = new Dockerode({ socketPath: fwdSock }).getContainer(reader.id);
    const getArchive = async (c: Dockerode.Container) => (await c.getArchive({ path: `/${volume}/.` })) as unknown as Readable;

    const client = await session.connect();
    const ssh2Exec = () =>
      new Promise<void>((res, rej) => {
        client.exec(tarCmd, (err: Error | undefined, ch: ClientChannel) => {
          if (err) return rej(err);
          ch.on('data', () => undefined);
          ch.stderr.on('data', () => undefined);
          ch.on('close', () => res());
        });
      });
    const viaOpenssh = opensshDocker.getContainer(reader.id);
    const pipelineTo = async (what: 'reroot' | 'hash' | 'encrypt' | 'write', from: Dockerode.Container = reader!) => {
      const writer = new ArchiveWriter();
      let out: Promise<unknown>;
      let sink: Awaited<ReturnType<LocalTarget['openFile']>> | undefined;
      if (what === 'reroot') out = pipeline(writer.pack, devNull());
      else if (what === 'hash') out = pipeline(writer.pack, hashing(), devNull());
      else if (what === 'encrypt') out = pipeline(await encryptStream(writer.pack, passphrase), hashing(), devNull());
      else {
        const target = new LocalTarget(join(work, 'out.tar'), runId, true);
        sink = await target.openFile(target.fileName);
        out = writeOut(writer.pack, sink, passphrase, { hashThreads: hashThreadPays() });
      }
      out.catch((err: Error) => writer.destroy(err));
      await backupVolume(from, volume, writer);
      writer.finalize();
      const w = (await out) as { size: number };
      if (sink) await sink.commit(w.size);
    };

    const all: Record<string, () => Promise<unknown>> = {
      'ssh-tar': () => sh(`${sshTar} > /dev/null`, env),
      'ssh-tar-gpg': () => sh(`${sshTar} | ${gpg} > /dev/null`, env),
      'ssh-tar-gpg-file': () => sh(`${sshTar} | ${gpg} -o ${q(join(work, 'gpg.out'))} && sync ${q(join(work, 'gpg.out'))}`, env),
      'ssh2-exec': ssh2Exec,
      'local-archive': async () => pipeline(await getArchive(localReader), devNull()),
      'tunnel-archive': async () => pipeline(await getArchive(reader!), devNull()),
      'openssh-archive': async () => pipeline(await getArchive(fwdReader), devNull()),
      '+reroot': () => pipelineTo('reroot'),
      '+hash': () => pipelineTo('hash'),
      '+encrypt': () => pipelineTo('encrypt'),
      '+write': () => pipelineTo('write'),
      'openssh+reroot': () => pipelineTo('reroot', viaOpenssh),
      'openssh+encrypt': () => pipelineTo('encrypt', viaOpenssh),
      'openssh+write': () => pipelineTo('write', viaOpenssh),
    };
    const names = opt.stages ? opt.stages.split(',') : Object.keys(all);
    const samples: Record<string, number[]> = Object.fromEntries(names.map((n) => [n, []]));
    const loadBefore = load();
    process.stderr.write(`${Number(opt['size-mib'])} MiB, ${files} files; load ${loadBefore}\n`);
    for (let i = 0; i <= Number(opt.runs); i++) {
      for (const n of names) {
        const t0 = performance.now();
        await all[n]();
        const ms = performance.now() - t0;
        if (i > 0) samples[n].push(ms);
        process.stderr.write(`${i ? `run ${i}` : 'warm-up'} ${n.padEnd(18)} ${(ms / 1000).toFixed(2)} s  load ${loadavg()[0].toFixed(2)}\n`);
      }
    }
    const mib = Number(opt['size-mib']);
    console.log(`\n| stage (${mib} MiB, ${files} files) | median s | MiB/s | theirs (ssh-tar) / this |\n| --- | --- | --- | --- |`);
    const base = samples['ssh-tar'] ? median(samples['ssh-tar']) : NaN;
    for (const n of names) {
      const med = median(samples[n]);
      console.log(`| ${n} | ${(med / 1000).toFixed(2)} | ${((mib / med) * 1000).toFixed(0)} | ${(base / med).toFixed(2)} |`);
    }
    console.log(`\nload before ${loadBefore}, after ${load()}; ${Number(opt.runs)} interleaved runs after a warm-up`);
  } finally {
    forward?.kill();
    await removeQuietly(reader);
    pool.closeAll();
    poolOpenssh.closeAll();
    await localDocker.getVolume(volume).remove({ force: true }).catch(() => undefined);
    try {
      execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env: { ...process.env, GNUPGHOME: gnupg }, stdio: 'ignore' });
    } catch {
      // no agent
    }
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  process.stderr.write(String((e as Error)?.stack ?? e) + '\n');
  process.exitCode = 1;
});
