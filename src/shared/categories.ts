/**
 * The spec's "UCP backup contents" grouping, applied to archive member names
 * (layout: /work/shared/spec/real-backup-layout.md).
 */

export type Category = 'certificates' | 'etcd' | 'authStore' | 'containerMetadata' | 'other';

export const CATEGORY_ORDER: readonly Category[] = ['certificates', 'etcd', 'authStore', 'containerMetadata', 'other'];

export const CATEGORY_LABELS: Record<Category, string> = {
  certificates: 'Certificates and keys',
  etcd: 'etcd (Kubernetes state)',
  authStore: 'Auth store (users, teams, RBAC)',
  containerMetadata: 'Container metadata',
  other: 'Other',
};

/** Spec, "Data not included in the backup" and the "no" rows of its contents table. */
export const NOT_BACKED_UP: readonly { name: string; why: string }[] = [
  { name: 'ucp-metrics-data', why: "the metrics server's data" },
  { name: 'ucp-node-certs', why: 'certificates used to lock down UCP system components' },
  { name: 'Routing mesh (Interlock L7) settings', why: 'back up and restore them manually' },
  { name: 'Overlay networks', why: 'Swarm-mode overlay network definitions, including port information' },
  { name: 'Swarm configs and secrets', why: 'create a Swarm backup for these' },
  { name: 'Services and stacks', why: 'stored in Swarm mode or your SCM / config management' },
];

// UCP certificate volumes (UCP 3.x named volumes); each is archived as ./<volume>/...
const CERT_VOLUMES = /^(ucp-client-root-ca|ucp-cluster-root-ca|ucp-controller-server-certs|ucp-controller-client-certs|ucp-auth-api-certs|ucp-auth-store-certs|ucp-auth-worker-certs|ucp-kv-certs)(\/|$)/;

export function categorize(name: string): Category {
  const n = name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');
  if (CERT_VOLUMES.test(n)) return 'certificates';
  // ./ucp-backup/<epoch-ms>/etcd.backup.db is an etcd snapshot of ucp-kv.
  if (/^ucp-backup\/[^/]+\/etcd[^/]*$/.test(n) || /^ucp-kv(\/|$)/.test(n)) return 'etcd';
  // ./ucp-backup/<epoch-ms>/auth-store.tar.gz is the RethinkDB auth store dump.
  if (/^ucp-backup\/[^/]+\/auth-store[^/]*$/.test(n) || /^ucp-auth-(store|worker)-data(\/|$)/.test(n)) return 'authStore';
  // ./<container>.json at the top level: `docker inspect` of each UCP container.
  if (/^[^/]+\.json$/.test(n)) return 'containerMetadata';
  if (/\.(pem|key|crt)$/.test(n)) return 'certificates';
  return 'other';
}
