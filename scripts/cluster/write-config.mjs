// Writes .testbed/clusters.json (the schema of src/core/config.ts) and .testbed/testbed.json
// (everything tests need to reach and disturb the cluster). Run by up.sh once the cluster is up.
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const tb = join(repo, '.testbed');
const ucpVersion = '3.2.4';
const ids = [1, 2, 3];

function docker(sock, ...args) {
  return execFileSync('docker', ['-H', `unix://${sock}`, ...args], { encoding: 'utf8' }).trim();
}

const etcdEnv = (n) => ({
  ETCDCTL_API: '3',
  ETCDCTL_ENDPOINTS: `https://127.0.0.${n}:12379`,
  ETCDCTL_CACERT: '/etc/docker/ssl/ca.pem',
  ETCDCTL_CERT: '/etc/docker/ssl/cert.pem',
  ETCDCTL_KEY: '/etc/docker/ssl/key.pem',
});

const managers = ids.map((n) => {
  const d = join(tb, `manager${n}`);
  const sock = join(d, 'docker.sock');
  return {
    name: `manager${n}`,
    hostname: `manager${n}`,
    host: `127.0.0.${n}`,
    sshPort: 2200 + n,
    // On the host: manager1 is the default socket; on the node itself (over SSH, and for
    // `docker run -v /var/run/docker.sock:...`) /var/run/docker.sock is always its own dockerd.
    dockerSocket: n === 1 ? '/var/run/docker.sock' : sock,
    dockerSocketOnNode: '/var/run/docker.sock',
    dockerSocketPath: sock,
    dataRoot: join(d, 'data'),
    execRoot: join(d, 'exec'),
    dockerPidFile: join(d, 'dockerd.pid'),
    dockerLog: join(d, 'dockerd.log'),
    sshdConfig: join(d, 'sshd_config'),
    sshdPidFile: join(d, 'sshd.pid'),
    sshdLog: join(d, 'sshd.log'),
    hostKeyFile: join(d, 'ssh', 'ssh_host_ed25519_key'),
    hostPublicKey: readFileSync(join(d, 'ssh', 'ssh_host_ed25519_key.pub'), 'utf8').split(' ').slice(0, 2).join(' '),
    swarmNodeId: docker(sock, 'info', '--format', '{{.Swarm.NodeID}}'),
    backupDir: join(d, 'backups'),
    rootOwnedBackupDir: join(d, 'backups-root-owned'),
    etcd: {
      container: 'ucp-kv',
      endpoint: `https://127.0.0.${n}:12379`,
      // Set in ucp-kv's environment: `docker exec ucp-kv etcdctl snapshot save /data/x.db` just works.
      env: etcdEnv(n),
      snapshotCommand: ['etcdctl', 'snapshot', 'save', '<file inside the container>'],
    },
  };
});

const ssh = join(tb, 'ssh');
const clusters = {
  clusters: [
    {
      name: 'demo',
      ucpUrl: null,
      nodes: managers.map((m) => ({
        name: m.name,
        host: m.host,
        port: m.sshPort,
        username: 'root',
        identityFile: join(ssh, 'id_ed25519'),
        knownHostsFile: join(ssh, 'known_hosts'),
        dockerSocket: '/var/run/docker.sock',
      })),
    },
  ],
};

const testbed = {
  repo,
  testbedDir: tb,
  clustersFile: join(tb, 'clusters.json'),
  clusterName: 'demo',
  ucpVersion,
  // Every manager's sshd also listens on <its host>:commonSshPort (like port 22 on real
  // managers), with `[host]:commonSshPort` in ssh.knownHostsFile: the port that managers
  // discovered from the swarm are reached on when one manager is configured on it.
  commonSshPort: 2200,
  instanceId: readFileSync(join(tb, 'instance-id'), 'utf8').trim(),
  ssh: {
    username: 'root',
    identityFile: join(ssh, 'id_ed25519'),
    encryptedIdentityFile: join(ssh, 'id_ed25519_enc'),
    encryptedIdentityPassphrase: 'keypass-1234',
    unknownIdentityFile: join(ssh, 'id_ed25519_unknown'),
    knownHostsFile: join(ssh, 'known_hosts'),
    authorizedKeysFile: join(ssh, 'authorized_keys'),
  },
  bastion: {
    host: '127.0.0.10',
    port: 2210,
    proxyJump: 'root@127.0.0.10:2210',
    hostKeyFile: join(tb, 'bastion', 'ssh', 'ssh_host_ed25519_key'),
    sshdPidFile: join(tb, 'bastion', 'sshd.pid'),
    sshdLog: join(tb, 'bastion', 'sshd.log'),
  },
  pki: {
    clientRootCa: join(tb, 'pki', 'client-root-ca', 'cert.pem'),
    clusterRootCa: join(tb, 'pki', 'cluster-root-ca', 'cert.pem'),
  },
  nodeScript: join(repo, 'scripts', 'cluster', 'node.sh'),
  managers,
};

for (const [file, value] of [['clusters.json', clusters], ['testbed.json', testbed]]) {
  const path = join(tb, file);
  writeFileSync(`${path}.tmp`, JSON.stringify(value, null, 2) + '\n');
  renameSync(`${path}.tmp`, path);
}
