/**
 * Real certificates for drill tests, made by openssl at test time: UCP's two root CAs and a
 * controller server certificate signed by the cluster CA, plus the broken variants an admin
 * may meet (expiring soon, expired, another key, signed by a foreign CA). Returned as the
 * layout's file names (test/helpers/archives.ts `replace`).
 */
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';

export type ServerVariant = 'good' | 'expiring' | 'expired' | 'wrongKey' | 'foreignCa';

function openssl(dir: string, args: string[]): void {
  execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
}

function ca(dir: string, name: string, cn: string): void {
  openssl(dir, ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', `${name}.key`, '-out', `${name}.pem`, '-days', '3650', '-subj', `/CN=${cn}`]);
}

/** A server certificate for `variant`, signed by CA `caName` (a file pair in `dir`). */
function server(dir: string, out: string, caName: string, days: number): void {
  openssl(dir, ['req', '-new', '-newkey', 'rsa:2048', '-nodes', '-keyout', `${out}.key`, '-subj', '/CN=ucp-controller', '-out', `${out}.csr`]);
  // -days -1 gives a notAfter one day in the past: an expired certificate, really signed.
  openssl(dir, ['x509', '-req', '-in', `${out}.csr`, '-CA', `${caName}.pem`, '-CAkey', `${caName}.key`, '-days', String(days), '-out', `${out}.pem`]);
}

export function makePki(dir: string, variant: ServerVariant = 'good'): Record<string, string> {
  ca(dir, 'cluster', 'UCP Cluster Root CA');
  ca(dir, 'client', 'UCP Client Root CA');
  const days = variant === 'expiring' ? 10 : variant === 'expired' ? -1 : 720;
  if (variant === 'foreignCa') ca(dir, 'foreign', 'Someone Else CA');
  server(dir, 'server', variant === 'foreignCa' ? 'foreign' : 'cluster', days);
  if (variant === 'wrongKey') openssl(dir, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', 'server.key']);
  const f = (n: string) => readFileSync(join(dir, n), 'utf8');
  return {
    'ucp-cluster-root-ca/cert.pem': f('cluster.pem'),
    'ucp-cluster-root-ca/key.pem': f('cluster.key'),
    'ucp-client-root-ca/cert.pem': f('client.pem'),
    'ucp-client-root-ca/key.pem': f('client.key'),
    'ucp-controller-server-certs/ca.pem': f('cluster.pem'),
    'ucp-controller-server-certs/cert.pem': f('server.pem'),
    'ucp-controller-server-certs/key.pem': f('server.key'),
  };
}
