/**
 * The sessions of one extension or CLI run: one NodeSession (one SSH connection) per node,
 * shared by the engine, verify, the CLI and the VS Code tree.
 */
import type { NodeConfig } from '../config';
import { DEFAULT_DOCKER_SOCKET } from '../config';
import { NodeSession, type SessionOptions } from './nodeSession';

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

export class SessionPool {
  private readonly sessions = new Map<string, NodeSession>();

  constructor(readonly options: SessionOptions = {}) {}

  get(node: NodeConfig): NodeSession {
    const key = sessionKey(node);
    let s = this.sessions.get(key);
    if (!s) {
      s = new NodeSession(node, this.options);
      this.sessions.set(key, s);
    }
    return s;
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
  }

  closeAll(): void {
    for (const s of this.sessions.values()) s.close();
    this.sessions.clear();
  }
}
