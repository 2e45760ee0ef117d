/**
 * The sessions of one extension or CLI run: one NodeSession (one SSH connection) per node,
 * shared by the engine, verify, the CLI and the VS Code tree.
 */
import type Dockerode from 'dockerode';
import type { NodeConfig } from '../config';
import { DEFAULT_DOCKER_SOCKET } from '../config';
import { NodeSession, type SessionOptions } from './nodeSession';
import { ConnectError } from './errors';

/** Same endpoint and credentials → same connection, whatever the display name. */
export function sessionKey(node: NodeConfig): string {
  return JSON.stringify([
    node.host,
    node.port ?? null,
    node.username ?? null,
    node.identityFile ?? null,
    node.useAgent ?? null,
    node.knownHostsFile ?? null,
    node.proxyJump ?? null,
    node.sshConfigFile ?? null,
    node.dockerSocket ?? DEFAULT_DOCKER_SOCKET,
  ]);
}

export interface PoolOptions extends SessionOptions {
  /**
   * After a node could not be connected to, checks (tree refreshes) within this time report
   * the last failure at once instead of waiting the connect timeout again: an address that
   * drops packets would otherwise stall every refresh. 0 = always retry. Default 30 s.
   */
  retryUnreachableAfterMs?: number;
}

export const DEFAULT_RETRY_UNREACHABLE_AFTER_MS = 30_000;

/** The node failed to connect moments ago: that failure again, without a new attempt. */
export class RecentConnectFailureError extends ConnectError {
  constructor(
    readonly lastError: ConnectError,
    readonly ageMs: number,
    retryAfterMs: number,
  ) {
    super(lastError.endpoint, lastError.reason, 'not retried yet', { cause: lastError });
    // The admin reads the real failure; how old it is says why nothing was tried now.
    this.message = `Last attempt failed ${Math.round(ageMs / 1000)} s ago: ${lastError.message}`;
    (this as { hint?: string }).hint =
      `${lastError.hint ?? ''} Refresh to try again now (it is retried by itself after ${Math.round(retryAfterMs / 1000)} s).`.trim();
  }
}

interface Failure {
  at: number;
  error: ConnectError;
}

export class SessionPool {
  private readonly sessions = new Map<string, NodeSession>();
  private readonly failures = new Map<string, Failure>();
  private readonly attempts = new Map<string, number>();

  constructor(readonly options: PoolOptions = {}) {}

  get(node: NodeConfig): NodeSession {
    const key = sessionKey(node);
    let s = this.sessions.get(key);
    if (!s) {
      s = new NodeSession(node, this.options);
      this.sessions.set(key, s);
    }
    return s;
  }

  /**
   * The node's Docker client for status checks. A node whose connection failed less than
   * retryUnreachableAfterMs ago fails at once with RecentConnectFailureError; `force` (an
   * explicit refresh) tries again. Only connect failures are remembered: auth, host-key and
   * socket errors come back fast anyway and may be fixed between two refreshes.
   */
  async docker(node: NodeConfig, opts: { force?: boolean } = {}): Promise<Dockerode> {
    const key = sessionKey(node);
    const session = this.get(node);
    if (!session.isConnected) {
      const last = this.failures.get(key);
      const retryAfter = this.options.retryUnreachableAfterMs ?? DEFAULT_RETRY_UNREACHABLE_AFTER_MS;
      const age = last ? Date.now() - last.at : Infinity;
      if (last && !opts.force && age < retryAfter) throw new RecentConnectFailureError(last.error, age, retryAfter);
      this.attempts.set(key, (this.attempts.get(key) ?? 0) + 1);
    }
    try {
      const docker = await session.docker();
      this.failures.delete(key);
      return docker;
    } catch (err) {
      if (err instanceof ConnectError) this.failures.set(key, { at: Date.now(), error: err });
      throw err;
    }
  }

  /** Connection attempts docker() made to this node (not the ones it answered from memory). */
  connectAttempts(node: NodeConfig): number {
    return this.attempts.get(sessionKey(node)) ?? 0;
  }

  /** Forgets remembered connect failures: the next check of every node tries again. */
  forgetFailures(): void {
    this.failures.clear();
  }

  /** Every session opened so far (e.g. to sum handshakes in tests). */
  all(): NodeSession[] {
    return [...this.sessions.values()];
  }

  /** Drops one node's session (config changed); the next get() opens a new one. */
  forget(node: NodeConfig): void {
    const key = sessionKey(node);
    this.sessions.get(key)?.close();
    this.sessions.delete(key);
    this.failures.delete(key);
  }

  closeAll(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
    this.failures.clear();
  }
}
