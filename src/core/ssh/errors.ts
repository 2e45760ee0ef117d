/**
 * What can go wrong between the admin's machine and a manager's Docker socket. Each error
 * names the node and says what to do, the way OpenSSH and the docker CLI would.
 */
import { UcpError } from '../errors';

export interface Endpoint {
  host: string;
  port: number;
}

function where(e: Endpoint): string {
  return e.port === 22 ? e.host : `${e.host}:${e.port}`;
}

/** The node presented a key other than the one in known_hosts: possible man-in-the-middle. */
export class HostKeyChangedError extends UcpError {
  constructor(
    readonly endpoint: Endpoint,
    readonly fingerprint: string,
    readonly knownHostsFile: string,
    readonly knownLine: number,
  ) {
    super(
      `Host key for ${where(endpoint)} has changed (now ${fingerprint}); refusing to connect. ` +
        `Someone could be intercepting the connection, or the host key was just replaced.`,
      `If the change is expected, remove the old key (${knownHostsFile} line ${knownLine}) with ` +
        `\`ssh-keygen -R ${endpoint.port === 22 ? endpoint.host : `'[${endpoint.host}]:${endpoint.port}'`} -f ${knownHostsFile}\` and connect again.`,
    );
  }
}

/** The node's key is not in known_hosts and nobody accepted it. */
export class HostKeyUnknownError extends UcpError {
  constructor(
    readonly endpoint: Endpoint,
    readonly fingerprint: string,
    readonly keyType: string,
    readonly knownHostsFile: string,
  ) {
    super(
      `The authenticity of host ${where(endpoint)} can't be established: ${keyType} key fingerprint is ${fingerprint}, ` +
        `not in ${knownHostsFile}.`,
      `Check the fingerprint with the node's admin (\`ssh-keygen -lf /etc/ssh/ssh_host_${keyType.replace(/^ssh-/, '').replace(/^ecdsa-.*/, 'ecdsa')}_key.pub\`), ` +
        'then accept it (VS Code asks; CLI: --accept-new-host-keys) or add it with `ssh-keyscan`.',
    );
  }
}

/** The key was revoked in known_hosts (@revoked). */
export class HostKeyRevokedError extends UcpError {
  constructor(readonly endpoint: Endpoint, readonly fingerprint: string, readonly knownHostsFile: string) {
    super(`Host key ${fingerprint} of ${where(endpoint)} is marked @revoked in ${knownHostsFile}; refusing to connect.`,
      'Ask the node admin for the new host key.');
  }
}

export class AuthFailedError extends UcpError {
  constructor(readonly endpoint: Endpoint, readonly username: string, detail: string) {
    super(`SSH authentication as "${username}" to ${where(endpoint)} failed: ${detail}.`,
      'Check the user name, the identity file (and its passphrase) or the keys in ssh-agent, and that the public key is in the node\'s ~/.ssh/authorized_keys.');
  }
}

/** TCP could not reach sshd: refused, timed out, or the name does not resolve. */
export class ConnectError extends UcpError {
  constructor(readonly endpoint: Endpoint, readonly reason: 'refused' | 'timeout' | 'dns' | 'closed' | 'other', detail: string, options?: { cause?: unknown }) {
    super(`Cannot connect to ${where(endpoint)}: ${detail}.`, hintFor(reason), 2, options);
  }
}

function hintFor(reason: ConnectError['reason']): string {
  switch (reason) {
    case 'refused':
      return 'Is sshd running on the node and listening on that port? Check host and port in the cluster configuration.';
    case 'timeout':
      return 'The node did not answer in time: check the address, firewalls, VPN, and the ProxyJump host if one is used.';
    case 'dns':
      return 'The host name does not resolve: check the spelling, your DNS, or the HostName of the ~/.ssh/config alias.';
    case 'closed':
      return 'The SSH connection was closed by the node; try again, and check the node\'s sshd logs if it keeps happening.';
    default:
      return 'Check that the node is reachable with `ssh` from this machine.';
  }
}

/**
 * An established connection went away under a running operation: keepalive got no answer (a
 * frozen node or network), or the node closed it. Exit 1: for a backup that means FAILED.
 */
export class ConnectionLostError extends UcpError {
  constructor(readonly node: string, readonly detail: string, readonly at: number = Date.now()) {
    super(`The SSH connection to ${node} was lost (${detail}).`, 'Nothing was published. Check that the node and the network answer (ssh to it), then run it again.', 1);
  }
}

export class DockerSocketPermissionError extends UcpError {
  constructor(readonly node: string, readonly username: string, readonly socketPath: string) {
    super(`User "${username}" on ${node} may not use the Docker socket ${socketPath} (permission denied).`,
      `Add the user to the docker group on the node (\`sudo usermod -aG docker ${username}\`, then reconnect), or connect as a user who can use Docker.`);
  }
}

export class DockerSocketNotFoundError extends UcpError {
  constructor(readonly node: string, readonly socketPath: string, detail: string) {
    super(`No Docker Engine answers on ${node} at ${socketPath}: ${detail}.`,
      'Check that dockerd is running on the node (`systemctl status docker`) and that "dockerSocket" in the cluster configuration is the right path.');
  }
}

/** sshd refused the Unix-socket forward itself (AllowStreamLocalForwarding no). */
export class SocketForwardingDisabledError extends UcpError {
  constructor(readonly node: string, readonly socketPath: string, detail: string) {
    super(`The SSH server on ${node} refused to forward ${socketPath}: ${detail}.`,
      'Set `AllowStreamLocalForwarding yes` (or `local`) in the node\'s sshd_config and reload sshd.');
  }
}
