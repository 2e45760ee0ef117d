/**
 * The reference verdict: what real GnuPG 2.2 says when it decrypts a file (`gpg --decrypt`
 * to /dev/null), for tables that put its answer next to ours.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { passFile, PASSPHRASE } from './archives';

export interface GpgAnswer {
  /** gpg's exit status: 0 only when it found nothing wrong. */
  status: number | null;
  /** Its warnings and errors, one line each, without the lines every decryption prints. */
  said: string;
}

const ROUTINE = /encrypted with \d+ passphrase|\.CFB encrypted data|\.OCB encrypted data|decryption okay|^\s*$/;

export function gpgDecrypt(dir: string, file: string, passphrase = PASSPHRASE): GpgAnswer {
  const home = join(dir, 'gnupg');
  mkdirSync(home, { recursive: true, mode: 0o700 });
  const r = spawnSync('gpg', ['--batch', '--homedir', home, '--pinentry-mode', 'loopback', '--passphrase-file', passFile(dir, passphrase), '--decrypt', '--output', '/dev/null', '--yes', file]);
  const said = r.stderr.toString().split('\n').filter((l) => !ROUTINE.test(l)).map((l) => l.replace(/^gpg: /, '')).join(' | ');
  return { status: r.status, said };
}
