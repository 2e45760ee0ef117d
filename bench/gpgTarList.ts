import { spawn } from 'node:child_process';

/**
 * `gpg --decrypt FILE | tar --list`, as the spec's "Verify a UCP backup" says: wall ms, and
 * CPU ms of both processes (bash's `time` sums the pipeline) — steadier than wall time when
 * other work shares the 2 cores.
 */
export function gpgTarList(home: string, pass: string, file: string): Promise<{ wallMs: number; cpuMs: number }> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const script = 'TIMEFORMAT="CPU %3U %3S"; time (gpg --batch --quiet --homedir "$1" --passphrase-file "$2" --decrypt "$3" | tar --list > /dev/null)';
    const sh = spawn('bash', ['-c', script, 'bash', home, pass, file], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    sh.stderr.on('data', (d) => (err += d));
    sh.on('error', reject);
    sh.on('close', (code) => {
      const m = /CPU ([\d.]+) ([\d.]+)/.exec(err);
      if (code !== 0 || !m) return reject(new Error(`gpg | tar exited ${code}: ${err}`));
      resolve({ wallMs: Number(process.hrtime.bigint() - t0) / 1e6, cpuMs: (Number(m[1]) + Number(m[2])) * 1000 });
    });
  });
}
