/**
 * `ucp-backup api login|backup|backups|get|ca`: the UCP backup API from the command line
 * (back-up-ucp.txt, "Create, list, and retrieve UCP backups using the API"). Secrets come
 * only from files or stdin; the token is written to a 0600 file, never printed.
 */
import { writeFileSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import type { CliCommand, CliIO } from './common';
import { parse, printJson, readPassphrase } from './common';
import { ConfigError } from '../core/errors';
import { UcpApiClient, type UcpApiOptions } from '../core/api/ucpApiClient';
import type { CheckedBackupRecord, CreateBackupRequest } from '../core/api/schema';
import { checkCaSignsServer, consentToFingerprint, fetchServedCa, MemoryCaPinStore, parseCaBundle, trustUcpCa } from '../core/api/caTrust';
import { formatUcpTime, recordLines } from '../core/api/recordText';
import { INSECURE_WARNING } from '../core/api/tlsErrors';
import { readClientBundle } from '../core/api/clientBundle';

const USAGE = `Usage:
  ucp-backup api ca      --url URL [--save FILE]
  ucp-backup api login   --url URL --username NAME --password-file FILE --token-file OUT [TLS]
  ucp-backup api backup  --url URL AUTH --file-name NAME --host-path DIR
                         (--passphrase-file FILE | --no-passphrase) [--include-logs] [--wait] [--json] [TLS]
  ucp-backup api backups --url URL AUTH [--json] [TLS]
  ucp-backup api get ID  --url URL AUTH [--json] [TLS]

  AUTH: --token-file FILE (from \`api login\`), --username NAME --password-file FILE, both
        (the token is used and renewed with the password when it expires), or
        --client-bundle ZIP|DIR (a UCP client bundle, zipped or not: cert.pem, key.pem, ca.pem)
  TLS:  --pin-sha256 FINGERPRINT (trust the CA UCP serves at /ca only if it has this SHA-256
        fingerprint; \`api ca\` prints it), --ca FILE (a saved CA bundle; default with a client
        bundle: its ca.pem), or --insecure (no check at all, warned)
  A FILE of "-" is read from stdin. Exit: 0 ok, 1 failed (a FAILED backup with --wait),
  2 usage, login or TLS, 3 another backup is running, 4 no such backup.
`;

const OPTIONS = {
  url: { type: 'string' },
  username: { type: 'string' },
  'password-file': { type: 'string' },
  'token-file': { type: 'string' },
  'client-bundle': { type: 'string' },
  ca: { type: 'string' },
  'pin-sha256': { type: 'string' },
  insecure: { type: 'boolean' },
  save: { type: 'string' },
  json: { type: 'boolean' },
  'file-name': { type: 'string' },
  'host-path': { type: 'string' },
  'passphrase-file': { type: 'string' },
  'no-passphrase': { type: 'boolean' },
  'include-logs': { type: 'boolean' },
  wait: { type: 'boolean' },
  interval: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

type Values = ReturnType<typeof parse<typeof OPTIONS>>['values'];

export const command: CliCommand = async (argv, io, signal) => {
  const { values: v, positionals } = parse(argv, OPTIONS);
  const [sub, ...args] = positionals;
  if (v.help || !sub) {
    io.stdout.write(USAGE);
    return v.help ? 0 : 2;
  }
  if ([v['password-file'], v['token-file'], v['passphrase-file']].filter((f) => f === '-').length > 1) {
    throw new ConfigError('Only one secret can come from stdin.');
  }
  if (sub === 'ca') return showCa(v, io, signal);
  if (sub === 'login') return login(v, io, signal);
  const client = await authenticatedClient(v, io, signal);
  switch (sub) {
    case 'backup':
      return backup(client, v, io, signal);
    case 'backups': {
      const list = await client.listBackupsChecked({ signal });
      if (v.json) printJson(io, list.map((c) => c.record));
      else printTable(io, list);
      return 0;
    }
    case 'get': {
      if (args.length !== 1) throw new ConfigError('`api get` takes one backup ID.', 'List the IDs with `ucp-backup api backups`.');
      printRecord(io, await client.getBackupChecked(args[0], { signal }), v.json);
      return 0;
    }
    default:
      throw new ConfigError(`Unknown api subcommand "${sub}".`, 'Use ca, login, backup, backups or get.');
  }
};

function requireUrl(v: Values): URL {
  if (!v.url) throw new ConfigError('Missing --url.', 'Pass --url https://<ucp-host>[:port].');
  // The client checks the scheme and says what to pass.
  return new UcpApiClient({ url: v.url }).baseUrl;
}

/** Like ssh-keyscan: what UCP serves at /ca and its fingerprint, to check with UCP's admin before pinning. */
async function showCa(v: Values, io: CliIO, signal: AbortSignal): Promise<number> {
  const url = requireUrl(v);
  const certs = await fetchServedCa(url, { signal });
  for (const c of certs) io.stdout.write(`SHA-256 ${c.sha256}  ${c.subject}\n`);
  const pem = certs.map((c) => c.pem).join('\n') + '\n';
  const unsigned = await checkCaSignsServer(url, pem, signal);
  if (unsigned) io.stderr.write(`ucp-backup: warning: this CA does not sign the certificate ${url.host} presents (${unsigned}); pinning it would not help.\n`);
  if (v.save) await writeFile(v.save, pem);
  io.stderr.write(`Check the fingerprint with UCP's admin, then pass --pin-sha256 ${certs[0].sha256}${v.save ? ` or --ca ${v.save}` : ''}.\n`);
  return 0;
}

async function baseClient(v: Values, io: CliIO, signal: AbortSignal, extra: Partial<UcpApiOptions> = {}): Promise<UcpApiClient> {
  const url = requireUrl(v);
  if ([v.ca, v['pin-sha256'], v.insecure].filter(Boolean).length > 1) throw new ConfigError('--ca, --pin-sha256 and --insecure exclude each other.');
  const bundle = v['client-bundle'] ? await readClientBundle(v['client-bundle']) : undefined;
  let ca: string | undefined;
  if (v.ca) {
    try {
      ca = await readFile(v.ca, 'utf8');
    } catch (err) {
      throw new ConfigError(`Cannot read CA bundle ${v.ca}: ${(err as Error).message}.`, 'Save UCP\'s CA bundle first: ucp-backup api ca --url URL --save ucp-ca.pem');
    }
    parseCaBundle(ca, v.ca);
  } else if (v['pin-sha256']) {
    // Consent given on the command line: no store, the fingerprint is checked on every run.
    ca = await trustUcpCa(url, new MemoryCaPinStore(), consentToFingerprint(v['pin-sha256']), signal);
  } else if (bundle && !v.insecure) {
    ca = bundle.ca;
  }
  if (v.insecure) io.stderr.write(`ucp-backup: ${INSECURE_WARNING}\n`);
  return new UcpApiClient({
    url: url.href,
    ca,
    insecure: v.insecure,
    clientCert: bundle && { cert: bundle.cert, key: bundle.key },
    onSchemaWarning: (w) => io.stderr.write(`ucp-backup: warning: ${w}\n`),
    ...extra,
  });
}

/** Secrets come from a file's first line or stdin ("-"), never argv; errors name which secret. */
async function readSecret(path: string, what: string, io: CliIO): Promise<string> {
  try {
    return await readPassphrase(path, io);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    const why = err.message.replace(/^Cannot read passphrase file [^:]*: /, '').replace(/^Passphrase file .* is empty\.$/, 'it is empty');
    throw new ConfigError(`Cannot read the ${what} from ${path === '-' ? 'stdin' : path}: ${why.replace(/\.$/, '')}.`, SECRET_HINTS[what]);
  }
}

const SECRET_HINTS: Record<string, string> = {
  password: 'Put the UCP password on the first line of a file readable only by you (chmod 600).',
  token: 'Log in again with `ucp-backup api login ... --token-file FILE`.',
  passphrase: 'Put the backup passphrase (12+ characters) on the first line of a file readable only by you.',
};

async function login(v: Values, io: CliIO, signal: AbortSignal): Promise<number> {
  if (!v.username || !v['password-file']) throw new ConfigError('`api login` needs --username and --password-file.');
  if (!v['token-file']) throw new ConfigError('`api login` needs --token-file OUT.', 'The token is written there (mode 0600), never printed.');
  const client = await baseClient(v, io, signal);
  const token = await client.login(v.username, await readSecret(v['password-file'], 'password', io), { signal });
  await writeFile(v['token-file'], token + '\n', { mode: 0o600 });
  io.stderr.write(`Logged in to ${client.baseUrl.host} as ${v.username}; token saved to ${v['token-file']}.\n`);
  return 0;
}

async function authenticatedClient(v: Values, io: CliIO, signal: AbortSignal): Promise<UcpApiClient> {
  const tokenFile = v['token-file'];
  if (v['client-bundle']) {
    if (tokenFile || v.username) throw new ConfigError('Pass either --client-bundle or a token/password, not both.');
    return baseClient(v, io, signal);
  }
  if (!!v.username !== !!v['password-file']) throw new ConfigError('--username and --password-file go together.');
  if (!tokenFile && !v.username) {
    throw new ConfigError('Not logged in.', 'Pass --token-file FILE (see `api login`), --username NAME --password-file FILE, or --client-bundle ZIP|DIR.');
  }
  const username = v.username;
  const passwordFile = v['password-file'];
  let password: Promise<string> | undefined;
  const extra: Partial<UcpApiOptions> = {
    token: tokenFile ? await readSecret(tokenFile, 'token', io) : undefined,
    // Read once, when first needed: stdin can be read only once.
    credentials: username && passwordFile ? { username, password: () => (password ??= readSecret(passwordFile, 'password', io)) } : undefined,
    onTokenRenewed: (token) => {
      const saved = tokenFile && tokenFile !== '-';
      if (saved) writeFileSync(tokenFile, token + '\n', { mode: 0o600 });
      io.stderr.write(`The UCP token had expired: logged in again as ${username}${saved ? `; new token saved to ${tokenFile}` : ''}.\n`);
    },
  };
  return baseClient(v, io, signal, extra);
}

async function backup(client: UcpApiClient, v: Values, io: CliIO, signal: AbortSignal): Promise<number> {
  if (!v['file-name'] || !v['host-path']) throw new ConfigError('`api backup` needs --file-name NAME and --host-path DIR.');
  if (!!v['passphrase-file'] === !!v['no-passphrase']) {
    throw new ConfigError('Pass exactly one of --passphrase-file FILE and --no-passphrase.', 'UCP encrypts the backup with the passphrase; without one the archive is plain tar.');
  }
  const interval = v.interval === undefined ? 2 : Number(v.interval);
  if (!(interval > 0)) throw new ConfigError(`--interval ${v.interval}: expected seconds > 0.`);
  const req: CreateBackupRequest = { fileName: v['file-name'], hostPath: v['host-path'], includeLogs: !!v['include-logs'] };
  if (v['no-passphrase']) req.noPassphrase = true;
  else req.passphrase = await readSecret(v['passphrase-file']!, 'passphrase', io);

  const id = await client.createBackup(req, { signal });
  if (!v.wait) {
    if (v.json) printJson(io, { id });
    else io.stdout.write(id + '\n');
    return 0;
  }
  io.stderr.write(`Backup ${id} started.\n`);
  const checked = await client.waitForBackupChecked(id, {
    signal,
    intervalMs: interval * 1000,
    onUpdate: ({ record: r }) => io.stderr.write(`${r.id}: ${r.backupState}${r.shortError ? ` (${r.shortError})` : ''}\n`),
  });
  printRecord(io, checked, v.json);
  return checked.record.backupState === 'SUCCESS' ? 0 : 1;
}

/** --json: the record as UCP sent it (zero time and new fields included); text: as recordLines reads it. */
function printRecord(io: CliIO, checked: CheckedBackupRecord, json: boolean | undefined): void {
  if (json) return printJson(io, checked.record);
  const lines = recordLines(checked);
  const width = Math.max(13, ...lines.map((l) => l.field.length + 1));
  let heading = false;
  for (const l of lines) {
    if (l.kind === 'new' && !heading) {
      io.stdout.write('Fields beyond the documented Backup schema (a newer UCP):\n');
      heading = true;
    }
    io.stdout.write(`${l.field.padEnd(width)} ${l.value}\n`);
  }
}

function printTable(io: CliIO, list: CheckedBackupRecord[]): void {
  if (list.length === 0) {
    io.stdout.write('No backups.\n');
    return;
  }
  const rows = [['ID', 'STATE', 'CREATED', 'COMPLETED', 'NODE', 'PATH', 'FILE', 'ENCRYPTED', 'ERROR']];
  for (const { record: r } of list) {
    rows.push([r.id, r.backupState, formatUcpTime(r.created_at), formatUcpTime(r.completed_at), r.nodeLocation, r.backupPath, r.fileName, r.encrypted ? 'yes' : 'no', r.shortError]);
  }
  const widths = rows[0].map((_, i) => Math.max(...rows.map((row) => row[i].length)));
  for (const row of rows) io.stdout.write(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd() + '\n');
  const newFields = [...new Set(list.flatMap((c) => c.newFields))];
  if (newFields.length) io.stdout.write(`Records also carry fields beyond the documented schema: ${newFields.join(', ')} (see \`api get ID\` or --json).\n`);
}
