import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type BuildOptions, build } from 'esbuild';
import { functionEsbuildOptions } from '../infra/function-bundling.ts';

/**
 * Cold import of every Lambda bundle: a new `node` process that imports the bundle (its module
 * load and everything the function builds at module scope, as in Lambda's init phase), against
 * `node -e 0` in the same run, so the ratio compares on any machine.
 */
const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Cold import of a bundle, as a multiple of `node -e 0`'s wall-clock time. */
export const COLD_IMPORT_GOAL = 1.5;

export interface FunctionBundle {
  /** `functions/<name>`, as in the stack. */
  readonly name: string;
  readonly file: string;
  readonly bytes: number;
  /** The packages the bundle leaves to the Lambda runtime (the AWS SDK), which it imports. */
  readonly runtimeImports: readonly string[];
}

export interface BuiltBundles {
  readonly outdir: string;
  readonly bundles: FunctionBundle[];
  readonly dispose: () => void;
}

/**
 * Builds every `functions/*.ts` of `root` with the project's bundling options (or `options`) into
 * a temporary directory whose `node_modules` links to the project's, where the modules the Lambda
 * runtime provides (the AWS SDK) resolve as they do there.
 */
export async function buildFunctionBundles(
  root = PROJECT_ROOT,
  options: BuildOptions = functionEsbuildOptions(),
): Promise<BuiltBundles> {
  const outdir = mkdtempSync(join(tmpdir(), 'citrix-response-cold-import-'));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(outdir, 'node_modules'), 'dir');
  const entries = readdirSync(join(root, 'functions'))
    .filter((name) => name.endsWith('.ts'))
    .map((name) => `functions/${name.replace(/\.ts$/, '')}`);
  const result = await build({
    ...options,
    absWorkingDir: root,
    entryPoints: Object.fromEntries(entries.map((entry) => [entry, `${entry}.ts`])),
    outdir,
    outExtension: { '.js': '.mjs' },
    metafile: true,
    logLevel: 'silent',
  });
  const outputs = new Map(
    Object.entries(result.metafile.outputs).map(([file, output]) => [
      file.replace(/^.*\/(functions\/[^/]+)\.mjs$/, '$1'),
      output,
    ]),
  );
  return {
    outdir,
    bundles: entries.map((name) => ({
      name,
      file: join(outdir, `${name}.mjs`),
      bytes: outputs.get(name)?.bytes ?? Number.NaN,
      runtimeImports: [
        ...new Set(
          (outputs.get(name)?.imports ?? [])
            .filter((i) => i.external && !i.path.startsWith('node:'))
            .map((i) => i.path),
        ),
      ].sort(),
    })),
    dispose: () => rmSync(outdir, { recursive: true, force: true }),
  };
}

/** The child's environment: this one's, without options that would change what a start costs. */
function childEnvironment(): NodeJS.ProcessEnv {
  const { NODE_OPTIONS: _ignored, ...env } = process.env;
  return env;
}

/** What the child prints once its imports are done: its own CPU time and resident memory. */
const REPORT_USAGE =
  'const u=process.cpuUsage();process.stdout.write(JSON.stringify({cpuMs:(u.user+u.system)/1000,rss:process.memoryUsage.rss()}))';

interface Run {
  /** Wall-clock time of the whole process, start to exit, as the parent sees it. */
  readonly wallMs: number;
  /** CPU time of the child (all its threads): steadier than wall time on a shared machine. */
  readonly cpuMs: number;
  readonly rss: number;
}

/** `node -e …` alone (the baseline), or with `file` imported first (`--import`). */
function run(file?: string): Run {
  const args = [
    ...(file === undefined ? [] : ['--import', pathToFileURL(file).href]),
    '-e',
    REPORT_USAGE,
  ];
  const start = process.hrtime.bigint();
  const child = spawnSync(process.execPath, args, {
    env: childEnvironment(),
    encoding: 'utf8',
    timeout: 60_000,
  });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (child.status !== 0) {
    throw new Error(`node ${args.join(' ')} failed: ${child.stderr || child.error}`);
  }
  const usage = JSON.parse(child.stdout) as { cpuMs: number; rss: number };
  return { wallMs, ...usage };
}

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}

function medianRun(runs: readonly Run[]): Run {
  return {
    wallMs: median(runs.map((r) => r.wallMs)),
    cpuMs: median(runs.map((r) => r.cpuMs)),
    rss: median(runs.map((r) => r.rss)),
  };
}

export interface ColdImport {
  readonly name: string;
  readonly bytes: number;
  readonly wallMs: number;
  readonly wallRatio: number;
  readonly cpuMs: number;
  readonly cpuRatio: number;
  readonly extraMemoryBytes: number;
}

export interface ColdImports {
  readonly baseline: Run;
  readonly rows: ColdImport[];
}

