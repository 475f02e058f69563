import {
  copyFileSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../infra/citrix-response-function.ts';
import { CONTEXT_DEFAULTS } from '../../infra/config.ts';
import {
  FUNCTION_BUNDLE_BUDGET_BYTES,
  FUNCTION_BUNDLING,
  functionEsbuildOptions,
  POWERTOOLS_LAYER,
  RUNTIME_PROVIDED_MODULES,
} from '../../infra/function-bundling.ts';
import { deployedRunbooksFile } from '../../infra/runbooks.ts';
import { sourceRulesFiles } from '../../infra/source-endpoints.ts';
import { WORKFLOWS } from '../../lib/workflow/definition.ts';
import { bundleWeight, overBudget } from './bundle-budget.ts';

/**
 * The stack's tests skip bundling; this builds every function the way NodejsFunction does (same
 * esbuild options, same externals), holds each bundle to its size budget, and loads each bundle as
 * Lambda's Node.js runtime would, so an ESM/CommonJS mismatch, a dependency that cannot be bundled
 * or one that should not be there fails here rather than after a deploy. The modules the runtime
 * provides (the AWS SDK) and the Powertools layer provides (infra/function-bundling.ts) resolve
 * from the project's node_modules, linked next to the bundles: the layer's modules are not in the
 * budget, which is the asset's, and `npm run bench` times loading them with each bundle.
 */
/** The repository's runbooks as synth writes them (infra/runbooks.ts), beside some bundles. */
const RUNBOOKS_FILE = deployedRunbooksFile({});
/** Each source function's part of the default routing rules, as synth writes it (routes.json). */
const RULES_FILES = sourceRulesFiles(join(PROJECT_ROOT, CONTEXT_DEFAULTS.routesFile));
const ENTRIES = [
  // Behind POST /v1/actions; CDK copies the runbooks next to it (runbooks.json).
  'functions/actions-api.ts',
  // Behind GET /v1/actions, GET /v1/actions/{actionId} and its approve/reject: the listing and the
  // lookalike check, kept out of actions-api (and its idempotency layer out of this one).
  'functions/action-records-api.ts',
  // Behind the public GET /v1/openapi.json: the committed document, kept out of actions-api.
  'functions/api-document.ts',
  // Run by the EventBridge schedule, not by a workflow.
  'functions/report-administrators.ts',
  // Behind POST /v1/webhooks/{source} and Splunk's route (the alerting sources); CDK copies the
  // alert routes next to it (routes.json).
  'functions/source-webhooks.ts',
  // Behind POST /v1/webhooks/servicenow and /standard (the sources that name their action): no
  // alert routing, and the alerting sources' function no Standard Webhooks. CDK copies the
  // allowed actions next to it (routes.json).
  'functions/source-requests.ts',
  // Run by the sweep schedules; CDK copies the sweeps file next to it (sweeps.json).
  'functions/run-sweep.ts',
  // complete-action serves all three workflows and is one function: bundle each entry once.
  ...new Set(WORKFLOWS.flatMap((workflow) => workflow.functions.map((fn) => fn.entry))),
];
let outdir: string;
let metafile: Metafile;

/** The Powertools modules a bundle imports from the layer (its external imports). */
function layerImports(name: string): string[] {
  const output = Object.entries(metafile.outputs).find(([file]) => file.endsWith(`${name}.mjs`));
  if (output === undefined) throw new Error(`No output for ${name} in the metafile`);
  return [
    ...new Set(
      output[1].imports
        .filter(({ external, path }) => external && path.startsWith('@aws-lambda-powertools/'))
        .map(({ path }) => path),
    ),
  ].sort();
}
/**
 * Set by the stack on every task function (test/infra/task-functions.test.ts checks it, and
 * test/infra/stack-iam.test.ts its grant): the audit wrapper needs the table's name before the
 * task reads its input. Any AWS call would go to a closed loopback port, never to AWS.
 */
const TASK_ENVIRONMENT = {
  AUDIT_TABLE_NAME: 'audit-table',
  // run-sweep builds its acceptor before it looks the sweep up; building it calls nothing.
  IDEMPOTENCY_TABLE_NAME: 'idempotency-table',
  AWS_ENDPOINT_URL: 'http://127.0.0.1:9',
  AWS_ACCESS_KEY_ID: 'test',
  AWS_SECRET_ACCESS_KEY: 'test',
};
const previousEnvironment = new Map<string, string | undefined>();

beforeAll(async () => {
  for (const [name, value] of Object.entries(TASK_ENVIRONMENT)) {
    previousEnvironment.set(name, process.env[name]);
    process.env[name] = value;
  }
  outdir = mkdtempSync(join(tmpdir(), 'citrix-response-bundles-'));
  symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(outdir, 'node_modules'), 'dir');
  ({ metafile } = await build({
    ...functionEsbuildOptions(),
    absWorkingDir: PROJECT_ROOT,
    entryPoints: Object.fromEntries(ENTRIES.map((entry) => [entry.replace(/\.ts$/, ''), entry])),
    outdir,
    metafile: true,
    logLevel: 'silent',
  }));
}, 60_000);

