/**
 * One persistent SSH connection to one manager node, shared by every Docker API call of the
 * session (tree refresh while a backup streams): each HTTP request to the Docker socket is a
 * separate `direct-streamlocal@openssh.com` channel on the same connection. The connection
 * opens lazily, sends keepalives, and is reopened on the next use after it dropped.
 */
import { connect as netConnect } from 'node:net';
import { Agent, type AgentOptions, type ClientRequest, type ClientRequestArgs } from 'node:http';
import { Duplex } from 'node:stream';
import { Client, type ClientChannel, type ConnectConfig } from 'ssh2';
import Dockerode from 'dockerode';
import type { NodeConfig } from '../config';
import { UcpError } from '../errors';
import { resolveNode, type ResolvedEndpoint, type ResolvedNode } from './sshConfig';
import { authMethodsFor, type AuthMethodList, type KeyCache } from './auth';
import { appendKnownHost, checkHostKey, fingerprintOf, keyTypeOfBlob, knownKeyTypes, readKnownHosts } from './knownHosts';
import { findSsh, OpensshForward, transportFromEnv, type SshTransport } from './opensshForward';
import {
  AuthFailedError,
  ConnectError,
  ConnectionLostError,
  DockerSocketNotFoundError,
  DockerSocketPermissionError,
  HostKeyChangedError,
  HostKeyRevokedError,
  HostKeyUnknownError,
  SocketForwardingDisabledError,
} from './errors';

export interface HostKeyInfo {
  host: string;
  port: number;
  keyType: string;
  /** `SHA256:…`, as OpenSSH prints it. */
  fingerprint: string;
  knownHostsFile: string;
}

export interface SessionOptions {
  /** Asked for a key that is not in known_hosts; absent → unknown keys are rejected. */
  confirmUnknownHostKey?(info: HostKeyInfo): Promise<boolean>;
  /** Passphrase of an encrypted identity file; undefined → skip that key. */
  keyPassphrase?(identityFile: string): Promise<string | undefined>;
  /** CLI --accept-new-host-keys: accept and record unknown (never changed) keys. */
  acceptUnknownHostKeys?: boolean;
  /** TCP connect + SSH handshake + auth, per hop. Default 15 s. */
  connectTimeoutMs?: number;
  /**
   * SSH keepalive interval (OpenSSH's ServerAliveInterval); a dead connection is noticed after 3
   * unanswered. Default: $UCP_BACKUP_SSH_KEEPALIVE_MS, else 15 s.
   */
  keepaliveIntervalMs?: number;
  /** Diagnostic lines (never secrets). */
  log?(line: string): void;
  /**
   * How Docker API calls reach the node's socket: 'builtin' (ssh2 channels on our connection),
   * 'openssh' (the admin's `ssh` forwards the socket: opensshForward.ts), 'auto' (openssh when
   * an OpenSSH client is on PATH and it connects, else builtin). Default:
   * $UCP_BACKUP_SSH_TRANSPORT, else 'builtin'. Our ssh2 connection is made either way: it
   * checks (and asks about) the host key and runs diagnostics.
   */
  transport?: SshTransport;
}

export interface ExecResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

// What ssh (OpenSSH) orders by default, ed25519 first; known types get moved to the front.
const HOST_KEY_ALGORITHMS = ['ssh-ed25519', 'ecdsa-sha2-nistp256', 'ecdsa-sha2-nistp384', 'ecdsa-sha2-nistp521', 'rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'];

function algorithmsFor(keyType: string): string[] {
  return keyType === 'ssh-rsa' ? ['rsa-sha2-512', 'rsa-sha2-256', 'ssh-rsa'] : [keyType];
}

