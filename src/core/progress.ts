/**
 * Progress events of long operations. Steps are the spec's ("Progress is updated for each
 * backup step, for example, after validation, after volumes are backed up, after etcd is
 * backed up, and after rethinkDB"), plus our own encrypt/write and verify steps.
 */
export type StepName =
  | 'validation'
  | 'metadata'
  | 'volumes'
  | 'etcd'
  | 'rethinkdb'
  | 'write'
  | 'download'
  | 'verify';

export interface ProgressEvent {
  step: StepName;
  /** Human text, e.g. "Backing up volume ucp-cluster-root-ca". */
  message: string;
  /** Bytes processed so far in this step, when known. */
  bytes?: number;
  /** 0..100 for the whole operation, when known. */
  percent?: number;
}

export type ProgressSink = (event: ProgressEvent) => void;