afterAll(() => {
  rmSync(outdir, { recursive: true, force: true });
  for (const [name, value] of previousEnvironment) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe('function bundles', () => {
  it('covers every file in functions/', () => {
    const files = readdirSync(join(PROJECT_ROOT, 'functions'))
      .filter((name) => name.endsWith('.ts'))
      .map((name) => `functions/${name}`);

    expect([...ENTRIES].sort()).toEqual(files.sort());
  });

  it.each(ENTRIES)('%s loads as an ES module and exports a handler', async (entry) => {
    const bundle = await import(pathToFileURL(join(outdir, entry.replace(/\.ts$/, '.mjs'))).href);
    expect(typeof bundle.handler).toBe('function');
  });

  /** Files the stack copies next to a bundle, with their default content (the asset counts them). */
  const FILES_BESIDE: Readonly<Record<string, readonly string[]>> = {
    'functions/actions-api': [RUNBOOKS_FILE],
    'functions/source-webhooks': [RULES_FILES.alerts, RUNBOOKS_FILE],
    'functions/source-requests': [RULES_FILES.requests, RUNBOOKS_FILE],
    'functions/run-sweep': [join(PROJECT_ROOT, CONTEXT_DEFAULTS.sweepsFile), RUNBOOKS_FILE],
    'functions/start-runbook': [RUNBOOKS_FILE],
  };

  it.each(ENTRIES)(
    '%s fits the bundle budget (250 KB minified, with the files beside it)',
    (entry) => {
      const name = entry.replace(/\.ts$/, '');
      const bundle = bundleWeight(metafile, name);
      const beside = (FILES_BESIDE[name] ?? []).map((file) => ({
        origin: file,
        bytes: statSync(file).size,
      }));
      const weight = {
        bytes: bundle.bytes + beside.reduce((sum, file) => sum + file.bytes, 0),
        origins: [...bundle.origins, ...beside].sort((a, b) => b.bytes - a.bytes),
      };
      const message = overBudget(name, weight, FUNCTION_BUNDLE_BUDGET_BYTES);

      expect(weight.bytes, message).toBeLessThanOrEqual(FUNCTION_BUNDLE_BUDGET_BYTES);
    },
  );

  it("splits the people's API by what each route uses: the lookalike check only where people decide, the idempotency layer only where they start", () => {
    const origins = (name: string) =>
      bundleWeight(metafile, name).origins.map(({ origin }) => origin);

    expect(origins('functions/action-records-api')).toContain('confusables');
    expect(layerImports('functions/action-records-api')).not.toContain(
      '@aws-lambda-powertools/idempotency',
    );
    expect(layerImports('functions/actions-api')).toContain('@aws-lambda-powertools/idempotency');
    expect(origins('functions/actions-api')).not.toContain('confusables');
    expect(origins('functions/actions-api')).not.toContain('lib/actions/list-store.ts');
  });

  it('splits the source endpoints by how a source asks: each function carries its own sources, and Standard Webhooks only where it is verified, on node:crypto', () => {
    const origins = (name: string) =>
      bundleWeight(metafile, name).origins.map(({ origin }) => origin);
    const alerts = origins('functions/source-webhooks');
    const requests = origins('functions/source-requests');

    for (const file of ['splunk', 'sentinel', 'pagerduty', 'alert-routing']) {
      expect(alerts).toContain(`lib/sources/${file}.ts`);
      expect(requests).not.toContain(`lib/sources/${file}.ts`);
    }
    for (const file of ['servicenow', 'standard', 'request-routing']) {
      expect(requests).toContain(`lib/sources/${file}.ts`);
      expect(alerts).not.toContain(`lib/sources/${file}.ts`);
    }
    expect(requests).toContain('lib/webhooks/standard-webhooks-verify.ts');
    for (const fn of [alerts, requests]) {
      // The library's pure-JS SHA-256 and base64; the Citrix settings; the whole action store.
      for (const unused of [
        'standardwebhooks',
        'fast-sha256',
        '@stablelib/base64',
        'lib/citrix/config.ts',
        'lib/actions/store.ts',
        'p-limit',
      ]) {
        expect(fn).not.toContain(unused);
      }
    }
  });

  it('leaves Powertools (the Tracer and its X-Ray SDK too) to its layer, pinned to the version the tests run', () => {
    const inputs = Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));
    const declared = JSON.parse(readFileSync(join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>;
    };
    const used = new Set(ENTRIES.flatMap((entry) => layerImports(entry.replace(/\.ts$/, ''))));
    const packages = new Set([...used].map((path) => path.split('/').slice(0, 2).join('/')));

    expect(FUNCTION_BUNDLING.externalModules).toEqual([
      ...RUNTIME_PROVIDED_MODULES,
      ...POWERTOOLS_LAYER.modules,
    ]);
    expect(
      inputs.filter((input) =>
        /node_modules\/(@aws-lambda-powertools|aws-xray-sdk-core)\//.test(input),
      ),
    ).toEqual([]);
    expect(packages).toContain('@aws-lambda-powertools/tracer');
    // What the bundles load from the layer is what the tests and the local stack load.
    for (const name of packages) {
      const installed = JSON.parse(
        readFileSync(join(PROJECT_ROOT, 'node_modules', name, 'package.json'), 'utf8'),
      ) as { version: string };
      expect(declared.dependencies[name], name).toBe(POWERTOOLS_LAYER.powertoolsVersion);
      expect(installed.version, name).toBe(POWERTOOLS_LAYER.powertoolsVersion);
    }
  });

  it('keeps Metrics out of the source endpoints and actions-api, which record none, and the Tracer off the API', () => {
    const tracerImports = (name: string) =>
      layerImports(name).filter((path) => path.startsWith('@aws-lambda-powertools/tracer'));

    for (const name of [
      'functions/source-webhooks',
      'functions/source-requests',
      'functions/actions-api',
    ]) {
      expect(layerImports(name), name).not.toContain('@aws-lambda-powertools/metrics');
    }
    for (const name of ['functions/action-records-api', 'functions/report-administrators']) {
      expect(layerImports(name), name).toContain('@aws-lambda-powertools/metrics');
    }
    expect(tracerImports('functions/report-administrators')).toContain(
      '@aws-lambda-powertools/tracer/middleware',
    );
    for (const name of [
      'functions/source-webhooks',
      'functions/source-requests',
      'functions/actions-api',
      'functions/action-records-api',
      'functions/api-document',
    ]) {
      expect(tracerImports(name), name).toEqual([]);
    }
  });

  it('leaves out the AWS SDK, which the Lambda runtime provides, and writes no source maps', () => {
    const inputs = Object.values(metafile.outputs).flatMap((output) => Object.keys(output.inputs));
    const outputs = Object.keys(metafile.outputs);

    expect(FUNCTION_BUNDLING.bundleAwsSDK).toBe(false);
    expect(inputs.filter((input) => /node_modules\/@(aws-sdk|smithy)\//.test(input))).toEqual([]);
    expect(outputs.filter((output) => output.endsWith('.map'))).toEqual([]);
  });

  it('bundles 23 entries: 16 workflow tasks, the API (two functions), the API document, the report, the source endpoints (two functions) and run-sweep', () => {
    expect(ENTRIES).toHaveLength(23);
  });

  it.each([
    'functions/complete-action',
    'functions/send-device-command',
    'functions/apply-admin-change',
    'functions/report-administrators',
    'functions/request-approval',
    'functions/warn-sessions',
    'functions/resolve-session-targets',
    'functions/advance-session-batch',
    'functions/start-runbook',
    'functions/advance-runbook',
  ])('runs %s from its bundle: bad input is refused by name before any AWS call', async (entry) => {
    const bundle = await import(pathToFileURL(join(outdir, `${entry}.mjs`)).href);
    const error = await bundle
      .handler({ actionId: 'act_1' }, { awsRequestId: 'r', getRemainingTimeInMillis: () => 5_000 })
      .catch((e: unknown) => e);
    expect((error as Error).name).toBe('InvalidTaskInputError');
  });
});

describe('function bundles that need more than a task input', () => {
  const context = {
    awsRequestId: 'r',
    functionName: 'f',
    getRemainingTimeInMillis: () => 5_000,
  };
  const load = async (entry: string) =>
    import(pathToFileURL(join(outdir, `${entry}.mjs`)).href) as Promise<{
      handler: (event: unknown, context: unknown) => Promise<unknown>;
    }>;

  it('runs functions/notify-action-outcome from its bundle: input without actionId is refused by name', async () => {
    const bundle = await load('functions/notify-action-outcome');
    const error = await bundle.handler({ action: 'session.logoff' }, context).catch((e) => e);

    expect((error as Error).name).toBe('InvalidTaskInputError');
    expect((error as Error).message).toMatch(/actionId/);
  });

  it('runs functions/api-document from its bundle: the committed document, unsigned', async () => {
    const bundle = await load('functions/api-document');
    const response = (await bundle.handler(
      {
        resource: '/v1/openapi.json',
        path: '/v1/openapi.json',
        httpMethod: 'GET',
        pathParameters: null,
        headers: {},
        body: null,
        isBase64Encoded: false,
      },
      context,
    )) as { statusCode: number; headers: Record<string, string>; body: string };

    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('application/json');
    expect(JSON.parse(response.body)).toEqual(
      JSON.parse(readFileSync(join(PROJECT_ROOT, 'docs/openapi.json'), 'utf8')),
    );
  });

  it('runs functions/run-sweep from its bundle, reading the sweeps.json beside it: an unknown sweep is refused by name before any AWS call', async () => {
    // Where the stack copies the sweeps file: beside the bundle, as sweeps.json.
    copyFileSync(
      join(PROJECT_ROOT, CONTEXT_DEFAULTS.sweepsFile),
      join(outdir, 'functions', 'sweeps.json'),
    );
    // And the runbooks synth checked, as runbooks.json: a sweep may run one.
    copyFileSync(RUNBOOKS_FILE, join(outdir, 'functions', 'runbooks.json'));
    const bundle = await load('functions/run-sweep');
    const previous = process.env.SWEEPS_FILE;
    delete process.env.SWEEPS_FILE;
    try {
      const invalid = await bundle.handler({ sweep: 'Not A Name' }, context).catch((e) => e);
      expect((invalid as Error).name).toBe('ZodError');

      const unknown = await bundle
        .handler({ sweep: 'no-such-sweep', scheduledAt: '2025-01-01T02:00:00Z' }, context)
        .catch((e) => e);
      expect((unknown as Error).name).toBe('SweepNotFoundError');
      // The declared names come from the sweeps.json beside the bundle.
      const declared = JSON.parse(
        readFileSync(join(PROJECT_ROOT, CONTEXT_DEFAULTS.sweepsFile), 'utf8'),
      ) as { sweeps: { name: string }[] };
      for (const { name } of declared.sweeps) expect((unknown as Error).message).toContain(name);
    } finally {
      if (previous !== undefined) process.env.SWEEPS_FILE = previous;
    }
  });

  it.each([
    ['GET', '/v1/actions', '/v1/actions', null],
    ['POST', '/v1/actions/{actionId}/approve', '/v1/actions/act_1/approve', { actionId: 'act_1' }],
  ])(
    'runs functions/action-records-api from its bundle: %s %s without a person is a 403 before any AWS call',
    async (httpMethod, resource, path, pathParameters) => {
      const bundle = await load('functions/action-records-api');
      const response = (await bundle.handler(
        {
          resource,
          path,
          httpMethod,
          pathParameters,
          headers: {},
          body: null,
          isBase64Encoded: false,
          requestContext: { requestId: 'r', identity: { userArn: null } },
        },
        context,
      )) as { statusCode: number; body: string };

      expect(response.statusCode).toBe(403);
      expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_a_person' } });
    },
  );

  it('runs functions/source-webhooks from its bundle: an unknown source is a 404 before any AWS call', async () => {
    const bundle = await load('functions/source-webhooks');
    const response = (await bundle.handler(
      {
        resource: '/v1/webhooks/{source}',
        path: '/v1/webhooks/jira',
        httpMethod: 'POST',
        pathParameters: { source: 'jira' },
        headers: { 'content-type': 'application/json' },
        body: '{}',
        isBase64Encoded: false,
      },
      context,
    )) as { statusCode: number; body: string };

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
  });

  it('runs functions/source-requests from its bundle: an alerting source is a 404 there, before any AWS call', async () => {
    const bundle = await load('functions/source-requests');
    const response = (await bundle.handler(
      {
        resource: '/v1/webhooks/{source}',
        path: '/v1/webhooks/sentinel',
        httpMethod: 'POST',
        pathParameters: { source: 'sentinel' },
        headers: { 'content-type': 'application/json' },
        body: '{}',
        isBase64Encoded: false,
      },
      context,
    )) as { statusCode: number; body: string };

    expect(response.statusCode).toBe(404);
    expect(JSON.parse(response.body)).toMatchObject({ error: { code: 'not_found' } });
  });
});
