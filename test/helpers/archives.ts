/**
 * Backup archives made the way admins make them: a UCP-like folder tree packed by real
 * GNU tar and encrypted by real gpg (or by our own encryptStream). The etcd snapshot is a
 * minimal but well-formed bbolt file, so the "etcd snapshot header sane" check can pass.
 */
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { createReadStream, createWriteStream, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { pathToFileURL } from 'node:url';
import { encryptStream } from '../../src/core/archive/pgp';

export const PASSPHRASE = 'secret12chars';
export const UCP_VERSION = '3.2.4';
export const BACKUP_STAMP = '1631549510183';

export interface TreeOptions {
  /** Leave out ./ucp-controller-server-certs/key.pem. */
  withoutKeyPem?: boolean;
  /** Drop entries until the archive has exactly this many (directories count). */
  entries?: number;
  /** Extra files: name (relative) → content. */
  extra?: Record<string, string | Buffer>;
  /** UCP version in the container inspect documents. */
  ucpVersion?: string;
  /** The ./ucp-backup/<stamp>/ folder name (each backup has its own). */
  stamp?: string;
  /** Add our engine's manifest.json; 'tampered' lists a wrong SHA-256 for key.pem. */
  manifest?: boolean | 'tampered';
  /** A real `etcdctl snapshot save` file in place of the synthetic bbolt one (drill tests). */
  etcdSnapshot?: Buffer;
  /** Other content for files of the layout: name (relative) → content (real certificates, a real auth store). */
  replace?: Record<string, string | Buffer>;
  /** More fields of the manifest, e.g. the built-in engine's `etcd` and `authStore` records. */
  manifestFields?: Record<string, unknown>;
}

export function tempDir(prefix = 'ucp-verify-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Files and folders of the reference layout (real-backup-layout.md), 27 entries with the dirs. */
function layout(o: TreeOptions): [string, string | Buffer | null][] {
  const stamp = o.stamp ?? BACKUP_STAMP;
  const inspect = (name: string) =>
    JSON.stringify([{ Name: `/${name}`, Config: { Image: `docker/${name.replace(/\..*/, '')}:${o.ucpVersion ?? UCP_VERSION}`, Labels: { 'com.docker.ucp.version': o.ucpVersion ?? UCP_VERSION } } }], null, 2);
  const containers = ['ucp-auth-store', 'ucp-kube-apiserver', 'ucp-kube-controller-manager', 'ucp-kubelet', 'ucp-kube-proxy', 'ucp-kube-scheduler', 'ucp-controller', 'ucp-swarm-manager', 'ucp-kv', 'ucp-proxy', 'ucp-client-root-ca', 'ucp-cluster-root-ca', 'ucp-manager-agent.yzx9my8y6ypycpe34bjh6ijkq'];
  const pem = (what: string) => `-----BEGIN ${what}-----\n${createHash('sha256').update(what).digest('base64')}\n-----END ${what}-----\n`;
  const files: [string, string | Buffer | null][] = containers.map((c) => [`${c}.json`, inspect(c)]);
  files.push(
    ['ucp-backup/', null],
    [`ucp-backup/${stamp}/`, null],
    [`ucp-backup/${stamp}/auth-store.tar.gz`, Buffer.from('not really gzip, but a file')],
    [`ucp-backup/${stamp}/etcd.backup.db`, o.etcdSnapshot ?? boltSnapshot(4)],
    ['ucp-client-root-ca/', null],
    ['ucp-client-root-ca/cert.pem', pem('CERTIFICATE')],
    ['ucp-client-root-ca/key.pem', pem('EC PRIVATE KEY')],
    ['ucp-cluster-root-ca/', null],
    ['ucp-cluster-root-ca/cert.pem', pem('CERTIFICATE')],
    ['ucp-cluster-root-ca/key.pem', pem('EC PRIVATE KEY')],
    ['ucp-controller-server-certs/', null],
    ['ucp-controller-server-certs/ca.pem', pem('CERTIFICATE')],
    ['ucp-controller-server-certs/cert.pem', pem('CERTIFICATE')],
    ['ucp-controller-server-certs/client_ca.pem', ''], // an empty file, as in the real listing
    ['ucp-controller-server-certs/key.pem', pem('RSA PRIVATE KEY')],
  );
  return files.map(([n, c]) => [n, o.replace?.[n] ?? c]);
}

/**
 * Writes the tree into `root` and returns the names to give GNU tar, in order ("./x").
 * Directories are listed with --no-recursion so the entry count is exact.
 */
export function writeTree(root: string, o: TreeOptions = {}): string[] {
  let files = layout(o);
  if (o.withoutKeyPem) files = files.filter(([n]) => n !== 'ucp-controller-server-certs/key.pem');
  for (const [n, c] of Object.entries(o.extra ?? {})) files.push([n, c]);
  if (o.entries !== undefined) {
    // Drop inspect documents first (never a directory or key.pem).
    while (files.length > o.entries) {
      const i = files.findIndex(([n]) => n.endsWith('.json') && !n.includes('/') && n !== 'ucp-controller.json');
      files.splice(i, 1);
    }
  }
  if (o.manifest) {
    // Our engine's manifest (builtinEngine.ts): every other entry with size and SHA-256, written last.
    const entries = files.map(([n, c]) => {
      const data = c === null ? undefined : Buffer.from(c);
      const sha256 = data && createHash('sha256').update(data).digest('hex');
      return { name: `./${n}`, type: c === null ? 'directory' : 'file', size: data?.length ?? 0, sha256: o.manifest === 'tampered' && n.endsWith('server-certs/key.pem') ? '0'.repeat(64) : sha256 };
    });
    const manifest = { format: 'ucp-backup-manifest/1', ucpVersion: o.ucpVersion ?? UCP_VERSION, node: 'manager1', engine: 'builtin', created: new Date().toISOString(), ...o.manifestFields, entries };
    files.push([`ucp-backup/${o.stamp ?? BACKUP_STAMP}/manifest.json`, JSON.stringify(manifest, null, 2)]);
  }
  for (const [name, content] of files) {
    const p = join(root, name);
    if (content === null) mkdirSync(p, { recursive: true });
    else {
      mkdirSync(dirname(p), { recursive: true });
      writeFileSync(p, content);
    }
  }
  return files.map(([n]) => `./${n.replace(/\/$/, '')}`);
}

/** Real GNU tar of a UCP-like tree; returns the tar path. */
export function makeTar(dir: string, o: TreeOptions & { format?: 'gnu' | 'pax' | 'ustar' } = {}): string {
  const root = join(dir, `tree-${Math.random().toString(36).slice(2, 8)}`);
  mkdirSync(root);
  const names = writeTree(root, o);
  const out = join(dir, `${Math.random().toString(36).slice(2, 8)}.tar`);
  const r = spawnSync('tar', ['--format', o.format ?? 'gnu', '--no-recursion', '-C', root, '-cf', out, '-T', '-'], { input: names.join('\n') + '\n' });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr}`);
  rmSync(root, { recursive: true, force: true });
  return out;
}

export function passFile(dir: string, passphrase = PASSPHRASE): string {
  const p = join(dir, `pass-${Math.random().toString(36).slice(2, 8)}`);
  writeFileSync(p, passphrase + '\n', { mode: 0o600 });
  return p;
}

/** `gpg --symmetric` with real GnuPG; `args` e.g. ['--compress-algo', 'none'] or ['--armor']. */
export function gpgEncrypt(dir: string, file: string, args: string[] = [], passphrase = PASSPHRASE): string {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const out = `${file}.${Math.random().toString(36).slice(2, 6)}.gpg`;
  const r = spawnSync('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase-file', passFile(dir, passphrase), '--symmetric', ...args, '--output', out, file]);
  if (r.status !== 0) throw new Error(`gpg --symmetric failed: ${r.stderr}`);
  return out;
}

/** Our engine's encryption (OpenPGP.js, pgp.ts encryptStream) of a file. */
export async function engineEncrypt(file: string, passphrase = PASSPHRASE): Promise<string> {
  const out = `${file}.engine.gpg`;
  await pipeline(await encryptStream(createReadStream(file), passphrase), createWriteStream(out));
  return out;
}

/**
 * A minimal bbolt database as `etcdctl snapshot save` writes it: two meta pages, a freelist
 * and a leaf page, then etcd's appended SHA-256 (size % 512 == 32).
 */
export function boltSnapshot(pages: number, pageSize = 4096): Buffer {
  const db = Buffer.alloc(pages * pageSize);
  for (const id of [0, 1]) {
    const p = db.subarray(id * pageSize);
    p.writeBigUInt64LE(BigInt(id), 0);
    p.writeUInt16LE(0x04, 8); // meta page flag
    p.writeUInt32LE(0xed0cdaed, 16);
    p.writeUInt32LE(2, 20);
    p.writeUInt32LE(pageSize, 24);
    p.writeBigUInt64LE(3n, 32); // root bucket page
    p.writeBigUInt64LE(2n, 48); // freelist page
    p.writeBigUInt64LE(BigInt(pages), 56); // high-water mark
    p.writeBigUInt64LE(BigInt(id + 1), 64); // txid
    p.writeBigUInt64LE(fnv1a64(p.subarray(16, 72)), 72);
  }
  return Buffer.concat([db, createHash('sha256').update(db).digest()]);
}

function fnv1a64(data: Buffer): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of data) h = ((h ^ BigInt(b)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return h;
}

/**
 * A GNU tar stream of a UCP-like tree plus one big file of `bigBytes`, made on the fly and
 * never held in memory: 'noise' content does not compress, 'sparse' content (zeros with a
 * block number every MiB) compresses to almost nothing, so gpg's default zlib makes a small
 * file that still decrypts to `bigBytes` of plaintext.
 */
export async function* bigTar(bigBytes: number, content: 'noise' | 'sparse' = 'noise'): AsyncGenerator<Buffer> {
  const header = (name: string, size: number, type = '0') => {
    const b = Buffer.alloc(512);
    b.write(name, 0, 100, 'utf8');
    b.write('0000644\0', 100);
    b.write('0000000\0', 108);
    b.write('0000000\0', 116);
    // 12-byte octal size field holds up to 8 GiB - 1.
    b.write(size.toString(8).padStart(11, '0') + '\0', 124);
    b.write('00000000000\0', 136);
    b.write('        ', 148);
    b.write(type, 156);
    b.write('ustar  \0', 257);
    let sum = 0;
    for (const x of b) sum += x;
    b.write(sum.toString(8).padStart(6, '0') + '\0 ', 148);
    return b;
  };
  const pad = (n: number) => Buffer.alloc((512 - (n % 512)) % 512);
  const dir = tempDir('ucp-bigtar-');
  try {
    const small = makeTar(dir);
    // The small tree's entries, without its end-of-archive zeros.
    const chunks: Buffer[] = [];
    for await (const c of createReadStream(small)) chunks.push(c as Buffer);
    const t = Buffer.concat(chunks);
    let end = t.length;
    while (end >= 512 && t.subarray(end - 512, end).every((x) => x === 0)) end -= 512;
    yield t.subarray(0, end);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  yield header('./ucp-backup/big.bin', bigBytes);
  const block = Buffer.alloc(1 << 20);
  let seed = createHash('sha256').update('seed').digest();
  for (let i = 0; content === 'noise' && i < block.length; i += 32) {
    seed = createHash('sha256').update(seed).digest();
    seed.copy(block, i);
  }
  let left = bigBytes;
  let n = 0;
  while (left > 0) {
    const piece = Buffer.from(block.subarray(0, Math.min(left, block.length)));
    piece.writeUInt32LE(n++, 0); // each block differs a little
    left -= piece.length;
    yield piece;
  }
  yield pad(bigBytes);
  yield Buffer.alloc(1024);
}

/** Writes a stream through `gpg --symmetric` (a pipe; default: no compression) into `out`. */
export async function gpgEncryptStreamed(dir: string, source: AsyncIterable<Buffer>, out: string, args: string[] = ['--compress-algo', 'none']): Promise<void> {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const gpg = spawn('gpg', ['--batch', '--quiet', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase-file', passFile(dir), '--symmetric', ...args, '--output', out], { stdio: ['pipe', 'ignore', 'pipe'] });
  let stderr = '';
  gpg.stderr.on('data', (d) => (stderr += d));
  const exited = new Promise<number | null>((resolve) => gpg.on('close', resolve));
  await pipeline(source, gpg.stdin);
  const code = await exited;
  if (code !== 0) throw new Error(`gpg --symmetric failed: ${stderr}`);
}

/**
 * The CLI bundled as it ships (dist/cli.js's esbuild settings) into `dir`: peak RSS is
 * measured on that, not under tsx, whose own transpiler adds ~35 MiB.
 */
export async function bundleCli(dir: string): Promise<string> {
  const esbuild = await import('esbuild');
  const root = join(__dirname, '..', '..');
  // A computed specifier: the build script is plain JavaScript, outside the type-checked sources.
  const { nodeBundleOptions } = (await import(pathToFileURL(join(root, 'esbuild.mjs')).href)) as { nodeBundleOptions: import('esbuild').BuildOptions };
  const out = join(dir, 'cli.js');
  await esbuild.build({ ...nodeBundleOptions, entryPoints: [join(root, 'src', 'cli.ts')], outfile: out, logLevel: 'silent' });
  // Preloaded into the child: reports its peak RSS (kernel's high-water mark) when it exits.
  writeFileSync(
    join(dir, 'peak-rss.js'),
    `process.on('exit', () => {
  const hwm = /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'));
  const cpu = process.cpuUsage();
  process.stderr.write('\\nPEAK ' + JSON.stringify({ maxRssKiB: process.resourceUsage().maxRSS, vmHwmKiB: hwm ? Number(hwm[1]) : 0, cpuMs: (cpu.user + cpu.system) / 1000 }) + '\\n');
});\n`,
  );
  return out;
}

export interface MeasuredRun {
  code: number | null;
  stdout: string;
  stderr: string;
  /** Peak RSS of the child in MiB (VmHWM; getrusage's maxRSS only where /proc lacks it). */
  peakRssMiB: number;
  cpuMs: number;
  wallMs: number;
}

/** Runs the bundled CLI in a child process and reads its peak RSS. */
export function runMeasured(cli: string, args: string[]): Promise<MeasuredRun> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(process.execPath, ['--require', join(dirname(cli), 'peak-rss.js'), cli, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const m = /\nPEAK (\{.*\})\n/.exec(stderr);
      const peak = m ? (JSON.parse(m[1]) as { maxRssKiB: number; vmHwmKiB: number; cpuMs: number }) : { maxRssKiB: NaN, vmHwmKiB: NaN, cpuMs: NaN };
      resolve({
        code,
        stdout,
        stderr: stderr.replace(/\nPEAK .*\n/, ''),
        // VmHWM is the child's own: getrusage's maxRSS survives exec on Linux, so it also counts
        // the test process the child was forked from (a test holding a 50 MB listing read 133 MiB).
        peakRssMiB: (peak.vmHwmKiB > 0 ? peak.vmHwmKiB : peak.maxRssKiB) / 1024,
        cpuMs: peak.cpuMs,
        wallMs: Number(process.hrtime.bigint() - t0) / 1e6,
      });
    });
  });
}

/** A real (stored, uncompressed) zip file of one entry, as `zip -0` writes it. */
export function makeZip(path: string, name: string, content: Buffer): void {
  const { crc32 } = require('node:zlib') as { crc32(data: Buffer): number };
  const crc = crc32(content);
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(10, 4); // version needed
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(content.length, 18);
  local.writeUInt32LE(content.length, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(10, 6);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(content.length, 20);
  central.writeUInt32LE(content.length, 24);
  central.writeUInt16LE(n.length, 28);
  const centralAt = local.length + n.length + content.length;
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(1, 8);
  end.writeUInt16LE(1, 10);
  end.writeUInt32LE(central.length + n.length, 12);
  end.writeUInt32LE(centralAt, 16);
  writeFileSync(path, Buffer.concat([local, n, content, central, n, end]));
}
