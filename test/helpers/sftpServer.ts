/**
 * A real SFTP server for the copy tests: OpenSSH's sshd on a free 127.0.0.1 port, its own
 * host key and a client key, serving /usr/lib/openssh/sftp-server. `knownHosts` pins its key
 * as a known_hosts line, as the managers' keys are pinned.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './freePort';

export interface SftpServer {
  port: number;
  dir: string;
  identityFile: string;
  /** known_hosts file with the server's key. */
  knownHosts: string;
  /** A known_hosts file naming another key for it (a changed key). */
  wrongKnownHosts: string;
  stop(): Promise<void>;
}


export async function startSftpServer(): Promise<SftpServer> {
  const dir = mkdtempSync(join(tmpdir(), 'ucp-backup-sftp-'));
  const keygen = (f: string) => execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', join(dir, f)]);
  keygen('host');
  keygen('client');
  keygen('other');
  writeFileSync(join(dir, 'authorized_keys'), readFileSync(join(dir, 'client.pub')));
  const port = await freePort();
  writeFileSync(
    join(dir, 'sshd_config'),
    [`Port ${port}`, 'ListenAddress 127.0.0.1', `HostKey ${join(dir, 'host')}`, `PidFile ${join(dir, 'sshd.pid')}`, `AuthorizedKeysFile ${join(dir, 'authorized_keys')}`, 'PasswordAuthentication no', 'KbdInteractiveAuthentication no', 'UsePAM no', 'PermitRootLogin prohibit-password', 'StrictModes no', 'Subsystem sftp /usr/lib/openssh/sftp-server', ''].join('\n'),
  );
  const pin = (pub: string) => `[127.0.0.1]:${port} ${readFileSync(join(dir, pub), 'utf8').split(' ').slice(0, 2).join(' ')}\n`;
  writeFileSync(join(dir, 'known_hosts'), pin('host.pub'));
  writeFileSync(join(dir, 'wrong_known_hosts'), pin('other.pub'));
  execFileSync('mkdir', ['-p', '/run/sshd']);
  const sshd: ChildProcess = spawn('/usr/sbin/sshd', ['-D', '-e', '-f', join(dir, 'sshd_config')], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  sshd.stderr!.on('data', (d) => (stderr += d));
  const until = Date.now() + 10_000;
  while (!(await new Promise<boolean>((r) => connect(port, '127.0.0.1').once('connect', function (this: import('node:net').Socket) { this.destroy(); r(true); }).once('error', () => r(false))))) {
    if (Date.now() > until || sshd.exitCode !== null) throw new Error(`sshd did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    port,
    dir,
    identityFile: join(dir, 'client'),
    knownHosts: join(dir, 'known_hosts'),
    wrongKnownHosts: join(dir, 'wrong_known_hosts'),
    stop: async () => {
      if (sshd.exitCode === null) {
        sshd.kill('SIGTERM');
        await new Promise((r) => sshd.once('exit', r));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
