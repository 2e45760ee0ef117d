#!/usr/bin/env node
// Backup benchmark: `ucp-backup backup` (dist/cli.js, built-in engine) against what an admin
// would run instead, in the same run, on the test cluster's manager1:
//   ssh root@manager 'tar -C <volumes dir> -cf - <volumes>' > file         (plain)
//   ... | gpg --symmetric --batch --passphrase-file P                       (encrypted)
// Part 1: the UCP fixture as it is. Part 2: a synthetic large volume (a separate, temporary
// docker volume on manager1, removed afterwards) through the engine's own volume + encrypt/write
// pipeline (bench/backup-pipeline.ts), since `ucp-backup backup` reads only UCP's own volumes.
// Runs are interleaved (ours, theirs, ours, ...) so drift on this noisy machine hits both sides;
// we report medians, ratios theirs' time / ours' time (above 1.0 = we are faster) with the goal
// beside each, the load average before and after each variant's runs, our peak RSS
// (/usr/bin/time %M) and archive sizes. Exits 1 when a goal is missed.
// Usage: node bench/backup.mjs [--runs 5] [--synthetic-runs 5] [--size-mib 1024] [--no-synthetic | --no-fixture]
//        [--out bench/backup-results.json] [--cli dist/cli.js]        (needs: npm run build; npm run cluster:up)
//        [--skip a,b]      leave these variants out (e.g. ssh-tar-gpg: gpg's ZIP takes ~25 s per GiB)
//        [--baseline DIR]  also time DIR/bench/backup-pipeline.ts (an older copy of src/ + bench/, e.g.
//                          `git archive <commit> src bench | tar -x -C DIR`) as before-pipeline-* variants
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, mkdirSync, existsSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { fillVolume } from './benchVolume.mjs';
import { tmpdir, cpus, totalmem, loadavg } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const { values: opt } = parseArgs({
  options: {
    runs: { type: 'string', default: '5' },
    'synthetic-runs': { type: 'string', default: '5' },
    'size-mib': { type: 'string', default: '1024' },
    'no-synthetic': { type: 'boolean' },
    'no-fixture': { type: 'boolean' },
    node: { type: 'string', default: 'manager1' },
    out: { type: 'string', default: join(ROOT, 'bench', 'backup-results.json') },
    cli: { type: 'string', default: join(ROOT, 'dist', 'cli.js') },
    baseline: { type: 'string' },
    skip: { type: 'string', default: '' },
  },
});
const RUNS = Number(opt.runs);
const SYN_RUNS = Number(opt['synthetic-runs']);
const SIZE_MIB = Number(opt['size-mib']);

const testbed = JSON.parse(readFileSync(join(ROOT, '.testbed', 'testbed.json'), 'utf8'));
const manager = testbed.managers.find((m) => m.name === opt.node);
if (!manager) throw new Error(`no ${opt.node} in .testbed/testbed.json`);
const CONFIG = testbed.clustersFile;
const CLUSTER = testbed.clusterName;
const VOLUMES_DIR = join(manager.dataRoot, 'volumes');
const DOCKER = ['-H', `unix://${manager.dockerSocketPath}`];
const SSH = ['ssh', '-i', testbed.ssh.identityFile, '-o', `UserKnownHostsFile=${testbed.ssh.knownHostsFile}`, '-o', 'BatchMode=yes', '-p', String(manager.sshPort), `${testbed.ssh.username}@${manager.host}`];
const CLI = resolve(opt.cli);
if (!existsSync(CLI)) throw new Error(`${CLI} is missing: run \`npm run build\` first`);

