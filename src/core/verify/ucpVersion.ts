/**
 * The UCP version a backup was taken from, and whether a cluster can restore it.
 * Sources, best first: our manifest; the `com.docker.ucp.version` label in a container's
 * inspect document (`./ucp-*.json`); the tag of a `docker/ucp-*` or `mirantis/ucp-*` image.
 */
export const UCP_CONTAINER_JSON = /^(\.\/)?ucp-[^/]*\.json$/;

const VERSION = /^\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?$/;
const IMAGE_TAG = /(?:^|\/)ucp(?:-[a-z0-9-]+)?:(\d+\.\d+\.\d+(?:[-+][0-9A-Za-z.-]+)?)(?:@|$)/;

export interface FoundVersion {
  version: string;
  from: string;
}

/** The version in one container inspect document (a JSON object, or an array as `docker inspect` prints). */
export function versionFromInspect(text: string, entryName: string): FoundVersion | undefined {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return undefined;
  }
  const items = Array.isArray(doc) ? doc : [doc];
  for (const item of items) {
    const c = item as { Config?: { Labels?: Record<string, string>; Image?: string } };
    const label = c?.Config?.Labels?.['com.docker.ucp.version'];
    if (typeof label === 'string' && VERSION.test(label)) return { version: label, from: `label com.docker.ucp.version in ${entryName}` };
  }
  for (const item of items) {
    const image = (item as { Config?: { Image?: string } })?.Config?.Image;
    const m = typeof image === 'string' ? IMAGE_TAG.exec(image) : null;
    if (m) return { version: m[1], from: `image ${image} in ${entryName}` };
  }
  return undefined;
}

export function majorMinor(version: string): string | undefined {
  const m = /^(\d+)\.(\d+)\./.exec(version);
  return m ? `${m[1]}.${m[2]}` : undefined;
}

/** The spec: restore only on the same major.minor ("a backup of N is not for N+1"); another patch is fine. */
export function restorableOn(backupVersion: string, clusterVersion: string): { pass: boolean; reason: string } {
  const b = majorMinor(backupVersion);
  const c = majorMinor(clusterVersion);
  if (!b || !c) return { pass: false, reason: `cannot compare versions ${backupVersion} and ${clusterVersion}` };
  if (b === c) return { pass: true, reason: `backup ${backupVersion} and cluster ${clusterVersion} share version ${b}` };
  return {
    pass: false,
    reason: `backup is from UCP ${backupVersion}, the cluster runs ${clusterVersion}: restore needs the same major.minor (${b})`,
  };
}
