/**
 * Helper containers need an image that is already on the node (no registry pull): one of
 * UCP's own images. Writing to a host folder also needs a shell (`sh`, `cat`, `mv`), probed
 * with `HEAD archive` on a never-started container.
 */
import type Docker from 'dockerode';
import { createHelper, removeQuietly } from './dockerStreams';
import type { UcpNodeInfo } from './ucpNode';
import { UcpNotFoundError } from './errors';

const PREFERRED = ['ucp-proxy', 'ucp-agent', 'ucp-controller', 'ucp-kv'];

export async function pickHelperImage(docker: Docker, node: UcpNodeInfo, runId: string, needShell: boolean): Promise<string> {
  const rank = (name: string) => {
    const i = PREFERRED.findIndex((p) => name === p || name.startsWith(p + '.'));
    return i < 0 ? PREFERRED.length : i;
  };
  const images = [...new Set([...node.containers].sort((a, b) => rank(a.name) - rank(b.name)).map((c) => c.image))];
  if (!needShell) return images[0];
  for (const image of images) {
    let probe: Docker.Container | undefined;
    try {
      probe = await createHelper(docker, { runId, purpose: 'probe', Image: image, Entrypoint: ['/ucp-backup-helper-never-started'] });
      await probe.infoArchive({ path: '/bin/sh' });
      return image;
    } catch {
      // No shell in this image: try the next.
    } finally {
      await removeQuietly(probe);
    }
  }
  throw new UcpNotFoundError(node.hostname, `none of the UCP images on the node has a shell to write into the host folder (${images.join(', ')})`);
}
