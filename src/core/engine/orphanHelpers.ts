/**
 * Helpers that no record owns — a verify's or drill's read-only view of a host-path backup —
 * carry their owner (this machine's hostname and process id). A verify killed outright cannot
 * remove its helper, and backups only remove helpers of records they judge dead; so the next
 * verify or drill removes those whose owner on this machine is gone, and any such helper
 * older than a day (an owner elsewhere whose process died: no verify runs for a day).
 */
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { pidAlive } from '../lock/lease';
import { HELPER_LABEL, removeQuietly } from './dockerStreams';

export const OWNER_HOST_LABEL = 'com.ucp-backup.owner-host';
export const OWNER_PID_LABEL = 'com.ucp-backup.owner-pid';
const ORPHAN_AGE_MS = 24 * 3600_000;

/** Labels naming this process as the helper's owner. */
export function ownerLabels(): Record<string, string> {
  return { [OWNER_HOST_LABEL]: hostname(), [OWNER_PID_LABEL]: String(process.pid) };
}

/** Removes owner-labelled helpers whose owner is gone; returns their names. */
export async function removeOrphanHelpers(docker: Docker, now = Date.now()): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [HELPER_LABEL, OWNER_PID_LABEL] } }).catch(() => []);
  const here = hostname();
  const removed: string[] = [];
  for (const c of list) {
    const pid = Number(c.Labels[OWNER_PID_LABEL]);
    const mineGone = c.Labels[OWNER_HOST_LABEL] === here && Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
    const old = now - c.Created * 1000 > ORPHAN_AGE_MS;
    if (!mineGone && !old) continue;
    await removeQuietly(docker.getContainer(c.Id));
    removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12));
  }
  return removed;
}
