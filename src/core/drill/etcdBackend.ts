/**
 * Where the drill restores and serves the etcd snapshot: with the etcd on this machine's PATH
 * (`--local`, etcdLocal.ts) or in throwaway containers on a manager from the image its ucp-kv
 * runs (etcdContainer.ts, the default). The drill asks both the same three things.
 */
import { dirname, join } from 'node:path';
import type { MemberFigures, SnapshotStatus } from './etcdLocal';
import { findEtcdTools, memberFigures, restoreSnapshot, snapshotStatus, startMember, type EtcdTools, type Restored } from './etcdLocal';

export interface ServedMember {
  /** Where it answers, for the report ("http://127.0.0.1:40123", "container … on manager1"). */
  where: string;
  /** `snapshot status` of the archive's snapshot, by the same etcd version. */
  status(signal?: AbortSignal): Promise<SnapshotStatus>;
  figures(signal?: AbortSignal): Promise<MemberFigures>;
  stop(): Promise<void>;
}

export interface EtcdBackend {
  /** For the report: "etcd on this machine", "docker/ucp-etcd:3.2.4 on manager1 (--network none)". */
  readonly description: string;
  /** `snapshot restore` with its hash check into a throwaway data dir; throws EtcdToolError with why. */
  restore(snapshotFile: string, signal?: AbortSignal): Promise<void>;
  /** One member on the restored data; resolves once it answers. */
  serve(signal?: AbortSignal): Promise<ServedMember>;
  /** Removes all it made (idempotent; called in `finally`). */
  close(): Promise<void>;
}

export class LocalEtcd implements EtcdBackend {
  readonly description = 'the etcd on this machine';
  private restored?: Restored;
  private snapshot?: string;

  private constructor(private readonly tools: EtcdTools) {}

  /** Fails at once (EtcdNotInstalledError) when etcd is not on PATH: before reading a big archive. */
  static async open(): Promise<LocalEtcd> {
    return new LocalEtcd(await findEtcdTools());
  }

  /** The data dir goes beside the snapshot, in the drill's private temp dir. */
  async restore(snapshotFile: string, signal?: AbortSignal): Promise<void> {
    this.snapshot = snapshotFile;
    this.restored = await restoreSnapshot(this.tools, snapshotFile, join(dirname(snapshotFile), 'etcd-data'), signal);
  }

  async serve(signal?: AbortSignal): Promise<ServedMember> {
    const member = await startMember(this.tools, this.restored!, signal);
    return {
      where: member.clientUrl,
      status: (s) => snapshotStatus(this.tools, this.snapshot!, s),
      figures: (s) => memberFigures(member.clientUrl, s),
      stop: () => member.stop(),
    };
  }

  async close(): Promise<void> {
    // The data dir lives in the drill's temp dir, removed with it; the member is stopped by its own stop().
  }
}
