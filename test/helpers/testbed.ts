/**
 * The real test cluster as tests see it: typed .testbed/testbed.json (written by
 * `npm run cluster:up`) plus per-node controls for disruptive tests (scripts/cluster/node.sh).
 * Disruptive controls are meant for manager3 only; callers restore in `finally`.
 */
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import type { NodeConfig } from '../../src/core/config';

const execFileAsync = promisify(execFile);

export const ROOT = join(__dirname, '..', '..');
export const TESTBED_DIR = join(ROOT, '.testbed');
export const TESTBED_JSON = join(TESTBED_DIR, 'testbed.json');
export const TESTBED_READY = join(TESTBED_DIR, 'READY');
const NODE_SCRIPT = join(ROOT, 'scripts', 'cluster', 'node.sh');

export interface TestbedEtcd {
  container: string;
  endpoint: string;
  env: Record<string, string>;
  snapshotCommand: string[];
}

export interface TestbedManager {
  name: string;
  hostname: string;
  host: string;
  sshPort: number;
  /** Socket path as configured in clusters.json for this node (what we forward to over SSH). */
  dockerSocket: string;
  dockerSocketOnNode: string;
  /** The socket on this machine: `docker -H unix://<dockerSocketPath>` talks to the node directly. */
  dockerSocketPath: string;
  dataRoot: string;
  execRoot: string;
  dockerPidFile: string;
  dockerLog: string;
  sshdConfig: string;
  sshdPidFile: string;
  sshdLog: string;
  hostKeyFile: string;
  hostPublicKey: string;
  swarmNodeId: string;
  backupDir: string;
  rootOwnedBackupDir: string;
  etcd: TestbedEtcd;
}

export interface Testbed {
  repo: string;
  testbedDir: string;
  clustersFile: string;
  clusterName: string;
  ucpVersion: string;
  /**
   * Every manager's sshd also listens on <host>:commonSshPort (like port 22 on real managers),
   * with `[host]:commonSshPort` entries in ssh.knownHostsFile.
   */
  commonSshPort: number;
  instanceId: string;
  ssh: {
    username: string;
    identityFile: string;
    encryptedIdentityFile: string;
    encryptedIdentityPassphrase: string;
    unknownIdentityFile: string;
    knownHostsFile: string;
    authorizedKeysFile: string;
  };
  bastion: {
    host: string;
    port: number;
    proxyJump: string;
    hostKeyFile: string;
    sshdPidFile: string;
    sshdLog: string;
  };
  pki: { clientRootCa: string; clusterRootCa: string };
  nodeScript: string;
  managers: TestbedManager[];
}

/** The cluster description; throws with what to do when the cluster is not up. */
export function loadTestbed(): Testbed {
  if (!existsSync(TESTBED_READY) || !existsSync(TESTBED_JSON)) {
    throw new Error(`The test cluster is not up (${TESTBED_READY} is missing). Run \`npm run cluster:up\` first.`);
  }
  return JSON.parse(readFileSync(TESTBED_JSON, 'utf8')) as Testbed;
}

/** One manager by name, or a clear error. */
export function testbedManager(name: string, tb: Testbed = loadTestbed()): TestbedManager {
  const m = tb.managers.find((x) => x.name === name);
  if (!m) throw new Error(`no manager ${name} in ${TESTBED_JSON}`);
  return m;
}

async function nodeCtl(action: string, what: 'docker' | 'sshd', name: string): Promise<void> {
  try {
    // dockerd start waits for swarm rejoin and etcd health: allow a few minutes.
    await execFileAsync('bash', [NODE_SCRIPT, action, what, name], { timeout: 180_000, maxBuffer: 16 << 20 });
  } catch (err) {
    const e = err as { stderr?: string; message: string };
    throw new Error(`node.sh ${action} ${what} ${name} failed: ${(e.stderr || e.message).trim()}`);
  }
}

/** True when that daemon of the node is running (and, for docker, healthy). */
export async function nodeRunning(what: 'docker' | 'sshd', name: string): Promise<boolean> {
  try {
    await execFileAsync('bash', [NODE_SCRIPT, 'status', what, name], { timeout: 30_000 });
    return true;
  } catch {
    return false;
  }
}

export const stopDocker = (name: string) => nodeCtl('stop', 'docker', name);
/** Starts dockerd and waits until it rejoined the swarm and its ucp-kv is healthy. */
export const startDocker = (name: string) => nodeCtl('start', 'docker', name);
export const stopSshd = (name: string) => nodeCtl('stop', 'sshd', name);
export const startSshd = (name: string) => nodeCtl('start', 'sshd', name);
/** Restarts the node's sshd with a NEW host key; known_hosts keeps the original one. */
export const rekeySshd = (name: string) => nodeCtl('rekey', 'sshd', name);
/** Puts the original host key back and restarts sshd. */
export const restoreSshdKey = (name: string) => nodeCtl('restore-key', 'sshd', name);

