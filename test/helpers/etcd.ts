/**
 * A real etcd snapshot for drill tests: a throwaway local etcd on 127.0.0.1 free ports in a
 * temp dir, some keys put under a few prefixes, `etcdctl snapshot save`, then the member is
 * killed (by its pid) and its dir removed. What `snapshot status` says is returned with it.
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { tempDir } from './archives';

export interface RealSnapshot {
  data: Buffer;
  status: { hash: number; revision: number; totalKey: number; totalSize: number };
}

/** Keys per prefix as put: key → value. */
export const DRILL_KEYS: Record<string, string> = {
  '/registry/pods/default/web-1': 'pod',
  '/registry/pods/default/web-2': 'pod',
  '/registry/services/default/web': 'svc',
  '/docker/nodes/manager1': 'node',
  '/docker/nodes/manager2': 'node',
  'ucp-config': 'cfg',
};

export async function realEtcdSnapshot(keys: Record<string, string> = DRILL_KEYS): Promise<RealSnapshot> {
  const dir = tempDir('ucp-drill-etcd-');
  const [client, peer] = await freePorts(2);
  const c = `http://127.0.0.1:${client}`;
  const p = `http://127.0.0.1:${peer}`;
  const etcd = spawn('etcd', ['--name', 't', '--data-dir', join(dir, 'data'), '--listen-client-urls', c, '--advertise-client-urls', c, '--listen-peer-urls', p, '--initial-advertise-peer-urls', p, '--initial-cluster', `t=${p}`, '--logger', 'zap', '--log-outputs', 'stderr'], { stdio: 'ignore' });
  const exited = new Promise((r) => etcd.once('exit', r));
  try {
    const ctl = (...args: string[]) => spawnSync('etcdctl', ['--endpoints', c, ...args], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
    for (let i = 0; ctl('endpoint', 'health').status !== 0; i++) {
      if (i > 100) throw new Error('the test etcd did not start');
      await new Promise((r) => setTimeout(r, 100));
    }
    for (const [k, v] of Object.entries(keys)) if (ctl('put', k, v).status !== 0) throw new Error(`etcdctl put ${k} failed`);
    const file = join(dir, 'snap.db');
    const save = ctl('snapshot', 'save', file);
    if (save.status !== 0) throw new Error(`etcdctl snapshot save failed: ${save.stderr}`);
    const st = spawnSync('etcdctl', ['snapshot', 'status', file, '-w', 'json'], { env: { ...process.env, ETCDCTL_API: '3' }, encoding: 'utf8' });
    return { data: readFileSync(file), status: JSON.parse(st.stdout) };
  } finally {
    etcd.kill('SIGKILL');
    await exited;
    rmSync(dir, { recursive: true, force: true });
  }
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(Array.from({ length: n }, () => new Promise<Server>((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => resolve(s));
  })));
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
