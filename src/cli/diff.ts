/**
 * `ucp-backup diff A B`: what backup B adds, removes and changes compared with backup A
 * (by size and SHA-256; each backup's ./ucp-backup/<epoch-ms>/ folder is matched to the other's).
 * Exit like diff(1): 0 same content, 1 different, 2 trouble.
 */
import type { CliCommand } from './common';
import { parse, printJson, readPassphrase } from './common';
import { ConfigError } from '../core/errors';
import { verifyBackup } from '../core/verify/verify';
import { diffBackups } from '../core/verify/diff';
import { displayName } from '../core/verify/safeName';

const HELP = `Usage: ucp-backup diff A B [--passphrase-file FILE] [--passphrase-file-b FILE] [--json]

Reads both backups (streamed, nothing extracted) and lists entries added (+), removed (-)
and changed (~) in B compared with A. --passphrase-file-b when B has another passphrase.
Exit status: 0 same content, 1 different, 2 usage or I/O error.
`;

export const command: CliCommand = async (argv, io, signal) => {
  const { values, positionals } = parse(argv, {
    'passphrase-file': { type: 'string' },
    'passphrase-file-b': { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) {
    io.stdout.write(HELP);
    return 0;
  }
  if (positionals.length !== 2) throw new ConfigError('Give two backup files: A (older) and B (newer).', 'Run `ucp-backup diff --help`.');
  const passA = values['passphrase-file'];
  const passB = values['passphrase-file-b'] ?? passA;
  // Stdin can be read once: both archives then share that passphrase.
  let stdinPass: Promise<string> | undefined;
  const reader = (p: string | undefined) => (p ? () => (p === '-' ? (stdinPass ??= readPassphrase('-', io)) : readPassphrase(p, io)) : undefined);
  const all = Number.MAX_SAFE_INTEGER;
  const a = await verifyBackup({ kind: 'file', path: positionals[0] }, { passphrase: reader(passA), signal, maxEntriesInReport: all, hashEntries: true });
  const b = await verifyBackup({ kind: 'file', path: positionals[1] }, { passphrase: reader(passB), signal, maxEntriesInReport: all, hashEntries: true });
  const d = diffBackups(a, b);
  if (values.json) printJson(io, { a: summary(a), b: summary(b), ...d });
  else {
    const w = (s: string) => io.stdout.write(s + '\n');
    for (const e of d.removed) w(`- ${displayName(e.name)} (${e.size} bytes)`);
    for (const e of d.added) w(`+ ${displayName(e.name)} (${e.size} bytes)`);
    for (const c of d.changed) w(`~ ${displayName(c.name)} (${c.what.join(', ')}: ${c.a.size} -> ${c.b.size} bytes)`);
    w(`${d.added.length} added, ${d.removed.length} removed, ${d.changed.length} changed, ${d.same} unchanged`);
    for (const r of [a, b]) if (r.verdict !== 'VALID') w(`note: ${displayName(r.source)} is INVALID (run \`ucp-backup verify\` on it)`);
  }
  return d.added.length || d.removed.length || d.changed.length ? 1 : 0;
};

function summary(r: Awaited<ReturnType<typeof verifyBackup>>) {
  return { source: r.source, verdict: r.verdict, entryCount: r.entryCount };
}