const work = mkdtempSync(join(tmpdir(), 'ucp-bench-backup-'));
const gnupgHome = join(work, 'gnupg');
mkdirSync(gnupgHome, { mode: 0o700 });
const passFile = join(work, 'passphrase');
writeFileSync(passFile, 'bench-passphrase-' + randomBytes(6).toString('hex') + '\n', { mode: 0o600 });
const env = { ...process.env, GNUPGHOME: gnupgHome };
const q = (s) => `'${String(s).replace(/'/g, `'\\''`)}'`;
const sshCmd = SSH.map(q).join(' ');
const GPG = `gpg --batch --yes --pinentry-mode loopback --passphrase-file ${q(passFile)} --symmetric`;

/** Runs argv under /usr/bin/time; resolves wall ms, peak RSS KiB of that process, exit code. */
function timed(argv, { shell = false, extraEnv } = {}) {
  const rssFile = join(work, 'rss');
  const cmd = shell ? ['/usr/bin/time', '-f', '%M', '-o', rssFile, 'bash', '-o', 'pipefail', '-c', argv] : ['/usr/bin/time', '-f', '%M', '-o', rssFile, ...argv];
  return new Promise((resolvePromise, reject) => {
    const t0 = process.hrtime.bigint();
    const child = spawn(cmd[0], cmd.slice(1), { env: { ...env, ...extraEnv }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const ms = Number(process.hrtime.bigint() - t0) / 1e6;
      let rssKiB = NaN;
      try {
        rssKiB = Number(readFileSync(rssFile, 'utf8').trim().split('\n').pop());
      } catch {
        // no rss file: the command could not start
      }
      resolvePromise({ code, ms, rssKiB, out, err });
    });
  });
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

let retries = 0;
/**
 * One measured run of a variant. The cluster is shared: ours waits while another helper's
 * backup holds the lock (exit 3), and any run that fails (e.g. someone restarted an sshd) is
 * retried twice; failed attempts are never counted, only reported.
 */
async function runVariant(v, file) {
  let failures = 0;
  for (let attempt = 0; ; attempt++) {
    rmSync(file, { force: true });
    const r = await timed(v.cmd(file), { shell: v.shell, extraEnv: v.env });
    if (r.code === 0) return { ms: r.ms, rssKiB: r.rssKiB, bytes: statSync(file).size };
    const why = `${v.name} exited ${r.code}: ${r.err.trim().split('\n').slice(-2).join(' | ')}`;
    if (r.code === 3 && attempt < 60) {
      await sleep(2000);
      continue;
    }
    if (++failures > 2) throw new Error(why);
    retries++;
    process.stderr.write(`retrying after: ${why}\n`);
    await sleep(3000);
  }
}

const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
};

const load1 = () => Number(loadavg()[0].toFixed(2));

async function measure(title, allVariants, runs) {
  const skip = new Set(opt.skip.split(',').filter(Boolean));
  const variants = allVariants.filter((v) => !skip.has(v.name));
  process.stderr.write(`\n== ${title}: ${variants.length} variants x (1 warm-up + ${runs}) runs, interleaved\n`);
  const samples = Object.fromEntries(variants.map((v) => [v.name, []]));
  // 1-minute load average just before and just after each measured run of a variant.
  const loads = Object.fromEntries(variants.map((v) => [v.name, []]));
  for (let i = 0; i <= runs; i++) {
    for (const v of variants) {
      const before = load1();
      const r = await runVariant(v, join(work, `${v.name}.out`));
      if (i > 0) {
        samples[v.name].push(r);
        loads[v.name].push(before, load1());
      }
      process.stderr.write(`${i === 0 ? 'warm-up' : `run ${i}`.padEnd(7)} ${v.name.padEnd(28)} ${(r.ms / 1000).toFixed(2).padStart(6)} s  ${(r.bytes / 2 ** 20).toFixed(2).padStart(8)} MiB  rss ${(r.rssKiB / 1024).toFixed(0)} MiB\n`);
    }
  }
  return variants.map((v) => {
    const s = samples[v.name];
    return {
      samplesMs: s.map((x) => Math.round(x.ms)),
      name: v.name,
      what: v.what,
      ours: !!v.ours,
      runs: s.length,
      medianMs: Math.round(median(s.map((x) => x.ms))),
      minMs: Math.round(Math.min(...s.map((x) => x.ms))),
      maxMs: Math.round(Math.max(...s.map((x) => x.ms))),
      bytes: s.at(-1).bytes,
      peakRssMiB: v.ours ? Math.round(Math.max(...s.map((x) => x.rssKiB)) / 1024) : undefined,
      loadavg1: { min: Math.min(...loads[v.name]), max: Math.max(...loads[v.name]) },
    };
  });
}

/**
 * ratio: median(theirs) / median(ours), the throughput ratio: above 1.0 we are faster.
 * paired: the median of the per-round ratios; runs of one round are seconds apart, so a burst
 * of load from other work hits both sides of a pair. goal: the ratio we aim for (issue 14),
 * or undefined for a comparison that is shown for context only.
 */
function ratio(results, ours, theirs, goal) {
  const a = results.find((r) => r.name === ours);
  const b = results.find((r) => r.name === theirs);
  if (!a || !b) return undefined; // a skipped variant
  const paired = median(a.samplesMs.map((ms, i) => b.samplesMs[i] / ms));
  const r = Number((b.medianMs / a.medianMs).toFixed(2));
  return { ours, theirs, ratio: r, paired: Number(paired.toFixed(2)), goal, met: goal === undefined ? undefined : r >= goal };
}

/** Peak RSS of ours against the issue's bound. */
const RSS_GOAL_MIB = 128;

// ---- Part 1: the UCP fixture as it is ------------------------------------------------------
const CERT_VOLUMES = ['ucp-client-root-ca', 'ucp-cluster-root-ca', 'ucp-controller-server-certs'];
const ADMIN_ALL = [...CERT_VOLUMES, 'ucp-kv', 'ucp-auth-store-data'].map((v) => `${v}/_data`).join(' ');
const ADMIN_NO_ETCD = [...CERT_VOLUMES, 'ucp-auth-store-data'].map((v) => `${v}/_data`).join(' ');
const sshTar = (paths) => `${sshCmd} ${q(`tar -C ${VOLUMES_DIR} -cf - ${paths}`)}`;
const ours = (extra) => (file) => ['node', CLI, 'backup', '--config', CONFIG, '--cluster', CLUSTER, '--node', opt.node, '--engine', 'builtin', '--overwrite', '--file', file, ...extra];

const fixtureVariants = [
  { name: 'ours-plain', ours: true, what: 'ucp-backup backup --no-passphrase', cmd: ours(['--no-passphrase']) },
  { name: 'ssh-tar', what: 'ssh tar of the 5 UCP data volumes (live etcd data dir)', shell: true, cmd: (f) => `${sshTar(ADMIN_ALL)} > ${q(f)}` },
  { name: 'ssh-tar-no-etcd', what: 'ssh tar of the 3 CA/cert volumes + auth store (no etcd)', shell: true, cmd: (f) => `${sshTar(ADMIN_NO_ETCD)} > ${q(f)}` },
  { name: 'ours-encrypted', ours: true, what: 'ucp-backup backup --passphrase-file', cmd: ours(['--passphrase-file', passFile]) },
  { name: 'ssh-tar-gpg', what: 'ssh tar (5 volumes) | gpg --symmetric', shell: true, cmd: (f) => `${sshTar(ADMIN_ALL)} | ${GPG} -o ${q(f)}` },
  { name: 'ssh-tar-no-etcd-gpg', what: 'ssh tar (no etcd) | gpg --symmetric', shell: true, cmd: (f) => `${sshTar(ADMIN_NO_ETCD)} | ${GPG} -o ${q(f)}` },
];

// ---- Part 2: a synthetic large volume through the same pipeline -----------------------------
async function bundlePipeline(root = ROOT, name = 'pipeline.cjs') {
  const out = join(work, name);
  // Bundled as the CLI ships (esbuild.mjs); `root` may be an older checkout (--baseline) that
  // resolves its packages from this one.
  const { nodeBundleOptions } = await import(pathToFileURL(join(ROOT, 'esbuild.mjs')).href);
  const esbuild = await import('esbuild');
  await esbuild.build({ ...nodeBundleOptions, entryPoints: [join(root, 'bench', 'backup-pipeline.ts')], nodePaths: [join(ROOT, 'node_modules')], outfile: out, logLevel: 'warning' });
  return out;
}

const results = { parts: [] };
const docker = (...a) => execFileSync('docker', [...DOCKER, ...a], { encoding: 'utf8' }).trim();
const benchVolume = `ucp-backup-bench-${process.pid}`;
let volumeCreated = false;
const cleanup = () => {
  if (volumeCreated) {
    try {
      docker('volume', 'rm', '-f', benchVolume);
      volumeCreated = false;
    } catch (err) {
      process.stderr.write(`could not remove volume ${benchVolume} on ${opt.node}: ${err.message}\n`);
    }
  }
  try {
    execFileSync('gpgconf', ['--kill', 'gpg-agent'], { env, stdio: 'ignore' });
  } catch {
    // no agent was started
  }
  rmSync(work, { recursive: true, force: true });
};
for (const sig of ['SIGINT', 'SIGTERM']) {
  process.once(sig, () => {
    cleanup();
    process.exit(130);
  });
}

const started = Date.now();
try {
  results.machine = {
    cpus: `${cpus().length} x ${cpus()[0]?.model ?? '?'}`,
    memGiB: Math.round(totalmem() / 2 ** 30),
    node: process.version,
    gpg: execFileSync('gpg', ['--version'], { encoding: 'utf8' }).split('\n')[0],
    ssh: spawnSync('ssh', ['-V'], { encoding: 'utf8' }).stderr.trim(), // ssh -V prints to stderr
    loadavgStart: loadavg().map((x) => x.toFixed(2)).join(' '),
  };
  if (!opt['no-fixture']) {
    const fixture = await measure('UCP fixture as is', fixtureVariants, RUNS);
    results.parts.push({
      title: 'UCP 3.2.4 fixture on manager1',
      variants: fixture,
      // The fixture's ratios are context, not goals: the admin's tar copies etcd's live data dir.
      ratios: [
        ratio(fixture, 'ours-plain', 'ssh-tar'),
        ratio(fixture, 'ours-plain', 'ssh-tar-no-etcd'),
        ratio(fixture, 'ours-encrypted', 'ssh-tar-gpg'),
        ratio(fixture, 'ours-encrypted', 'ssh-tar-no-etcd-gpg'),
      ].filter(Boolean),
    });
  }

  if (!opt['no-synthetic']) {
    const pipeline = await bundlePipeline();
    docker('volume', 'create', '--label', 'com.ucp-backup.bench=1', benchVolume);
    volumeCreated = true;
    const mountpoint = docker('volume', 'inspect', '-f', '{{.Mountpoint}}', benchVolume);
    const t0 = Date.now();
    const { files } = fillVolume(mountpoint, SIZE_MIB);
    process.stderr.write(`\nfilled ${benchVolume}: ${SIZE_MIB} MiB random data in ${files} files (${((Date.now() - t0) / 1000).toFixed(1)} s)\n`);
    const before = opt.baseline ? await bundlePipeline(resolve(opt.baseline), 'before-pipeline.cjs') : undefined;
    const pipe = (extra, bundle = pipeline) => (file) => ['node', bundle, '--config', CONFIG, '--cluster', CLUSTER, '--node', opt.node, '--volume', benchVolume, '--file', file, ...extra];
    const tarVol = `${sshCmd} ${q(`tar -C ${VOLUMES_DIR} -cf - ${benchVolume}/_data`)}`;
    const synVariants = [
      { name: 'ours-pipeline-plain', ours: true, what: 'engine volume + write pipeline, no passphrase', cmd: pipe(['--no-passphrase']) },
      { name: 'ssh-tar', what: 'ssh tar of the volume', shell: true, cmd: (f) => `${tarVol} > ${q(f)}` },
      { name: 'ours-pipeline-encrypted', ours: true, what: 'engine volume + encrypt/write pipeline', cmd: pipe(['--passphrase-file', passFile]) },
      { name: 'ssh-tar-gpg', what: 'ssh tar | gpg --symmetric (defaults: ZIP compression)', shell: true, cmd: (f) => `${tarVol} | ${GPG} -o ${q(f)}` },
      // The openssh transport (src/core/ssh/opensshForward.ts): ssh forwards the Docker socket.
      { name: 'ours-pipeline-plain-openssh', ours: true, what: 'the same, transport openssh, no passphrase', env: { UCP_BACKUP_SSH_TRANSPORT: 'openssh' }, cmd: pipe(['--no-passphrase']) },
      { name: 'ours-pipeline-encrypted-openssh', ours: true, what: 'the same, transport openssh, encrypted', env: { UCP_BACKUP_SSH_TRANSPORT: 'openssh' }, cmd: pipe(['--passphrase-file', passFile]) },
      { name: 'ssh-tar-gpg-nocompress', what: 'ssh tar | gpg --symmetric --compress-algo none', shell: true, cmd: (f) => `${tarVol} | ${GPG} --compress-algo none -o ${q(f)}` },
      // Ours fsyncs the archive before renaming it into place (a backup must survive a crash);
      // these two pay the same: coreutils `sync FILE` is fsync(2).
      { name: 'ssh-tar+fsync', what: 'ssh tar > file; sync file', shell: true, cmd: (f) => `${tarVol} > ${q(f)} && sync ${q(f)}` },
      { name: 'ssh-tar-gpg-nocompress+fsync', what: 'ssh tar | gpg --compress-algo none; sync file', shell: true, cmd: (f) => `${tarVol} | ${GPG} --compress-algo none -o ${q(f)} && sync ${q(f)}` },
      ...(before
        ? [
            { name: 'before-pipeline-plain', ours: true, what: `the same pipeline from ${opt.baseline}, no passphrase`, cmd: pipe(['--no-passphrase'], before) },
            { name: 'before-pipeline-encrypted', ours: true, what: `the same pipeline from ${opt.baseline}, encrypted`, cmd: pipe(['--passphrase-file', passFile], before) },
          ]
        : []),
    ];
    const syn = await measure(`synthetic ${SIZE_MIB} MiB volume`, synVariants, SYN_RUNS);
    // The last encrypted archive of ours must open with real gpg and list every file.
    const listed = execFileSync('bash', ['-o', 'pipefail', '-c', `gpg --batch --quiet --pinentry-mode loopback --passphrase-file ${q(passFile)} --decrypt ${q(join(work, 'ours-pipeline-encrypted.out'))} | tar -t | grep -vc '/$'`], { env, encoding: 'utf8' }).trim();
    if (Number(listed) !== files) throw new Error(`gpg | tar -t listed ${listed} files of ours, expected ${files}`);
    results.parts.push({
      title: `synthetic ${SIZE_MIB} MiB volume on manager1 (${files} files, random data)`,
      check: `gpg --decrypt | tar -t of our encrypted archive: ${listed} files, as written`,
      variants: syn,
      ratios: [
        ratio(syn, 'ours-pipeline-plain', 'ssh-tar', 1.0),
        ratio(syn, 'ours-pipeline-encrypted', 'ssh-tar-gpg-nocompress', 1.0),
        ratio(syn, 'ours-pipeline-plain-openssh', 'ssh-tar'),
        ratio(syn, 'ours-pipeline-encrypted-openssh', 'ssh-tar-gpg-nocompress'),
        ratio(syn, 'ours-pipeline-encrypted', 'ssh-tar-gpg'),
        ratio(syn, 'ours-pipeline-plain', 'ssh-tar+fsync'),
        ratio(syn, 'ours-pipeline-encrypted', 'ssh-tar-gpg-nocompress+fsync'),
        ...(before
          ? [
              ratio(syn, 'before-pipeline-plain', 'ssh-tar'),
              ratio(syn, 'before-pipeline-encrypted', 'ssh-tar-gpg-nocompress'),
              // before's time / after's time: above 1.0 the change made us faster.
              ratio(syn, 'ours-pipeline-plain', 'before-pipeline-plain'),
              ratio(syn, 'ours-pipeline-encrypted', 'before-pipeline-encrypted'),
            ]
          : []),
      ].filter(Boolean),
    });
  }
  results.machine.loadavgEnd = loadavg().map((x) => x.toFixed(2)).join(' ');
  results.totalSeconds = Math.round((Date.now() - started) / 1000);
  results.failedAttemptsRetried = retries;
  results.date = new Date().toISOString();
} finally {
  cleanup();
}

const mark = (met) => (met === undefined ? '' : met ? ' ✅' : ' ❌');
let missed = 0;
for (const part of results.parts) {
  for (const r of part.ratios) if (r.met === false) missed++;
  for (const v of part.variants) {
    if (v.ours && v.peakRssMiB !== undefined && !v.name.startsWith('before-')) {
      v.rssMet = v.peakRssMiB <= RSS_GOAL_MIB;
      if (!v.rssMet) missed++;
    }
  }
}
results.goalsMissed = missed;
writeFileSync(opt.out, JSON.stringify(results, null, 2) + '\n');
const mib = (b) => (b / 2 ** 20).toFixed(b < 2 ** 20 ? 3 : 1);
for (const part of results.parts) {
  console.log(`\n### ${part.title}\n`);
  console.log(`| variant | median s (min–max) | archive MiB | load avg (1 min) during | our peak RSS MiB (goal ≤ ${RSS_GOAL_MIB}) |\n| --- | --- | --- | --- | --- |`);
  for (const v of part.variants) {
    console.log(`| ${v.name}: ${v.what.replace(/\|/g, '\\|')} | ${(v.medianMs / 1000).toFixed(2)} (${(v.minMs / 1000).toFixed(2)}–${(v.maxMs / 1000).toFixed(2)}) | ${mib(v.bytes)} | ${v.loadavg1.min}–${v.loadavg1.max} | ${v.peakRssMiB ?? ''}${mark(v.rssMet)} |`);
  }
  console.log('\n| ratio = theirs\' time / ours\' time (> 1.0: we are faster) | ratio of medians | median of paired ratios | goal |\n| --- | --- | --- | --- |');
  for (const r of part.ratios) console.log(`| ${r.theirs} / ${r.ours} | ${r.ratio}×${mark(r.met)} | ${r.paired}× | ${r.goal === undefined ? 'context' : `≥ ${r.goal.toFixed(1)}×`} |`);
  if (part.check) console.log(`\n${part.check}`);
}
console.log(`\nmachine: ${results.machine.cpus}, ${results.machine.memGiB} GiB, node ${results.machine.node}, ${results.machine.gpg}; load ${results.machine.loadavgStart} → ${results.machine.loadavgEnd}; ${results.totalSeconds} s total; ${results.failedAttemptsRetried} failed attempts retried; ${missed} goal(s) missed. JSON: ${opt.out}`);
if (missed) process.exitCode = 1;
