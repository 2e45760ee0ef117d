/** Typed access to the webview API VS Code injects; messages and state use the shared protocol. */
import type { WebviewMessage, WebviewState } from '../../src/shared/protocol';

export interface VsCodeApi {
  postMessage(message: WebviewMessage): void;
  getState(): WebviewState | undefined;
  setState(state: WebviewState): void;
}

declare function acquireVsCodeApi(): VsCodeApi;

/** acquireVsCodeApi may be called only once per webview. */
export function getVsCodeApi(): VsCodeApi {
  return acquireVsCodeApi();
}
