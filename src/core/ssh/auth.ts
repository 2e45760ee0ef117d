/**
 * The public-key methods offered to sshd, in ssh's order: ssh-agent keys first, then the
 * identity files. Encrypted keys are decrypted once (the passphrase is asked through the
 * caller, which keeps it in SecretStorage) and cached for reconnects of the same session.
 */
import { readFile } from 'node:fs/promises';
import { utils, type ParsedKey } from 'ssh2';
import { ConfigError } from '../errors';
import type { ResolvedEndpoint } from './sshConfig';
import { AuthFailedError } from './errors';

export type KeyCache = Map<string, ParsedKey>;

export type AuthMethodList = { label: string; method: Record<string, unknown> }[];

function asKey(parsed: ParsedKey | ParsedKey[] | Error): ParsedKey | Error {
  return Array.isArray(parsed) ? parsed[0] : parsed;
}

async function loadKey(
  file: string,
  explicit: boolean,
  cache: KeyCache,
  askPassphrase: ((file: string) => Promise<string | undefined>) | undefined,
  ep: ResolvedEndpoint,
  log: (line: string) => void,
): Promise<ParsedKey | undefined> {
  const cached = cache.get(file);
  if (cached) return cached;
  let data: Buffer;
  try {
    data = await readFile(file);
  } catch (err) {
    // Default ~/.ssh/id_* files are optional, as in ssh; a named one must exist.
    if (!explicit) return undefined;
    throw new ConfigError(`Cannot read identity file ${file}: ${(err as Error).message}`, 'Fix "identityFile" in the cluster configuration or the IdentityFile in your SSH config.');
  }
  let key = asKey(utils.parseKey(data) as ParsedKey | ParsedKey[] | Error);
  if (key instanceof Error && /passphrase/i.test(key.message)) {
    const passphrase = askPassphrase ? await askPassphrase(file) : undefined;
    if (passphrase === undefined) {
      log(`skipping ${file}: it is passphrase-protected and no passphrase was given`);
      return undefined;
    }
    key = asKey(utils.parseKey(data, passphrase) as ParsedKey | ParsedKey[] | Error);
    if (key instanceof Error) {
      throw new AuthFailedError(ep, ep.username, `wrong passphrase for ${file}`);
    }
  }
  if (key instanceof Error) {
    if (!explicit) return undefined;
    throw new ConfigError(`Identity file ${file} is not a private key ssh2 can read: ${key.message}`, 'Use an OpenSSH or PEM private key (ed25519, ecdsa or rsa).');
  }
  cache.set(file, key);
  return key;
}

export async function authMethodsFor(
  ep: ResolvedEndpoint,
  cache: KeyCache,
  askPassphrase: ((file: string) => Promise<string | undefined>) | undefined,
  log: (line: string) => void,
): Promise<AuthMethodList> {
  const methods: AuthMethodList = [];
  if (ep.agentSocket) methods.push({ label: 'agent', method: { type: 'agent', username: ep.username, agent: ep.agentSocket } });
  for (const file of ep.identityFiles) {
    const key = await loadKey(file, ep.explicitIdentity, cache, askPassphrase, ep, log);
    if (key) methods.push({ label: `publickey:${file}`, method: { type: 'publickey', username: ep.username, key } });
  }
  if (methods.length === 0) {
    throw new AuthFailedError(ep, ep.username, 'no usable key: no identity file could be read and no ssh-agent is running (SSH_AUTH_SOCK)');
  }
  return methods;
}