/** A fresh temp directory for one test (under the OS temp dir). */
export function tempDir(prefix = 'ucp-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/**
 * Writes a clusters config (the `--config` schema) to a temp file and returns its path.
 * `clusters` defaults to the testbed's own clusters.json content.
 */
export function writeClustersConfig(clusters?: unknown[], dir: string = tempDir('ucp-config-')): string {
  const tb = loadTestbed();
  const content = clusters ?? (JSON.parse(readFileSync(tb.clustersFile, 'utf8')) as { clusters: unknown[] }).clusters;
  const file = join(dir, 'clusters.json');
  writeFileSync(file, JSON.stringify({ clusters: content }, null, 2));
  return file;
}

/**
 * How the tests reach a testbed manager: its own sshd port, the testbed key (no agent), the
 * testbed known_hosts, and an empty SSH config in `dir` (the machine's ~/.ssh/config stays out).
 */
export function testNode(m: TestbedManager, dir: string, overrides: Partial<NodeConfig> = {}, tb: Testbed = loadTestbed()): NodeConfig {
  return {
    name: m.name,
    host: m.host,
    port: m.sshPort,
    username: tb.ssh.username,
    identityFile: tb.ssh.identityFile,
    useAgent: false,
    knownHostsFile: tb.ssh.knownHostsFile,
    dockerSocket: m.dockerSocketOnNode,
    sshConfigFile: emptySshConfig(dir),
    ...overrides,
  };
}

/** An empty SSH config file: keeps the machine's ~/.ssh/config out of a test's resolution. */
export function emptySshConfig(dir: string = tempDir('ucp-sshcfg-')): string {
  const file = join(dir, 'ssh_config.empty');
  writeFileSync(file, '');
  return file;
}

/** `/proc/net/tcp` spells 127.0.0.3:2203 as 0300007F:089B (little-endian address, hex port). */
function procTcpAddress(host: string, port: number): string {
  const ip = host.split('.').map((o) => Number(o).toString(16).padStart(2, '0').toUpperCase()).reverse().join('');
  return `${ip}:${port.toString(16).padStart(4, '0').toUpperCase()}`;
}

interface TcpEntry {
  local: string;
  remote: string;
  inode: string;
}

/** Established IPv4 TCP connections of this network namespace. */
function establishedTcp(): TcpEntry[] {
  return readFileSync('/proc/net/tcp', 'utf8')
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter((f) => f[3] === '01')
    .map((f) => ({ local: f[1], remote: f[2], inode: f[9] }));
}

/**
 * Pids of the processes holding an established TCP connection to host:port (IPv4). Read from
 * /proc, to prove which process really connected (e.g. the bastion's sshd, not the test).
 */
export function tcpClientPids(host: string, port: number): number[] {
  const remote = procTcpAddress(host, port);
  return socketOwners(new Set(establishedTcp().filter((e) => e.remote === remote).map((e) => e.inode)));
}

/**
 * The server-side processes (sshd's per-connection processes) of the connections that process
 * `clientPid` holds to host:port — to freeze exactly our own connection in a test.
 */
export function serverPidsOf(clientPid: number, host: string, port: number): number[] {
  const server = procTcpAddress(host, port);
  const entries = establishedTcp();
  const ours = new Set(socketInodesOf(clientPid));
  const clientEnds = entries.filter((e) => e.remote === server && ours.has(e.inode)).map((e) => e.local);
  return socketOwners(new Set(entries.filter((e) => e.local === server && clientEnds.includes(e.remote)).map((e) => e.inode)));
}

function socketInodesOf(pid: number): string[] {
  const inodes: string[] = [];
  let fds: string[] = [];
  try {
    fds = readdirSync(`/proc/${pid}/fd`);
  } catch {
    return inodes; // exited
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.push(m[1]);
    } catch {
      /* closed meanwhile */
    }
  }
  return inodes;
}

function socketOwners(inodes: Set<string>): number[] {
  const pids = new Set<number>();
  if (inodes.size === 0) return [];
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    if (socketInodesOf(Number(pid)).some((i) => inodes.has(i))) pids.add(Number(pid));
  }
  return [...pids];
}

/** True when `pid` is `ancestor` or one of its descendants. */
export function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = pid, i = 0; p > 1 && i < 64; i++) {
    if (p === ancestor) return true;
    try {
      const stat = readFileSync(`/proc/${p}/stat`, 'utf8');
      p = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

/** A login user of this machine (so of every node) who is not in the docker group. */
export const NO_DOCKER_USER = 'ucp-nodocker';

/**
 * Creates NO_DOCKER_USER once (tests run as root, as the cluster does). The managers' sshd
 * read the shared testbed authorized_keys for every user, so the testbed key logs it in;
 * `-p '*'` because sshd without PAM refuses a locked ("!") account.
 */
export async function ensureNoDockerUser(): Promise<string> {
  try {
    await execFileAsync('id', ['-u', NO_DOCKER_USER]);
  } catch {
    await execFileAsync('useradd', ['--system', '--no-create-home', '--home-dir', '/nonexistent', '--shell', '/bin/sh', NO_DOCKER_USER]);
  }
  await execFileAsync('usermod', ['-p', '*', NO_DOCKER_USER]);
  return NO_DOCKER_USER;
}
