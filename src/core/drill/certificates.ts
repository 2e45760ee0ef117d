/**
 * Are the archive's certificates usable after a restore? For each CA volume
 * (`ucp-*-root-ca`: cert.pem + key.pem) and for `ucp-controller-server-certs`: the key
 * matches the certificate, the server certificate chains to a CA the archive holds, and the
 * days left. Node's X509Certificate does the cryptography; nothing here parses ASN.1.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { check, type DrillCheck, type DrillStatus } from './report';

export const SERVER_CERTS = 'ucp-controller-server-certs';
/** Under this many days left a certificate is a WARN: time to renew before relying on the backup. */
export const EXPIRY_WARN_DAYS = 30;
const DAY = 86_400_000;
/** Leaf → intermediates → CA: real chains are short; a longer walk is a loop or garbage. */
const MAX_CHAIN = 5;

export function certificateChecks(pems: Map<string, Buffer>, now = new Date()): DrillCheck[] {
  const checks: DrillCheck[] = [];
  const volumes = [...new Set([...pems.keys()].map((k) => k.split('/')[0]))].sort();
  const caVolumes = volumes.filter((v) => /-ca$/.test(v));
  const cas: { volume: string; cert: X509Certificate }[] = [];

  if (caVolumes.length === 0) checks.push(check('certificate', 'CA certificates', 'FAIL', 'no ucp-*-root-ca/cert.pem in the archive'));
  for (const v of caVolumes) {
    const title = `CA ${v}`;
    const parsed = parseCerts(pems.get(`${v}/cert.pem`));
    if (typeof parsed === 'string') {
      checks.push(check('certificate', title, 'FAIL', `${v}/cert.pem: ${parsed}`));
      continue;
    }
    const cert = parsed[0];
    cas.push({ volume: v, cert });
    const problems: Finding[] = [keyFinding(pems.get(`${v}/key.pem`), cert, `${v}/key.pem`)];
    if (!cert.ca) problems.push({ status: 'FAIL', text: 'cert.pem is not a CA certificate (basicConstraints CA:FALSE or absent)' });
    problems.push(expiryFinding(cert, now));
    checks.push(summarize(title, problems));
  }

  const title = `Server certificate ${SERVER_CERTS}`;
  const leafChain = parseCerts(pems.get(`${SERVER_CERTS}/cert.pem`));
  if (typeof leafChain === 'string') {
    checks.push(check('certificate', title, 'FAIL', `${SERVER_CERTS}/cert.pem: ${leafChain}`));
    return checks;
  }
  const leaf = leafChain[0];
  const caPem = parseCerts(pems.get(`${SERVER_CERTS}/ca.pem`));
  const pool = [...leafChain.slice(1), ...(typeof caPem === 'string' ? [] : caPem)];
  checks.push(summarize(title, [keyFinding(pems.get(`${SERVER_CERTS}/key.pem`), leaf, `${SERVER_CERTS}/key.pem`), chainFinding(leaf, pool, cas), expiryFinding(leaf, now)]));
  return checks;
}

interface Finding {
  status: DrillStatus;
  text: string;
}

/** One row per certificate: the worst finding decides, every finding is in the reason. */
function summarize(title: string, findings: Finding[]): DrillCheck {
  const status: DrillStatus = findings.some((f) => f.status === 'FAIL') ? 'FAIL' : findings.some((f) => f.status === 'WARN') ? 'WARN' : 'PASS';
  return check('certificate', title, status, findings.map((f) => f.text).join('; '));
}

function parseCerts(pem: Buffer | undefined): X509Certificate[] | string {
  if (!pem) return 'missing';
  const blocks = pem.toString('latin1').match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g);
  if (!blocks) return 'no PEM certificate in it';
  try {
    return blocks.map((b) => new X509Certificate(b));
  } catch (err) {
    return `not a readable X.509 certificate (${(err as Error).message})`;
  }
}

function keyFinding(pem: Buffer | undefined, cert: X509Certificate, name: string): Finding {
  if (!pem) return { status: 'FAIL', text: `${name} missing` };
  let key;
  try {
    key = createPrivateKey(pem);
  } catch (err) {
    return { status: 'FAIL', text: `${name} is not a readable private key (${(err as Error).message})` };
  }
  return cert.checkPrivateKey(key) ? { status: 'PASS', text: 'key matches the certificate' } : { status: 'FAIL', text: `${name} does not match the certificate (another key)` };
}

function expiryFinding(cert: X509Certificate, now: Date): Finding {
  const to = new Date(cert.validTo);
  const from = new Date(cert.validFrom);
  // Rounded for the text; the WARN and FAIL limits compare exact times.
  const days = Math.round((to.getTime() - now.getTime()) / DAY);
  const date = to.toISOString().slice(0, 10);
  if (to.getTime() <= now.getTime()) return { status: 'FAIL', text: `expired on ${date} (${-days} days ago)` };
  if (from.getTime() > now.getTime()) return { status: 'WARN', text: `not valid before ${from.toISOString().slice(0, 10)}` };
  if (to.getTime() - now.getTime() < EXPIRY_WARN_DAYS * DAY) return { status: 'WARN', text: `expires in ${days} days (${date}): renew it` };
  return { status: 'PASS', text: `valid ${days} more days (until ${date})` };
}

/** Walks issuer links (issuer name and signature) from the leaf until a CA the archive holds in a CA volume. */
function chainFinding(leaf: X509Certificate, pool: X509Certificate[], cas: { volume: string; cert: X509Certificate }[]): Finding {
  if (cas.length === 0) return { status: 'FAIL', text: 'no CA in the archive to chain to' };
  let cert = leaf;
  const path: string[] = [];
  for (let i = 0; i < MAX_CHAIN; i++) {
    const ca = cas.find((c) => issued(c.cert, cert));
    if (ca) return { status: 'PASS', text: `chains to ${ca.volume}${path.length ? ` through ${path.join(', ')}` : ''}` };
    const next = pool.find((p) => p !== cert && issued(p, cert));
    if (!next) break;
    path.push(next.subject.replace(/\n/g, ', '));
    cert = next;
  }
  const issuer = cert.issuer.replace(/\n/g, ', ');
  return { status: 'FAIL', text: `does not chain to a CA the archive holds (${cas.map((c) => c.volume).join(', ')}): issued by ${issuer}` };
}

function issued(issuer: X509Certificate, cert: X509Certificate): boolean {
  try {
    return cert.checkIssued(issuer) && cert.verify(issuer.publicKey);
  } catch {
    return false;
  }
}
