/**
 * The etcd part of the drill with a local etcd (`--local`): `snapshot status`, `snapshot
 * restore` into a throwaway data dir, then a one-member etcd on it, bound to 127.0.0.1 only,
 * asked over its JSON gateway (`/health`, `/v3/maintenance/status`, `/v3/kv/range`).
 * etcd 3.5+ moved restore and status to `etcdutl`; Debian's 3.4 has them in `etcdctl`.
 * The member is SIGKILLed in `finally`: it holds a throwaway copy, nothing to flush; and it
 * dies with us when we are killed (tiedProcess.ts).
 */
import type { ChildProcess } from 'node:child_process';
import { access, constants } from 'node:fs/promises';
import { createServer } from 'node:net';
import { delimiter, join } from 'node:path';
import { CancelledError, UcpError } from '../errors';
import { spawnTied } from './tiedProcess';

export class EtcdNotInstalledError extends UcpError {
  constructor(missing: string) {
    super(`--local needs ${missing} on PATH, and it is not there.`, 'Install etcd (Debian/Ubuntu: apt-get install etcd-server etcd-client; or put etcd and etcdutl from an etcd release on PATH).', 2);
  }
}

export interface EtcdTools {
  etcd: string;
  /** etcdutl when present (3.5+), else etcdctl (3.4: `snapshot restore` lives there). */
  util: string;
}

export interface SnapshotStatus {
  hash: number;
  revision: number;
  totalKey: number;
  totalSize: number;
}

const START_TIMEOUT_MS = 20_000;
const REQUEST_TIMEOUT_MS = 10_000;
const PAGE = 10_000;
const MAX_PREFIXES = 50;

export async function findEtcdTools(path = process.env.PATH ?? ''): Promise<EtcdTools> {
  const find = async (name: string) => {
    for (const dir of path.split(delimiter).filter(Boolean)) {
      const p = join(dir, name);
      if (await access(p, constants.X_OK).then(() => true, () => false)) return p;
    }
    return undefined;
  };
  const [etcd, etcdutl, etcdctl] = await Promise.all([find('etcd'), find('etcdutl'), find('etcdctl')]);
  const util = etcdutl ?? etcdctl;
  if (!etcd || !util) throw new EtcdNotInstalledError([!etcd && 'etcd', !util && 'etcdutl (or etcdctl)'].filter(Boolean).join(' and '));
  return { etcd, util };
}

/** A tool's failure, as the one line that says why (etcd logs JSON lines; the last error wins). */
export class EtcdToolError extends Error {}

export async function snapshotStatus(tools: EtcdTools, file: string, signal?: AbortSignal): Promise<SnapshotStatus> {
  const out = await run(tools.util, ['snapshot', 'status', file, '-w', 'json'], signal);
  const s = JSON.parse(out) as SnapshotStatus;
  if (![s.hash, s.revision, s.totalKey, s.totalSize].every(Number.isFinite)) throw new EtcdToolError(`unexpected snapshot status output: ${out.slice(0, 200)}`);
  return s;
}

export interface Member {
  clientUrl: string;
  stop(): Promise<void>;
}

export interface Restored {
  dataDir: string;
  clientUrl: string;
  peerUrl: string;
}

/** `snapshot restore` with its hash check on: a snapshot whose pages were damaged after `snapshot save` fails here. */
export async function restoreSnapshot(tools: EtcdTools, file: string, dataDir: string, signal?: AbortSignal): Promise<Restored> {
  const [client, peer] = await freePorts(2);
  const r: Restored = { dataDir, clientUrl: `http://127.0.0.1:${client}`, peerUrl: `http://127.0.0.1:${peer}` };
  await run(tools.util, ['snapshot', 'restore', file, '--data-dir', dataDir, ...clusterFlags(r)], signal);
  return r;
}

function clusterFlags(r: Restored): string[] {
  return ['--name', 'drill', '--initial-cluster', `drill=${r.peerUrl}`, '--initial-advertise-peer-urls', r.peerUrl];
}

/** One member on the restored dir, listening on 127.0.0.1 only; resolves once it answers /health. */
export async function startMember(tools: EtcdTools, r: Restored, signal?: AbortSignal): Promise<Member> {
  const { clientUrl, peerUrl } = r;
  // Tied to us: a SIGKILLed CLI must not leave it serving the decrypted store.
  const tied = spawnTied(tools.etcd, [...clusterFlags(r), '--data-dir', r.dataDir, '--listen-client-urls', clientUrl, '--advertise-client-urls', clientUrl, '--listen-peer-urls', peerUrl, '--logger', 'zap', '--log-outputs', 'stderr'], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  const { child } = tied;
  const log = tail(child);
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.once('error', () => undefined); // reported by waitHealthy as "exited before answering"
  const stop = () => tied.kill();
  try {
    await waitHealthy(clientUrl, child, exited, log, signal);
    return { clientUrl, stop };
  } catch (err) {
    await stop();
    throw err;
  }
}

async function waitHealthy(url: string, child: ChildProcess, exited: Promise<number | null>, log: () => string, signal?: AbortSignal): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  let gone = false;
  void exited.then(() => (gone = true));
  while (Date.now() < deadline) {
    if (signal?.aborted) throw new CancelledError();
    if (gone) throw new EtcdToolError(`etcd exited (${child.exitCode ?? child.signalCode}) before answering: ${log() || 'no output'}`);
    const ok = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1000) })
      .then(async (r) => r.ok && /"health"\s*:\s*"true"/.test(await r.text()))
      .catch(() => false);
    if (ok) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new EtcdToolError(`etcd did not answer on ${url} within ${START_TIMEOUT_MS / 1000} s: ${log() || 'no output'}`);
}