function keepaliveFromEnv(): number | undefined {
  const v = Number(process.env.UCP_BACKUP_SSH_KEEPALIVE_MS);
  return Number.isFinite(v) && v >= 100 ? v : undefined;
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/**
 * http.Agent over forwarded channels. An ssh2 channel is not a net.Socket: the pooling
 * hooks that call setKeepAlive/ref/unref on sockets must be neutralised.
 */
class ChannelAgent extends Agent {
  constructor(private readonly open: () => Promise<Duplex>, opts: AgentOptions) {
    super(opts);
  }
  override createConnection(_options: ClientRequestArgs, cb?: (err: Error | null, socket: Duplex) => void): undefined {
    // Must not return a value: Node takes a returned value as the socket (TESTBED.md pitfall).
    this.open().then((s) => cb?.(null, s), (err: Error) => cb?.(err, undefined as never));
    return undefined;
  }
  // Node's default calls setKeepAlive/unref, which channels lack; truthy keeps it pooled.
  override keepSocketAlive(socket: Duplex): void {
    return !socket.destroyed as unknown as void;
  }
  // Node's version removes the idle 'error' listener it added when the socket was freed (a
  // no-op here piled one up per reuse: MaxListenersExceededWarning) and calls socket.ref(),
  // which a channel lacks: give it a no-op ref, then let Node do the rest.
  override reuseSocket(socket: Duplex, request: ClientRequest): void {
    const ch = socket as Duplex & { ref?: () => unknown };
    ch.ref ??= () => ch;
    super.reuseSocket(socket, request);
  }
}

export class NodeSession {
  /** SSH handshakes to the node itself (jump hosts not counted): one per session unless it dropped. */
  handshakes = 0;
  /** Handshakes to ProxyJump hosts. */
  jumpHandshakes = 0;
  /** How the last connection authenticated: 'agent' or 'publickey:<file>'. */
  authMethod?: string;
  private client?: Client;
  private jumpClients: Client[] = [];
  private connecting?: Promise<Client>;
  private dockerClient?: Dockerode;
  private agent?: ChannelAgent;
  private resolved?: ResolvedNode;
  private readonly keys: KeyCache = new Map();
  private closed = false;
  /** Channels open on the current connection (Docker API calls, archive streams, exec sockets). */
  private readonly channels = new Set<ClientChannel>();
  /** Why the last connection went away under open channels, and when. */
  private lost?: ConnectionLostError;
  private forward?: OpensshForward;
  private forwardStarting?: Promise<OpensshForward | undefined>;
  /** The transport Docker calls use now, in words for the log ("openssh (ssh pid 123)", "builtin"). */
  transportInUse = 'builtin';
  /** Connections opened through the openssh forward (tests read it). */
  forwardedConnections = 0;

  constructor(
    readonly node: NodeConfig,
    readonly options: SessionOptions = {},
  ) {}

  get name(): string {
    return this.node.name || this.node.host;
  }

  get endpoint(): ResolvedNode {
    this.resolved ??= resolveNode(this.node);
    return this.resolved;
  }

  get isConnected(): boolean {
    return this.client !== undefined;
  }

  private get keepaliveMs(): number {
    return this.options.keepaliveIntervalMs ?? keepaliveFromEnv() ?? 15_000;
  }

  private log(line: string): void {
    this.options.log?.(`[${this.name}] ${line}`);
  }

  /** The live connection, opening (or reopening after a drop) as needed. */
  connect(): Promise<Client> {
    if (this.closed) return Promise.reject(new UcpError(`The session to ${this.name} was closed.`));
    if (this.client) return Promise.resolve(this.client);
    this.connecting ??= this.openChain().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async openChain(): Promise<Client> {
    const target = this.endpoint;
    const opened: Client[] = [];
    try {
      let sock: Duplex | undefined;
      for (const hop of target.jumps) {
        const c = await this.handshake(hop, sock, true);
        opened.push(c);
        sock = await this.forwardTcp(c, hop, target.jumps[target.jumps.indexOf(hop) + 1] ?? target);
      }
      const client = await this.handshake(target, sock, false);
      this.jumpClients = opened;
      this.client = client;
      let lastError: (Error & { level?: string }) | undefined;
      const dropped = () => {
        if (this.client !== client) return;
        this.log('connection closed; it will be reopened on next use');
        this.client = undefined;
        this.agent?.destroy(); // pooled channels died with the connection
        for (const j of this.jumpClients) j.end();
        this.jumpClients = [];
        // ssh2 ends the readable side of open channels with a plain EOF when the connection
        // dies, so a stream in flight looks finished (or hangs waiting on a write) instead of
        // failing. Fail each one with the real cause.
        if (this.channels.size && !this.closed) {
          const keepalive = this.keepaliveMs;
          const detail = lastError?.level === 'client-timeout' || /keepalive/i.test(lastError?.message ?? '')
            ? `it stopped answering: no reply to 3 keepalives ${Math.round(keepalive / 100) / 10} s apart`
            : lastError ? `connection closed: ${lastError.message}` : 'the node closed the connection';
          this.lost = new ConnectionLostError(this.name, detail);
          // Stream destroy with the error (ssh2's own Channel.destroy drops its argument), so a
          // reader (`for await`, pipeline) fails with it; the no-op listener keeps a channel
          // nobody listens on (a hijacked attach socket) from making it an uncaught error.
          for (const ch of this.channels) {
            if (ch.listenerCount('error') === 0) ch.on('error', () => undefined);
            Duplex.prototype.destroy.call(ch, this.lost);
          }
        }
        this.channels.clear();
      };
      client.on('close', dropped);
      client.on('end', dropped);
      // Errors after ready (keepalive timeout, reset) end in 'close'; don't crash on them.
      client.on('error', (err) => {
        lastError = err;
        this.log(`connection error: ${err.message}`);
      });
      return client;
    } catch (err) {
      for (const c of opened) c.end();
      throw err;
    }
  }

  private forwardTcp(via: Client, viaEp: ResolvedEndpoint, to: ResolvedEndpoint): Promise<ClientChannel> {
    return new Promise((resolve, reject) => {
      via.forwardOut('127.0.0.1', 0, to.host, to.port, (err, ch) => {
        if (err) reject(new ConnectError(to, 'other', `jump host ${viaEp.host}:${viaEp.port} could not reach it (${err.message})`, { cause: err }));
        else resolve(ch);
      });
    });
  }

  private async handshake(ep: ResolvedEndpoint, sock: Duplex | undefined, isJump: boolean): Promise<Client> {
    const known = await readKnownHosts(ep.knownHostsFile);
    const methods: AuthMethodList = await authMethodsFor(ep, this.keys, this.options.keyPassphrase, (l) => this.log(l));
    const preferred = knownKeyTypes(known, ep.host, ep.port).flatMap(algorithmsFor);
    const hostKeyAlgorithms = [...new Set([...preferred.filter((a) => HOST_KEY_ALGORITHMS.includes(a)), ...HOST_KEY_ALGORITHMS])];
    const timeout = this.options.connectTimeoutMs ?? 15_000;

    return new Promise<Client>((resolve, reject) => {
      const client = new Client();
      let hostKeyError: Error | undefined;
      let lastMethod: string | undefined;
      const tried: string[] = [];
      let settled = false;
      const fail = (err: Error) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        client.removeAllListeners('ready');
        client.on('error', () => {}); // late errors of a discarded client
        client.end();
        sock?.destroy();
        reject(err);
      };
      // Bounds TCP connect + handshake + auth of this hop; paused while the admin reads a host-key prompt.
      let timer: NodeJS.Timeout | undefined;
      const arm = () => {
        timer = setTimeout(() => fail(new ConnectError(ep, 'timeout', `no SSH handshake within ${Math.round(timeout / 1000)} s`)), timeout);
      };
      arm();

      const verify = (key: Buffer, done: (ok: boolean) => void): void => {
        const fingerprint = fingerprintOf(key);
        const keyType = keyTypeOfBlob(key);
        const check = checkHostKey(known, ep.host, ep.port, key);
        if (check.status === 'known') return done(true);
        if (check.status === 'changed') {
          hostKeyError = new HostKeyChangedError(ep, fingerprint, ep.knownHostsFile, check.entry.line);
          return done(false);
        }
        if (check.status === 'revoked') {
          hostKeyError = new HostKeyRevokedError(ep, fingerprint, ep.knownHostsFile);
          return done(false);
        }
        const info: HostKeyInfo = { host: ep.host, port: ep.port, keyType, fingerprint, knownHostsFile: ep.knownHostsFile };
        const ask = this.options.acceptUnknownHostKeys
          ? Promise.resolve(true)
          : this.options.confirmUnknownHostKey
            ? (clearTimeout(timer), this.options.confirmUnknownHostKey(info))
            : Promise.resolve(false);
        ask
          .then(async (ok) => {
            if (settled) return;
            clearTimeout(timer);
            arm();
            if (!ok) {
              hostKeyError = new HostKeyUnknownError(ep, fingerprint, keyType, ep.knownHostsFile);
              return done(false);
            }
            await appendKnownHost(ep.knownHostsFile, ep.host, ep.port, key);
            this.log(`added ${keyType} ${fingerprint} for ${ep.host}:${ep.port} to ${ep.knownHostsFile}`);
            done(true);
          })
          .catch((err: Error) => {
            hostKeyError = err;
            done(false);
          });
      };

      client.on('ready', () => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        if (isJump) this.jumpHandshakes++;
        else {
          this.handshakes++;
          this.authMethod = lastMethod;
        }
        this.log(`connected to ${ep.username}@${ep.host}:${ep.port}${isJump ? ' (jump host)' : ''} using ${lastMethod}`);
        resolve(client);
      });
      client.on('error', (err: Error & { level?: string; code?: string }) => {
        fail(hostKeyError ?? this.describeConnectError(ep, err, tried));
      });
      client.on('close', () => fail(hostKeyError ?? new ConnectError(ep, 'closed', 'the server closed the connection during the handshake')));

      let socket = sock;
      if (!socket) {
        // Our own socket with Nagle off: ssh2's own socket stalled in measured bulk transfers (TESTBED.md).
        const tcp = netConnect({ host: ep.host, port: ep.port });
        tcp.setNoDelay(true);
        socket = tcp;
      }
      const config: ConnectConfig = {
        sock: socket as ConnectConfig['sock'],
        username: ep.username,
        hostVerifier: verify as ConnectConfig['hostVerifier'],
        algorithms: { serverHostKey: hostKeyAlgorithms as never },
        keepaliveInterval: this.keepaliveMs,
        keepaliveCountMax: 3,
        authHandler: (_left: unknown, _partial: unknown, next: (m: unknown) => void) => {
          const m = methods.shift();
          if (m) {
            tried.push(m.label);
            lastMethod = m.label;
          }
          next(m?.method ?? false);
        },
      } as ConnectConfig;
      client.connect(config);
    });
  }

  private describeConnectError(ep: ResolvedEndpoint, err: Error & { level?: string; code?: string }, tried: string[]): Error {
    if (err.level === 'client-authentication') {
      return new AuthFailedError(ep, ep.username, tried.length ? `the server accepted none of the offered keys (tried ${tried.join(', ')})` : 'no key was offered');
    }
    switch (err.code) {
      case 'ECONNREFUSED':
        return new ConnectError(ep, 'refused', 'connection refused', { cause: err });
      case 'ETIMEDOUT':
        return new ConnectError(ep, 'timeout', 'connection timed out', { cause: err });
      case 'ENOTFOUND':
      case 'EAI_AGAIN':
        return new ConnectError(ep, 'dns', `host name "${ep.host}" not found`, { cause: err });
      case 'ECONNRESET':
        return new ConnectError(ep, 'closed', 'connection reset by the server', { cause: err });
    }
    if (err.level === 'client-timeout') return new ConnectError(ep, 'timeout', err.message, { cause: err });
    return new ConnectError(ep, 'other', err.message, { cause: err });
  }

  /**
   * The loss of a connection under open channels since `since` (ms epoch), if one happened:
   * errors of operations it cut short ("socket hang up", "Premature close") say less than this.
   */
  connectionLostSince(since: number): ConnectionLostError | undefined {
    return this.lost && this.lost.at >= since ? this.lost : undefined;
  }

  /** A raw stream to a Unix socket on the node (the Docker socket, usually). */
  async openSocketStream(path: string = this.endpoint.dockerSocket): Promise<Duplex> {
    const client = await this.connect();
    try {
      const ch = await new Promise<ClientChannel>((resolve, reject) => {
        client.openssh_forwardOutStreamLocal(path, (err, c) => (err ? reject(err) : resolve(c)));
      });
      this.channels.add(ch);
      ch.once('close', () => this.channels.delete(ch));
      return ch;
    } catch (err) {
      throw await this.explainForwardFailure(path, err as Error & { reason?: number });
    }
  }

  /**
   * sshd answers a failed socket forward with a bare "open failed" (or "administratively
   * prohibited" when forwarding is off); ask the node what is wrong with the path instead.
   */
  private async explainForwardFailure(path: string, err: Error & { reason?: number }): Promise<Error> {
    if (!this.client) return new ConnectError(this.endpoint, 'closed', `the connection dropped while opening ${path}`, { cause: err });
    const ep = this.endpoint;
    if (/prohibited/i.test(err.message)) return new SocketForwardingDisabledError(this.name, path, err.message);
    let verdict = 'unknown';
    try {
      const p = shellQuote(path);
      // A socket behind a folder this user may not enter is a permission problem, not a missing
      // file: `test -e` says "no" for both, stat's error tells them apart.
      const r = await this.exec(`if [ ! -e ${p} ]; then case "$(LC_ALL=C stat -L ${p} 2>&1)" in *'ermission denied'*) echo denied;; *) echo missing;; esac; elif [ ! -S ${p} ]; then echo notsocket; elif [ ! -r ${p} ] || [ ! -w ${p} ]; then echo denied; else echo ok; fi`);
      verdict = r.stdout.trim();
    } catch {
      /* exec may be forbidden (ForceCommand etc.): fall back to the generic message */
    }
    switch (verdict) {
      case 'missing':
        return new DockerSocketNotFoundError(this.name, path, 'no such file');
      case 'notsocket':
        return new DockerSocketNotFoundError(this.name, path, 'the path exists but is not a socket');
      case 'denied':
        return new DockerSocketPermissionError(this.name, ep.username, path);
      case 'ok':
        return new DockerSocketNotFoundError(this.name, path, 'nothing is listening on the socket (is dockerd stopped?)');
      default:
        return new DockerSocketNotFoundError(this.name, path, `sshd could not open it (${err.message})`);
    }
  }

  get transport(): SshTransport {
    return this.options.transport ?? transportFromEnv() ?? 'builtin';
  }

  /**
   * The running openssh forward, started (or restarted after ssh exited) on demand; undefined
   * when the transport is builtin, or auto and ssh is missing or failed (logged).
   */
  private async opensshForward(): Promise<OpensshForward | undefined> {
    const want = this.transport;
    if (want === 'builtin') return undefined;
    if (this.forward?.alive) return this.forward;
    this.forwardStarting ??= (async () => {
      if (!findSsh()) {
        if (want === 'openssh') throw new ConnectError(this.endpoint, 'other', 'transport openssh was chosen, but no OpenSSH client (ssh) is on PATH', {});
        this.log('transport auto: no OpenSSH client (ssh) on PATH; using the built-in SSH client');
        this.transportInUse = 'builtin (auto: no ssh on PATH)';
        return undefined;
      }
      try {
        const f = await OpensshForward.start({ node: this.node, endpoint: this.endpoint, keepaliveMs: this.keepaliveMs, connectTimeoutMs: this.options.connectTimeoutMs ?? 15_000, log: (l) => this.log(l) });
        this.forward = f;
        this.transportInUse = `openssh (${want === 'auto' ? 'auto, ' : ''}ssh forwards ${this.endpoint.dockerSocket})`;
        void f.exit.then((why) => {
          if (this.forward !== f) return;
          this.forward = undefined;
          this.agent?.destroy(); // its pooled sockets went with ssh
          if (!this.closed) {
            this.log(`transport openssh: ssh exited (${why}); it is restarted on next use`);
            this.lost = new ConnectionLostError(this.name, `the OpenSSH client forwarding the Docker socket exited: ${why}`);
          }
        });
        return f;
      } catch (err) {
        const why = (err as Error).message;
        if (want === 'openssh') throw new ConnectError(this.endpoint, 'other', `ssh could not forward the Docker socket: ${why}`, { cause: err as Error });
        this.log(`transport auto: ssh could not forward the Docker socket (${why}); using the built-in SSH client`);
        this.transportInUse = 'builtin (auto: ssh failed)';
        return undefined;
      }
    })().finally(() => (this.forwardStarting = undefined));
    return this.forwardStarting;
  }

  /** A connection to the Docker socket over the chosen transport (one HTTP connection). */
  private async openDockerConnection(socketPath: string): Promise<Duplex> {
    const f = await this.opensshForward();
    if (!f) return this.openSocketStream(socketPath);
    this.forwardedConnections++;
    return f.connect();
  }

  /** Dockerode over the shared connection, same instance for the whole session. */
  async docker(): Promise<Dockerode> {
    await this.connect(); // surface SSH errors here rather than inside the first API call
    await this.opensshForward(); // and the forward's (transport openssh), before any API call
    if (!this.dockerClient) {
      const socketPath = this.endpoint.dockerSocket;
      this.agent = new ChannelAgent(() => this.openDockerConnection(socketPath), { keepAlive: true, maxFreeSockets: 8 });
      this.dockerClient = new Dockerode({ protocol: 'http', host: 'localhost', port: 80, agent: this.agent } as Dockerode.DockerOptions);
    }
    return this.dockerClient;
  }

  /** Runs a command on the node (diagnostics; sshd's MaxSessions limits how many at once). */
  async exec(command: string): Promise<ExecResult> {
    const client = await this.connect();
    return new Promise((resolve, reject) => {
      client.exec(command, (err, ch) => {
        if (err) return reject(err);
        let stdout = '';
        let stderr = '';
        let code: number | null = null;
        ch.on('data', (d: Buffer) => (stdout += d));
        ch.stderr.on('data', (d: Buffer) => (stderr += d));
        ch.on('exit', (c: number | null) => (code = c));
        ch.on('close', () => resolve({ code, stdout, stderr }));
      });
    });
  }

  /** Ends the connection; the session can't be used afterwards. */
  close(): void {
    this.closed = true;
    this.agent?.destroy();
    this.forward?.close();
    this.forward = undefined;
    const c = this.client;
    this.client = undefined;
    c?.end();
    for (const j of this.jumpClients) j.end();
    this.jumpClients = [];
  }
}
