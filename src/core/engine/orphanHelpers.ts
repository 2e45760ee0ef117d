/**
 * Helpers that no record owns — a verify's or drill's read-only view of a host-path backup —
 * carry their owner (this machine's hostname, boot id and process id). A verify killed outright cannot
 * remove its helper, and backups only remove helpers of records they judge dead; so the next
 * verify or drill removes those whose owner on this machine is gone, and any such helper
 * older than a day (an owner elsewhere whose process died: no verify runs for a day).
 */
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type Docker from 'dockerode';
import { pidAlive } from '../lock/lease';
import { HELPER_LABEL, removeQuietly } from './dockerStreams';

export const OWNER_HOST_LABEL = 'com.ucp-backup.owner-host';
export const OWNER_PID_LABEL = 'com.ucp-backup.owner-pid';
/** This boot of this machine: cloned machines share a hostname, never a boot id. */
export const OWNER_BOOT_LABEL = 'com.ucp-backup.owner-boot';

function bootId(): string {
  try {
    return readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  } catch {
    return ''; // not Linux: the hostname and pid alone
  }
}
const ORPHAN_AGE_MS = 24 * 3600_000;

/** Labels naming this process as the helper's owner. */
export function ownerLabels(): Record<string, string> {
  return { [OWNER_HOST_LABEL]: hostname(), [OWNER_PID_LABEL]: String(process.pid), [OWNER_BOOT_LABEL]: bootId() };
}

/** Removes owner-labelled helpers whose owner is gone; returns their names. */
export async function removeOrphanHelpers(docker: Docker, now = Date.now()): Promise<string[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [HELPER_LABEL, OWNER_PID_LABEL] } }).catch(() => []);
  const here = hostname();
  const boot = bootId();
  const removed: string[] = [];
  for (const c of list) {
    const pid = Number(c.Labels[OWNER_PID_LABEL]);
    const mine = c.Labels[OWNER_HOST_LABEL] === here && (c.Labels[OWNER_BOOT_LABEL] ?? '') === boot;
    const mineGone = mine && Number.isInteger(pid) && pid > 0 && !pidAlive(pid);
    const old = now - c.Created * 1000 > ORPHAN_AGE_MS;
    if (!mineGone && !old) continue;
    await removeQuietly(docker.getContainer(c.Id));
    removed.push(c.Names[0]?.replace(/^\//, '') ?? c.Id.slice(0, 12));
  }
  return removed;
}