export interface MemberFigures {
  version?: string;
  revision: number;
  keys: number;
  prefixes: { prefix: string; keys: number }[];
}

/** Asks the member: its status, then every key (keys only, in pages), counted per top-level prefix. */
export async function memberFigures(clientUrl: string, signal?: AbortSignal): Promise<MemberFigures> {
  const status = (await post(clientUrl, '/v3/maintenance/status', {}, signal)) as { version?: string; header?: { revision?: string } };
  const counts = new Map<string, number>();
  let keys = 0;
  let revision = Number(status.header?.revision ?? NaN);
  let from = Buffer.from([0]);
  for (;;) {
    const r = (await post(clientUrl, '/v3/kv/range', { key: from.toString('base64'), range_end: Buffer.from([0]).toString('base64'), keys_only: true, limit: PAGE, serializable: true }, signal)) as {
      header?: { revision?: string };
      kvs?: { key: string }[];
      more?: boolean;
    };
    if (!Number.isFinite(revision)) revision = Number(r.header?.revision ?? NaN);
    const kvs = r.kvs ?? [];
    for (const kv of kvs) {
      const key = Buffer.from(kv.key, 'base64');
      const p = topPrefix(key.toString('utf8'));
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
    keys += kvs.length;
    if (!r.more || kvs.length === 0) break;
    // The next page starts just after the last key.
    from = Buffer.concat([Buffer.from(kvs[kvs.length - 1].key, 'base64'), Buffer.from([0])]);
  }
  return { version: status.version, revision, keys, prefixes: prefixList(counts) };
}

/** Keys per top-level prefix, most first; past MAX_PREFIXES the rest as one row. */
export function prefixList(counts: Map<string, number>): MemberFigures['prefixes'] {
  const sorted = [...counts].map(([prefix, n]) => ({ prefix, keys: n })).sort((a, b) => b.keys - a.keys || a.prefix.localeCompare(b.prefix));
  const prefixes = sorted.slice(0, MAX_PREFIXES);
  if (sorted.length > MAX_PREFIXES) prefixes.push({ prefix: `(${sorted.length - MAX_PREFIXES} other prefixes)`, keys: sorted.slice(MAX_PREFIXES).reduce((s, p) => s + p.keys, 0) });
  return prefixes;
}

/** "/registry/pods/x" → "/registry"; "foo/bar" → "foo"; "foo" → "foo". */
export function topPrefix(key: string): string {
  const lead = key.startsWith('/') ? '/' : '';
  const rest = lead ? key.slice(1) : key;
  return lead + rest.split('/')[0];
}

async function post(base: string, path: string, body: unknown, signal?: AbortSignal): Promise<unknown> {
  const timeout = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
  const r = await fetch(base + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' }, signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
  const text = await r.text();
  if (!r.ok) throw new EtcdToolError(`etcd answered ${r.status} to ${path}: ${text.slice(0, 200)}`);
  return JSON.parse(text) as unknown;
}

function run(cmd: string, args: string[], signal?: AbortSignal): Promise<string> {
  return new Promise((resolve, reject) => {
    const { child } = spawnTied(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ETCDCTL_API: '3' }, signal });
    let out = '';
    const log = tail(child);
    child.stdout!.on('data', (d) => (out += d));
    child.on('error', (err) => reject(signal?.aborted ? new CancelledError() : err));
    child.on('close', (code) => {
      if (signal?.aborted) reject(new CancelledError());
      else if (code === 0) resolve(out);
      else reject(new EtcdToolError(log() || out.trim() || `exit ${code}`));
    });
  });
}

/**
 * Why a tool failed, in one line: a Go panic (bbolt on damaged pages), etcd's hash check, a
 * zap JSON error line's msg and error, or the last plain line.
 */
function tail(child: ChildProcess): () => string {
  let text = '';
  child.stderr!.on('data', (d) => (text = (text + d).slice(-65_536)));
  return () => explain(text);
}

export function explain(text: string): string {
  const panic = /^panic: (.*)$/m.exec(text);
  if (panic) return `etcd crashed reading it (panic: ${panic[1].slice(0, 200)}): the snapshot's pages are damaged`;
  if (/expected sha256/.test(text)) return 'the SHA-256 etcd appended at `snapshot save` does not match the pages: the snapshot was damaged after it was saved';
  const lines = text.trim().split('\n').filter((l) => l && !/^\s/.test(l)).reverse();
  for (const line of lines) {
    try {
      const j = JSON.parse(line) as { level?: string; msg?: string; error?: string };
      if (j.level === 'error' || j.level === 'fatal' || j.level === 'panic') return [j.msg, j.error].filter(Boolean).join(': ');
    } catch {
      return line.replace(/^Error:\s*/, '').slice(0, 300);
    }
  }
  return '';
}

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<import('node:net').Server>((resolve, reject) => {
      const s = createServer();
      s.once('error', reject);
      s.listen(0, '127.0.0.1', () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as { port: number }).port);
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  return ports;
}
