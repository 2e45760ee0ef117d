/**
 * Quick A/B loop for verify's fast path while tuning: one 1 GiB gpg archive kept in a
 * directory between runs, the CLI re-bundled from the current tree, interleaved runs of
 * `ucp-backup verify` and `gpg --decrypt | tar --list`. No report file; bench/verify.ts is the record.
 * Usage: node --import tsx bench/verifyQuick.ts [--runs 5] [--dir /tmp/ucp-verify-quick] [--by gpg|engine]
 */
import { createWriteStream, existsSync, mkdirSync } from 'node:fs';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import { encryptStream } from '../src/core/archive/pgp';
import { gpgTarList } from './gpgTarList';
import { bigTar, bundleCli, gpgEncryptStreamed, passFile, PASSPHRASE, runMeasured } from '../test/helpers/archives';

const { values: opt } = parseArgs({ options: { runs: { type: 'string', default: '5' }, dir: { type: 'string', default: '/tmp/ucp-verify-quick' }, by: { type: 'string', default: 'gpg' } } });
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];


async function main(): Promise<void> {
  const dir = opt.dir!;
  mkdirSync(dir, { recursive: true });
  const pass = passFile(dir);
  const file = join(dir, `1g-${opt.by}.tar.gpg`);
  if (!existsSync(file)) {
    if (opt.by === 'gpg') await gpgEncryptStreamed(dir, bigTar(1024 ** 3), file);
    else await pipeline(await encryptStream(Readable.from(bigTar(1024 ** 3)), PASSPHRASE), createWriteStream(file));
  }
  const cli = await bundleCli(dir);
  const o: number[] = [], t: number[] = [], oc: number[] = [], tc: number[] = [], rss: number[] = [];
  await gpgTarList(join(dir, 'gnupg'), pass, file);
  for (let i = 0; i < Number(opt.runs); i++) {
    const a = await runMeasured(cli, ['verify', file, '--passphrase-file', pass]);
    if (a.code !== 0) throw new Error(a.stderr + a.stdout);
    const b = await gpgTarList(join(dir, 'gnupg'), pass, file);
    o.push(a.wallMs); oc.push(a.cpuMs); rss.push(a.peakRssMiB); t.push(b.wallMs); tc.push(b.cpuMs);
    process.stderr.write(`ours ${(a.wallMs / 1000).toFixed(2)} s cpu ${(a.cpuMs / 1000).toFixed(2)} ${a.peakRssMiB.toFixed(0)} MiB | gpg|tar ${(b.wallMs / 1000).toFixed(2)} s cpu ${(b.cpuMs / 1000).toFixed(2)} | load ${loadavg()[0].toFixed(1)}\n`);
  }
  process.stdout.write(`median ours ${(median(o) / 1000).toFixed(2)} s (cpu ${(median(oc) / 1000).toFixed(2)}), gpg|tar ${(median(t) / 1000).toFixed(2)} s (cpu ${(median(tc) / 1000).toFixed(2)}); wall ratio ${(median(t) / median(o)).toFixed(2)}×, cpu ratio ${(median(tc) / median(oc)).toFixed(2)}×, per-run ${median(o.map((x, i) => t[i] / x)).toFixed(2)}×, peak RSS ${Math.max(...rss).toFixed(0)} MiB\n`);
}
main().catch((e) => { process.stderr.write(String(e?.stack ?? e) + '\n'); process.exitCode = 1; });
