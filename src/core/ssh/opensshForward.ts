/**
 * The `openssh` transport: the admin's own OpenSSH client forwards the node's Docker socket to
 * a local Unix socket (`ssh -N -L <local.sock>:/var/run/docker.sock`, stream-local forwarding
 * as Docker contexts and VS Code Remote-SSH use), and Docker API calls connect to that.
 * Why: the SSH crypto and window handling then run in ssh's own process (C, a second core)
 * instead of our event loop, and ssh reads ~/.ssh/config with everything ssh2 lacks
 * (ProxyCommand, Match, ControlMaster, FIDO keys, GSSAPI). Measured: docs/bench-backup.md.
 *
 * Trust is unchanged: ssh runs with StrictHostKeyChecking=yes against the same known_hosts
 * file our ssh2 session checked (and asked the admin about) first, and BatchMode=yes: it never
 * prompts, and a key it cannot use without a prompt fails it (then `auto` stays on ssh2).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { NodeConfig } from '../config';
import type { ResolvedNode } from './sshConfig';

export type SshTransport = 'builtin' | 'openssh' | 'auto';

export const SSH_TRANSPORTS: readonly SshTransport[] = ['builtin', 'openssh', 'auto'];

/** $UCP_BACKUP_SSH_TRANSPORT when it names a transport, else undefined. */
export function transportFromEnv(): SshTransport | undefined {
  const v = process.env.UCP_BACKUP_SSH_TRANSPORT;
  return SSH_TRANSPORTS.includes(v as SshTransport) ? (v as SshTransport) : undefined;
}

const sshOnPath = new Map<string, boolean>();
/** The `ssh` on PATH when it is OpenSSH, or null (Windows without OpenSSH). Asked once per PATH. */
export function findSsh(): string | null {
  const path = process.env.PATH ?? '';
  let ok = sshOnPath.get(path);
  if (ok === undefined) {
    const r = spawnSync('ssh', ['-V'], { encoding: 'utf8', timeout: 5000 });
    ok = r.status === 0 && /OpenSSH/i.test(`${r.stderr}${r.stdout}`);
    sshOnPath.set(path, ok);
  }
  return ok ? 'ssh' : null;
}

export interface ForwardOptions {
  node: NodeConfig;
  endpoint: ResolvedNode;
  keepaliveMs: number;
  connectTimeoutMs: number;
  log(line: string): void;
}

/**
 * ssh's arguments. The node's own settings win as on our side; what is not set there comes
 * from ssh's config (the alias is passed as written, so Host/Match blocks apply).
 */
export function forwardArgs(o: ForwardOptions, localSocket: string): string[] {
  const { node, endpoint: ep } = o;
  const args = ['-N', '-T', '-o', 'BatchMode=yes', '-o', 'StrictHostKeyChecking=yes', '-o', `UserKnownHostsFile=${ep.knownHostsFile}`];
  args.push('-o', 'ExitOnForwardFailure=yes', '-o', 'StreamLocalBindUnlink=yes', '-o', 'ClearAllForwardings=no');
  args.push('-o', `ServerAliveInterval=${Math.max(1, Math.round(o.keepaliveMs / 1000))}`, '-o', 'ServerAliveCountMax=3');
  args.push('-o', `ConnectTimeout=${Math.max(1, Math.round(o.connectTimeoutMs / 1000))}`);
  if (node.sshConfigFile) args.push('-F', node.sshConfigFile);
  if (node.port) args.push('-p', String(node.port));
  if (node.username) args.push('-l', node.username);
  if (node.identityFile) args.push('-i', ep.identityFiles[0] ?? node.identityFile, '-o', 'IdentitiesOnly=yes');
  if (node.useAgent === false) args.push('-o', 'IdentityAgent=none');
  if (node.proxyJump) args.push('-J', node.proxyJump);
  args.push('-L', `${localSocket}:${ep.dockerSocket}`, '--', node.host);
  return args;
}

export class OpensshForward {
  private exited = false;
  private stderr = '';
  private readonly dir: string;
  readonly socketPath: string;
  private readonly child: ChildProcess;
  /** Resolves with ssh's last words when it exits. */
  readonly exit: Promise<string>;

  private constructor(o: ForwardOptions) {
    this.dir = mkdtempSync(join(tmpdir(), 'ucp-ssh-'));
    this.socketPath = join(this.dir, 'docker.sock');
    this.child = spawn(findSsh() ?? 'ssh', forwardArgs(o, this.socketPath), { stdio: ['ignore', 'ignore', 'pipe'] });
    this.child.stderr!.setEncoding('utf8');
    this.child.stderr!.on('data', (d: string) => (this.stderr = (this.stderr + d).slice(-2000)));
    this.exit = new Promise((resolve) => {
      const done = () => {
        this.exited = true;
        this.cleanup();
        resolve(this.reason());
      };
      this.child.once('error', (err) => ((this.stderr += err.message), done()));
      this.child.once('close', done);
    });
  }

  /** ssh's own error text, one line (never secrets: BatchMode never reads any). */
  reason(): string {
    return this.stderr.trim().split('\n').filter(Boolean).slice(-2).join(' ') || `ssh exited with ${this.child.exitCode ?? this.child.signalCode}`;
  }

  get alive(): boolean {
    return !this.exited;
  }

  /** Starts ssh and resolves once the local socket answers; rejects with ssh's reason. */
  static async start(o: ForwardOptions): Promise<OpensshForward> {
    const f = new OpensshForward(o);
    const deadline = Date.now() + o.connectTimeoutMs + 2000;
    for (let delay = 10; ; delay = Math.min(delay * 2, 100)) {
      if (!f.alive) throw new Error(f.reason());
      const s = await f.connect().catch(() => undefined);
      if (s) {
        s.destroy();
        o.log(`transport openssh: ssh forwards ${o.endpoint.dockerSocket} to ${f.socketPath} (pid ${f.child.pid})`);
        return f;
      }
      if (Date.now() > deadline) {
        f.close();
        throw new Error(`ssh did not open the forward within ${Math.round(o.connectTimeoutMs / 1000)} s`);
      }
      await new Promise((r) => setTimeout(r, delay));
    }
  }

  /** A new connection to the node's Docker socket through ssh. */
  connect(): Promise<Socket> {
    return new Promise((resolve, reject) => {
      const s = connect(this.socketPath);
      s.once('connect', () => {
        s.removeListener('error', reject);
        resolve(s);
      });
      s.once('error', reject);
    });
  }

  private cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  close(): void {
    if (!this.exited) this.child.kill('SIGTERM');
    this.cleanup();
  }
}
