/**
 * Where the extension finds clusters: the `ucpBackup.clusters` setting, plus a clusters.json
 * file (the CLI's --config schema) named by the `ucpBackup.configFile` setting or the
 * UCP_BACKUP_CONFIG environment variable (the demo and the e2e tests use .testbed/clusters.json).
 * No `vscode` import: unit-tested.
 */
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { parseConfig, type ClusterConfig } from '../core/config';
import { ConfigError } from '../core/errors';

export const CONFIG_ENV = 'UCP_BACKUP_CONFIG';

export interface ClusterEntry {
  cluster: ClusterConfig;
  /** 'setting', or the config file's path (those are edited in the file, not by Remove Cluster). */
  origin: 'setting' | string;
}

/** The file path to read: the setting wins over the environment; `~` is expanded. */
export function configFilePath(setting: string | undefined, env: NodeJS.ProcessEnv = process.env): string | undefined {
  const raw = (setting && setting.trim()) || env[CONFIG_ENV]?.trim();
  if (!raw) return undefined;
  const p = raw.startsWith('~/') ? join(homedir(), raw.slice(2)) : raw;
  return isAbsolute(p) ? p : join(process.cwd(), p);
}

function readConfigFile(path: string): ClusterConfig[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    throw new ConfigError(`Cannot read the clusters file ${path}: ${(err as Error).message}`, `Fix the ucpBackup.configFile setting or the ${CONFIG_ENV} variable.`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`The clusters file ${path} is not valid JSON: ${(err as Error).message}`, 'Fix the file; its schema is the CLI --config schema.');
  }
  return parseConfig(json, path).clusters;
}

/** Setting clusters first; file clusters whose name the setting already uses are skipped. */
export function loadClusters(settingValue: unknown, filePath: string | undefined): ClusterEntry[] {
  const fromSetting = parseConfig({ clusters: structuredClone(settingValue ?? []) }, 'Setting ucpBackup.clusters').clusters;
  const out: ClusterEntry[] = fromSetting.map((cluster) => ({ cluster, origin: 'setting' }));
  if (filePath) {
    for (const cluster of readConfigFile(filePath)) {
      if (!out.some((e) => e.cluster.name === cluster.name)) out.push({ cluster, origin: filePath });
    }
  }
  return out;
}
