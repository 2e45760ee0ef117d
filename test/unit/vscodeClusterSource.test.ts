/**
 * Where the extension finds clusters: the ucpBackup.clusters setting plus a clusters.json
 * named by ucpBackup.configFile or UCP_BACKUP_CONFIG (what the demo and e2e use).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { CONFIG_ENV, configFilePath, loadClusters } from '../../src/vscode/clusterSource';

const dir = mkdtempSync(join(tmpdir(), 'ucp-clusters-'));
const file = join(dir, 'clusters.json');
writeFileSync(file, JSON.stringify({ clusters: [{ name: 'demo', nodes: [{ host: '127.0.0.1', port: 2201 }] }, { name: 'prod', nodes: [{ host: 'p1' }] }] }));

test('the setting names the file; else UCP_BACKUP_CONFIG; ~ is expanded', () => {
  assert.equal(configFilePath('/a/b.json', { [CONFIG_ENV]: '/c.json' }), '/a/b.json');
  assert.equal(configFilePath('', { [CONFIG_ENV]: '/c.json' }), '/c.json');
  assert.equal(configFilePath(undefined, {}), undefined);
  assert.equal(configFilePath('~/x.json', {}), join(homedir(), 'x.json'));
});

test('clusters come from the setting, then from the file; the setting wins a name clash', () => {
  const entries = loadClusters([{ name: 'prod', nodes: [{ host: 'from-setting' }] }], file);
  assert.deepEqual(entries.map((e) => [e.cluster.name, e.origin]), [['prod', 'setting'], ['demo', file]]);
  assert.equal(entries[0].cluster.nodes[0].host, 'from-setting');
  // Nodes without a name are named after their host (as the CLI does).
  assert.equal(entries[1].cluster.nodes[0].name, '127.0.0.1');
});

test('a broken file or setting is an error with a hint, not an empty tree', () => {
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{ not json');
  assert.throws(() => loadClusters([], bad), /not valid JSON/);
  assert.throws(() => loadClusters([], join(dir, 'missing.json')), (err: Error & { hint?: string }) => /Cannot read/.test(err.message) && /UCP_BACKUP_CONFIG/.test(err.hint ?? ''));
  assert.throws(() => loadClusters([{ name: 'x', nodes: [] }], undefined), /lists no nodes/);
});

test('the setting value is not mutated (VS Code hands out frozen objects)', () => {
  const setting = Object.freeze([Object.freeze({ name: 'a', nodes: Object.freeze([Object.freeze({ host: 'h' })]) })]);
  const entries = loadClusters(setting, undefined);
  assert.equal(entries[0].cluster.nodes[0].name, 'h');
});
