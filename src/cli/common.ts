/** Helpers shared by the CLI subcommands: options, config, passphrases, errors → exit codes. */
import { readFile } from 'node:fs/promises';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { describeError, UcpError, ConfigError } from '../core/errors';
import { safeText } from '../core/verify/safeName';
import { loadConfigFile, findCluster, type ClusterConfig } from '../core/config';

export interface CliIO {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  stdin: NodeJS.ReadableStream;
}

export type CliCommand = (argv: string[], io: CliIO, signal: AbortSignal) => Promise<number>;

/**
 * Options that would carry a secret's value on the command line, where every user of the
 * machine can read it (`ps`, /proc/<pid>/cmdline) and the shell keeps it in its history.
 */
const SECRET_VALUE_OPTIONS: Record<string, string> = {
  '--passphrase': '--passphrase-file FILE (its first line) or --passphrase-file - (stdin)',
  '--password': '--password-file FILE or --password-file - (stdin)',
  '--token': '--token-file FILE or --token-file - (stdin)',
};

export function parse<T extends NonNullable<ParseArgsConfig['options']>>(argv: string[], options: T) {
  for (const a of argv) {
    if (a === '--') break;
    const name = a.split('=')[0];
    const instead = SECRET_VALUE_OPTIONS[name];
    // The message names the option only: the value that may follow is never repeated.
    if (instead) throw new ConfigError(`${name} is refused: a secret on the command line is visible to every user of this machine (ps) and stays in the shell's history.`, `Use ${instead}.`);
  }
  try {
    return parseArgs({ args: argv, options, allowPositionals: true, strict: true });
  } catch (err) {
    throw new ConfigError((err as Error).message, 'Run `ucp-backup help` for usage.');
  }
}

export async function loadCluster(configPath: string | undefined, clusterName: string | undefined): Promise<ClusterConfig> {
  if (!configPath) throw new ConfigError('Missing --config FILE.', 'Point it at a {"clusters": [...]} file (see README).');
  return findCluster(await loadConfigFile(configPath), clusterName);
}

/**
 * Reads a passphrase from a file, or from stdin when the path is "-". Never from the
 * command line: process arguments are visible to every user of the machine.
 */
export async function readPassphrase(path: string, io: CliIO): Promise<string> {
  let text: string;
  if (path === '-') {
    const chunks: Buffer[] = [];
    for await (const c of io.stdin) chunks.push(Buffer.from(c as Buffer));
    text = Buffer.concat(chunks).toString('utf8');
  } else {
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      throw new ConfigError(`Cannot read passphrase file ${path}: ${(err as Error).message}`);
    }
  }
  // Like gpg --passphrase-file: the first line is the passphrase.
  const first = text.split(/\r?\n/)[0];
  if (!first) throw new ConfigError(`Passphrase file ${path} is empty.`);
  return first;
}

export function printJson(io: CliIO, value: unknown): void {
  io.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

export function reportError(io: CliIO, err: unknown): number {
  // A message may quote the archive or a server (a name, a line): no raw control character reaches the terminal.
  io.stderr.write(`ucp-backup: ${safeText(describeError(err))}\n`);
  return err instanceof UcpError ? err.exitCode : 2;
}
