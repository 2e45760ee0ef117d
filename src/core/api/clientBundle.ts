/**
 * A UCP client bundle (My Profile → Client Bundles), as its zip or unzipped: its ca.pem verifies UCP,
 * cert.pem + key.pem identify the user by mutual TLS, without a token. Shared by the CLI's
 * --client-bundle and, later, VS Code's "client bundle" cluster.
 */
import { readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors';
import { parseCaBundle } from './caTrust';
import { zipTextFiles } from './zipEntries';

export interface ClientBundleFiles {
  ca: string;
  cert: string;
  key: string;
}

/** Checks the three files fit together; `where` names the bundle in messages. */
export function checkClientBundle(files: ClientBundleFiles, where: string): ClientBundleFiles {
  parseCaBundle(files.ca, join(where, 'ca.pem'));
  try {
    // Fails here, with a clear message, when key.pem does not belong to cert.pem.
    createSecureContext({ cert: files.cert, key: files.key });
  } catch (err) {
    throw new ConfigError(`The client bundle ${where} is unusable: ${(err as Error).message}.`, 'cert.pem and key.pem must come from the same bundle: unzip it again.');
  }
  return files;
}

export async function readClientBundleFolder(dir: string): Promise<ClientBundleFiles> {
  const read = async (name: string) => {
    try {
      return await readFile(join(dir, name), 'utf8');
    } catch (err) {
      throw new ConfigError(`Cannot read ${name} of the client bundle ${dir}: ${(err as Error).message}.`, 'Unzip the bundle from UCP (My Profile → Client Bundles → New Client Bundle) and pass its folder.');
    }
  };
  return checkClientBundle({ ca: await read('ca.pem'), cert: await read('cert.pem'), key: await read('key.pem') }, dir);
}

const BUNDLE_FILES = ['ca.pem', 'cert.pem', 'key.pem'] as const;

/** The bundle zip as UCP downloads it (ucp-bundle-<user>.zip); the files may sit in a folder inside. */
export async function readClientBundleZip(path: string): Promise<ClientBundleFiles> {
  let zip: Buffer;
  try {
    zip = await readFile(path);
  } catch (err) {
    throw new ConfigError(`Cannot read the client bundle ${path}: ${(err as Error).message}.`, 'Pass the zip UCP gave (My Profile → Client Bundles) or its unzipped folder.');
  }
  const files = zipTextFiles(zip, BUNDLE_FILES, path);
  const missing = BUNDLE_FILES.filter((f) => !files.has(f));
  if (missing.length) throw new ConfigError(`The client bundle ${path} has no ${missing.join(', ')}.`, 'Download the client bundle again from UCP (My Profile → Client Bundles).');
  return checkClientBundle({ ca: files.get('ca.pem')!, cert: files.get('cert.pem')!, key: files.get('key.pem')! }, path);
}

/** A folder is read as unzipped, anything else as the zip. */
export async function readClientBundle(path: string): Promise<ClientBundleFiles> {
  const isFolder = await stat(path).then((s) => s.isDirectory(), () => false);
  return isFolder ? readClientBundleFolder(path) : readClientBundleZip(path);
}