/**
 * Runs the baseline and each bundle `runs` times, interleaved so that a slow moment of a shared
 * machine falls on every case alike, after one untimed run of each (file cache); keeps medians.
 */
export function measureColdImports(bundles: readonly FunctionBundle[], runs = 9): ColdImports {
  run();
  for (const bundle of bundles) run(bundle.file);
  const baselineRuns: Run[] = [];
  const bundleRuns = bundles.map((): Run[] => []);
  for (let round = 0; round < runs; round++) {
    baselineRuns.push(run());
    bundles.forEach((bundle, i) => {
      bundleRuns[i]?.push(run(bundle.file));
    });
  }
  const baseline = medianRun(baselineRuns);
  return {
    baseline,
    rows: bundles.map((bundle, i) => {
      const measured = medianRun(bundleRuns[i] ?? []);
      return {
        name: bundle.name,
        bytes: bundle.bytes,
        wallMs: measured.wallMs,
        wallRatio: measured.wallMs / baseline.wallMs,
        cpuMs: measured.cpuMs,
        cpuRatio: measured.cpuMs / baseline.cpuMs,
        extraMemoryBytes: measured.rss - baseline.rss,
      };
    }),
  };
}

const column = (text: string, width: number) => text.padStart(width);
const ms = (value: number) => column(`${value.toFixed(0)} ms`, 8);
const ratio = (value: number) => column(`${value.toFixed(2)}x`, 6);
const mib = (bytes: number, sign = '') => column(`${sign}${(bytes / 2 ** 20).toFixed(1)} MiB`, 10);

export function printColdImports(title: string, { baseline, rows }: ColdImports): void {
  console.log(`\n${title}`);
  console.log(
    `  ${'function'.padEnd(34)} ${column('bundle', 9)} ${column('wall', 8)} ${column('', 6)} ${column('cpu', 8)} ${column('', 6)} ${column('memory', 10)}`,
  );
  console.log(
    `  ${'node -e 0 (baseline)'.padEnd(34)} ${column('', 9)} ${ms(baseline.wallMs)} ${ratio(1)} ${ms(baseline.cpuMs)} ${ratio(1)} ${mib(baseline.rss)}`,
  );
  for (const row of rows) {
    const over = row.bytes > 0 && row.wallRatio > COLD_IMPORT_GOAL ? '  over the goal' : '';
    const size = row.bytes > 0 ? `${(row.bytes / 1000).toFixed(1)} KB` : '';
    console.log(
      `  ${row.name.padEnd(34)} ${column(size, 9)} ${ms(row.wallMs)} ${ratio(row.wallRatio)} ${ms(row.cpuMs)} ${ratio(row.cpuRatio)} ${mib(row.extraMemoryBytes, '+')}${over}`,
    );
  }
}

/**
 * A module next to the bundles that imports only what `bundle` leaves to the runtime: the part of
 * its cold import that no bundling choice changes, as long as its clients are built at init.
 */
function runtimeImportsOnly(outdir: string, bundle: FunctionBundle): FunctionBundle {
  const file = join(outdir, `${bundle.name}.runtime-imports.mjs`);
  writeFileSync(file, bundle.runtimeImports.map((path) => `import '${path}';\n`).join(''));
  return { ...bundle, name: `  its runtime imports alone`, file, bytes: 0, runtimeImports: [] };
}

/**
 * `npm run bench`: the project's bundles, built as `npm run synth` builds them. With
 * `sdk: 'bundled'`, the alternative the project decided against: each bundle carries the AWS SDK
 * clients it uses (over the size budget, see infra/function-bundling.ts), for comparison.
 */
export async function coldImportSuite(
  runs = 7,
  sdk: 'runtime' | 'bundled' = 'runtime',
): Promise<void> {
  const built = await buildFunctionBundles(
    PROJECT_ROOT,
    sdk === 'runtime' ? functionEsbuildOptions() : { ...functionEsbuildOptions(), external: [] },
  );
  try {
    if (sdk === 'bundled') {
      printColdImports(
        `Cold import with the AWS SDK bundled (not what ships), median of ${runs} runs, against node -e 0.`,
        measureColdImports(built.bundles, runs),
      );
      return;
    }
    const cases = built.bundles.flatMap((bundle) => [
      bundle,
      runtimeImportsOnly(built.outdir, bundle),
    ]);
    printColdImports(
      `Cold import of each function's bundle (node --import <bundle>.mjs), median of ${runs} runs, against node -e 0. Goal: ${COLD_IMPORT_GOAL}x or less (wall). CPU time is the steadier figure on a busy machine. Under each function, the AWS SDK packages it imports from the Lambda runtime, alone.`,
      measureColdImports(cases, runs),
    );
  } finally {
    built.dispose();
  }
}
