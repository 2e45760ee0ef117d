/**
 * Every error an admin can see derives from UcpError: a message that says what happened
 * and `hint` that says what to do. The VS Code layer shows both; the CLI prints both and
 * exits with `exitCode`.
 */
export class UcpError extends Error {
  constructor(
    message: string,
    readonly hint?: string,
    readonly exitCode = 2,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Wrong usage or configuration (CLI exit 2). */
export class ConfigError extends UcpError {}

/** The user or a signal cancelled the operation. */
export class CancelledError extends UcpError {
  constructor(message = 'Cancelled.') {
    super(message, undefined, 130);
  }
}

export function throwIfAborted(signal: AbortSignal | undefined): void {
  if (signal?.aborted) throw new CancelledError();
}

/** Human text for any thrown value, hint included. */
export function describeError(err: unknown): string {
  if (err instanceof UcpError) return err.hint ? `${err.message} ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}
