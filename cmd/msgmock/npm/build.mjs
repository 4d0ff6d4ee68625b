#!/usr/bin/env node
// Builds msgmock's npm packages from this checkout into OUT:
//
//   npm ci --prefix cmd/msgmock/npm          # TypeScript, once
//   node cmd/msgmock/npm/build.mjs [--version 1.2.3] [--jobs N] OUT
//
// OUT/msgmock is the main package (the `msgmock` launcher, the TypeScript
// client compiled to lib/ with its .d.ts); OUT/<os>-<cpu> are the platform
// packages (@msgmock/linux-x64 …), each one Go binary cross-compiled with
// CGO_ENABLED=0 and -trimpath, its version stamped with -X main.version.
// Every package.json carries the same version, and the main package lists
// the platform packages as optionalDependencies of exactly that version.
// `npm pack OUT/*` then makes the tarballs. OUT is emptied of what a
// previous build wrote there; keep it outside the source tree (or under
// dist/, which git ignores).

import { spawn } from 'node:child_process';
import { chmod, copyFile, mkdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { availableParallelism } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const repoRoot = resolve(here, '..', '..', '..');
const require = createRequire(import.meta.url);

function usage(problem) {
  console.error(`build.mjs: ${problem}\nusage: node cmd/msgmock/npm/build.mjs [--version SEMVER] [--jobs N] OUT`);
  process.exit(2);
}

function parseArgs(argv) {
  const opts = { version: '0.0.0-dev', jobs: availableParallelism(), out: '' };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--version' || a === '--jobs') {
      if (i + 1 >= argv.length) usage(`${a} needs a value`);
      opts[a.slice(2)] = argv[++i];
    } else if (a.startsWith('-')) {
      usage(`unknown flag ${a}`);
    } else if (opts.out) {
      usage(`one output directory only (got ${opts.out} and ${a})`);
    } else {
      opts.out = resolve(a);
    }
  }
  if (!opts.out) usage('no output directory');
  // semver.org's grammar, as npm requires it.
  if (!/^(0|[1-9]\d*)\.(0|[1-9]\d*)\.(0|[1-9]\d*)(-[0-9A-Za-z.-]+)?(\+[0-9A-Za-z.-]+)?$/.test(opts.version)) {
    usage(`--version ${opts.version} is not a semantic version such as 1.2.3 or 0.1.0-rc.1`);
  }
  opts.jobs = Number(opts.jobs);
  if (!Number.isInteger(opts.jobs) || opts.jobs < 1) usage('--jobs takes a whole number ≥ 1');
  return opts;
}

/** Compiles src/*.ts into dir (CommonJS and .d.ts), failing on any diagnostic. */
function compileClient(dir) {
  let ts;
  try {
    ts = require('typescript');
  } catch {
    throw new Error('the TypeScript compiler is not installed: run npm ci --prefix cmd/msgmock/npm');
  }
  const configPath = join(here, 'tsconfig.json');
  const { config, error } = ts.readConfigFile(configPath, ts.sys.readFile);
  if (error) throw new Error(ts.flattenDiagnosticMessageText(error.messageText, '\n'));
  const parsed = ts.parseJsonConfigFileContent(config, ts.sys, here, { outDir: dir }, configPath);
  const program = ts.createProgram(parsed.fileNames, parsed.options);
  const emitted = program.emit();
  const diagnostics = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics];
  if (diagnostics.length > 0) {
    const host = { getCanonicalFileName: (f) => f, getCurrentDirectory: () => here, getNewLine: () => '\n' };
    throw new Error(`TypeScript:\n${ts.formatDiagnostics(diagnostics, host)}`);
  }
}

function run(cmd, args, options) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(cmd, args, { ...options, stdio: ['ignore', 'inherit', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolvePromise() : reject(new Error(`${cmd} ${args.join(' ')} exited with ${code}\n${stderr}`)),
    );
  });
}

/** Runs tasks with at most n at a time; rejects with the first failure after all have ended. */
async function limited(n, tasks) {
  const results = [];
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]().then(
        (value) => ({ value }),
        (error) => ({ error }),
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(n, tasks.length) }, worker));
  const failed = results.find((r) => r.error);
  if (failed) throw failed.error;
  return results.map((r) => r.value);
}

const json = (value) => `${JSON.stringify(value, null, 2)}\n`;

async function main() {
  const opts = parseArgs(process.argv.slice(2));
  const started = Date.now();
  const mainDir = join(opts.out, 'msgmock');
  await rm(mainDir, { recursive: true, force: true });
  await mkdir(join(mainDir, 'bin'), { recursive: true });

  // The client first: its compiled binary.js holds the platform list.
  compileClient(join(mainDir, 'lib'));
  const { platforms } = require(join(mainDir, 'lib', 'binary.js'));

  const builds = platforms.map((p) => async () => {
    const dir = join(opts.out, p.pkg.split('/')[1]);
    await rm(dir, { recursive: true, force: true });
    const bin = join(dir, p.binary);
    await mkdir(dirname(bin), { recursive: true });
    const t0 = Date.now();
    await run('go', ['build', '-trimpath', '-ldflags', `-s -w -X main.version=${opts.version}`, '-o', bin, './cmd/msgmock'], {
      cwd: repoRoot,
      env: { ...process.env, GOOS: p.goos, GOARCH: p.goarch, CGO_ENABLED: '0' },
    });
    await chmod(bin, 0o755);
    await writeFile(
      join(dir, 'package.json'),
      json({
        name: p.pkg,
        version: opts.version,
        description: `The msgmock binary for ${p.os} ${p.cpu}; install msgmock, which picks it.`,
        repository: { type: 'git', url: 'git+https://github.com/msgmock/msgmock.git' },
        os: [p.os],
        cpu: [p.cpu],
        files: [p.binary],
        preferUnplugged: true,
      }),
    );
    await writeFile(
      join(dir, 'README.md'),
      `# ${p.pkg}\n\nThe \`msgmock\` binary for ${p.os} ${p.cpu}. Install [\`msgmock\`](https://www.npmjs.com/package/msgmock),\nwhich lists this package among its optional dependencies and runs the one that fits.\n`,
    );
    const { size } = await stat(bin);
    console.log(`${p.pkg.padEnd(22)} ${dir}  (${(size / 1e6).toFixed(1)} MB, ${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  });
  await limited(opts.jobs, builds);

  const manifest = JSON.parse(await readFile(join(here, 'package.json'), 'utf8'));
  delete manifest.devDependencies;
  delete manifest.scripts;
  manifest.version = opts.version;
  manifest.optionalDependencies = Object.fromEntries(platforms.map((p) => [p.pkg, opts.version]));
  await writeFile(join(mainDir, 'package.json'), json(manifest));
  await copyFile(join(here, 'bin', 'msgmock.js'), join(mainDir, 'bin', 'msgmock.js'));
  await chmod(join(mainDir, 'bin', 'msgmock.js'), 0o755);
  await copyFile(join(here, 'README.md'), join(mainDir, 'README.md'));
  console.log(`${'msgmock'.padEnd(22)} ${mainDir}`);
  console.log(`msgmock ${opts.version}: ${platforms.length + 1} packages in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

main().catch((err) => {
  console.error(`build.mjs: ${err.message}`);
  process.exit(1);
});
