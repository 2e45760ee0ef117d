/** Compare reads older → newer whichever backup was picked first: "added" is what the newer one has more. Pure. */
import type { BackupRecord } from '../core/history/record';

export function olderFirst<T extends { record?: BackupRecord }>(x: T, y: T): [T, T] {
  const a = x.record;
  const b = y.record;
  return a && b && Date.parse(a.created_at) > Date.parse(b.created_at) ? [y, x] : [x, y];
}
