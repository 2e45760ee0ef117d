/**
 * Whether the node's Docker Engine went away under a run: stopped (it no longer answers) or
 * restarted (its UCP containers started again since the run began). Either is the cause of
 * whatever broke (an HTTP 500 "database not open", a cut stream, a `ucp` image "Cancelled"),
 * and is what the admin must hear.
 */
import type Docker from 'dockerode';
import { UcpError } from '../errors';
import type { StepName } from '../progress';
import { within } from './dockerStreams';
import { SwarmQuorumError, swarmQuorumError } from './errors';

/** How long the engine may take to answer the question. */
const ASK_WAIT_MS = 3000;

export class EngineInterruptedError extends UcpError {
  constructor(node: string, how: 'stopped' | 'restarted', step: StepName) {
    super(
      `The Docker Engine on ${node} ${how === 'stopped' ? 'stopped' : 'restarted (its UCP containers started again)'} during the ${step} step; the backup is incomplete and nothing was published.`,
      how === 'stopped'
        ? 'Start it again (systemctl start docker), wait until its UCP containers run, then run the backup again. The lock this run held is released by its lease running out if it could not be released now.'
        : 'Wait until its UCP containers run again (docker ps on that node), then run the backup again.',
      1,
    );
  }
}

/** When the node's `ucp-kv` container last started: it starts again whenever the engine does. */
export async function engineMark(docker: Docker, kvId: string | undefined): Promise<string | undefined> {
  if (!kvId) return undefined;
  return (await docker.getContainer(kvId).inspect().catch(() => undefined))?.State?.StartedAt;
}

/** After a failure: the engine's stop or restart since `mark`, if that is what happened. */
export async function engineInterruption(docker: Docker, node: string, kvId: string | undefined, mark: string | undefined, step: StepName): Promise<EngineInterruptedError | undefined> {
  const answered = await within(docker.ping().then(() => true, () => false), ASK_WAIT_MS, () => false);
  if (!answered) return new EngineInterruptedError(node, 'stopped', step);
  if (!mark) return undefined;
  const now = await within(engineMark(docker, kvId), ASK_WAIT_MS, () => undefined);
  return now !== undefined && now !== mark ? new EngineInterruptedError(node, 'restarted', step) : undefined;
}

/** After a failure: the swarm lost its leader (quorum) meanwhile, as `docker info` on the node says at once. */
export async function quorumLost(docker: Docker): Promise<SwarmQuorumError | undefined> {
  const info = (await within(docker.info().catch(() => undefined), ASK_WAIT_MS, () => undefined)) as { Swarm?: { Error?: string } } | undefined;
  return swarmQuorumError(info?.Swarm?.Error);
}
