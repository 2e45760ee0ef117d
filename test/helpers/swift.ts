/**
 * A real S3 server for the copy tests: OpenStack Swift 2.30 from Debian's packages (proxy with
 * its s3api middleware and tempauth, one account, container and object server), laid out as
 * "Swift All In One" with one device under a temp dir, on 127.0.0.1 ports of its own. Not a
 * fake: multipart uploads, ETags and metadata are Swift's. Stopped and removed by stop().
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort';

export interface SwiftS3 {
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Environment for the SDK's credential chain (no secret in any argv). */
  env: Record<string, string>;
  stop(): Promise<void>;
}


function buildRings(etc: string, ports: Record<'account' | 'container' | 'object', number>): Promise<void> {
  const script = [
    'import sys',
    "sys.path.insert(0, '/usr/lib/python3/dist-packages')",
    'from swift.common.ring import RingBuilder',
    ...Object.entries(ports).flatMap(([name, port]) => [
      'b = RingBuilder(0, 1, 1)',
      `b.add_dev({'id': 0, 'region': 1, 'zone': 1, 'ip': '127.0.0.1', 'port': ${port}, 'device': 'd1', 'weight': 1})`,
      'b.rebalance()',
      `b.get_ring().save(${JSON.stringify(join(etc, `${name}.ring.gz`))})`,
    ]),
  ].join('\n');
  return new Promise((resolve, reject) => {
    // Debian's python3 (the swift modules are in its dist-packages), whatever python3 PATH finds first.
    execFile('/usr/bin/python3', ['-c', script], (err, _out, stderr) => (err ? reject(new Error(`building the Swift rings failed: ${stderr || err.message}`)) : resolve()));
  });
}

export async function startSwiftS3(): Promise<SwiftS3> {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-backup-swift-'));
  const etc = join(dir, 'etc');
  const devices = join(dir, 'srv');
  mkdirSync(etc);
  mkdirSync(join(devices, 'd1'), { recursive: true });
  const [proxy, account, container, object] = [await freePort(), await freePort(), await freePort(), await freePort()];
  writeFileSync(join(etc, 'swift.conf'), '[swift-hash]\nswift_hash_path_suffix = ucp-backup-test\nswift_hash_path_prefix = ucp-backup-test\n\n[storage-policy:0]\nname = Policy-0\ndefault = yes\n');
  const server = (port: number, kind: string) =>
    `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${port}\nworkers = 0\nuser = root\nswift_dir = ${etc}\ndevices = ${devices}\nmount_check = false\nlog_name = ${kind}\nlog_facility = LOG_LOCAL0\nlog_udp_host = 127.0.0.1\nlog_udp_port = 9\n\n[pipeline:main]\npipeline = ${kind}-server\n\n[app:${kind}-server]\nuse = egg:swift#${kind}\n`;
  writeFileSync(join(etc, 'account-server.conf'), server(account, 'account'));
  writeFileSync(join(etc, 'container-server.conf'), server(container, 'container'));
  writeFileSync(join(etc, 'object-server.conf'), server(object, 'object'));
  const accessKeyId = 'test:tester';
  const secretAccessKey = `k${Math.random().toString(36).slice(2)}`;
  writeFileSync(
    join(etc, 'proxy-server.conf'),
    `[DEFAULT]\nbind_ip = 127.0.0.1\nbind_port = ${proxy}\nworkers = 0\nuser = root\nswift_dir = ${etc}\nlog_facility = LOG_LOCAL0\nlog_udp_host = 127.0.0.1\nlog_udp_port = 9\n\n` +
      '[pipeline:main]\npipeline = catch_errors gatekeeper healthcheck cache listing_formats s3api tempauth copy slo dlo proxy-server\n\n' +
      '[app:proxy-server]\nuse = egg:swift#proxy\naccount_autocreate = true\n\n' +
      '[filter:catch_errors]\nuse = egg:swift#catch_errors\n[filter:gatekeeper]\nuse = egg:swift#gatekeeper\n[filter:healthcheck]\nuse = egg:swift#healthcheck\n' +
      // No memcached: tempauth needs the cache middleware, but s3api's signature check does not use the cache.
      '[filter:cache]\nuse = egg:swift#memcache\nmemcache_servers = 127.0.0.1:1\n[filter:listing_formats]\nuse = egg:swift#listing_formats\n' +
      '[filter:s3api]\nuse = egg:swift#s3api\ns3_acl = false\nlocation = us-east-1\n' +
      `[filter:tempauth]\nuse = egg:swift#tempauth\nuser_test_tester = ${secretAccessKey} .admin\n` +
      '[filter:copy]\nuse = egg:swift#copy\n[filter:slo]\nuse = egg:swift#slo\n[filter:dlo]\nuse = egg:swift#dlo\n',
  );
  const children: ChildProcess[] = [];
  let stderr = '';
  const start = (kind: string) => {
    const c = spawn(`swift-${kind}-server`, [join(etc, `${kind}-server.conf`)], { stdio: ['ignore', 'ignore', 'pipe'] });
    c.stderr!.on('data', (d) => (stderr = (stderr + d).slice(-2000)));
    children.push(c);
  };
  // The storage servers start while the rings are built (one Python run: swift-ring-builder
  // takes about a second per call); the proxy needs the rings.
  for (const kind of ['account', 'container', 'object']) start(kind);
  await buildRings(etc, { account, container, object });
  start('proxy');
  const stop = async () => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
    await Promise.all(children.map((c) => (c.exitCode !== null || c.signalCode ? undefined : new Promise((r) => c.once('exit', r)))));
    rmSync(dir, { recursive: true, force: true });
  };
  const endpoint = `http://127.0.0.1:${proxy}`;
  const until = Date.now() + 30_000;
  for (;;) {
    const ok = await fetch(`${endpoint}/healthcheck`).then((r) => r.ok, () => false);
    if (ok) break;
    if (Date.now() > until || children.some((c) => c.exitCode !== null)) {
      await stop();
      throw new Error(`Swift did not start: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  const credentials = join(tmpdir(), `ucp-backup-swift-cred-${proxy}`);
  writeFileSync(credentials, `[default]\naws_access_key_id = ${accessKeyId}\naws_secret_access_key = ${secretAccessKey}\n`, { mode: 0o600 });
  return {
    endpoint,
    accessKeyId,
    secretAccessKey,
    env: { AWS_SHARED_CREDENTIALS_FILE: credentials, AWS_REGION: 'us-east-1', AWS_CONFIG_FILE: join(dir, 'no-aws-config') },
    stop: async () => {
      rmSync(credentials, { force: true });
      await stop();
    },
  };
}
