/**
 * A UCP client bundle (My Profile → Client Bundles), unzipped: its ca.pem verifies UCP,
 * cert.pem + key.pem identify the user by mutual TLS, without a token. Shared by the CLI's
 * --client-bundle and, later, VS Code's "client bundle" cluster.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { ConfigError } from '../errors';
import { parseCaBundle } from './caTrust';

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
