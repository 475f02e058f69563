/**
 * The layer rules of docs/architecture.md, checked by `npm run lint:deps` (dependency-cruiser).
 *
 *   sources (lib/sources) ─┐
 *   HTTP API (lib/api) ────┴─▶ actions catalog (lib/actions) ─▶ workflow (lib/workflow)
 *        ─▶ products (lib/sessions, lib/devices, lib/administrators) ─▶ Citrix clients (lib/citrix) ─▶ Citrix
 *
 * The entry points sit on top: the AWS adapters (functions/, one Lambda each), the local runner
 * (local/, which runs the same handlers), the responder CLI (cli/, run by bin/citrix-response.js,
 * a client of the HTTP API) and the CDK app (infra/). The Citrix simulator
 * (local/simulator/) is a peer of Citrix, not a client of the project.
 *
 * Type-only imports count (tsPreCompilationDeps), so a circle of types is a circle too.
 */

/** Every layer of lib/ above the Citrix clients. */
const ABOVE_CITRIX_CLIENTS =
  '^lib/(actions|administrators|api|audit|callbacks|devices|guardrails|runtime|sessions|sources|webhooks|workflow)/';

/** @type {import('dependency-cruiser').IConfiguration} */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'No import circles anywhere, type-only imports included: a circle leaves one of its modules ' +
        'half-initialised at load time and ties layers together. Move what both sides need into ' +
        'a module that depends on neither.',
      from: {},
      to: { circular: true },
    },
    {
      name: 'no-unresolvable-imports',
      severity: 'error',
      comment: 'Every import resolves to a file or to a package in node_modules.',
      from: {},
      to: { couldNotResolve: true },
    },
    {
      name: 'no-undeclared-packages',
      severity: 'error',
      comment:
        'Every package imported is declared in package.json, never used as a transitive ' +
        'dependency of another one.',
      from: {},
      to: { dependencyTypes: ['npm-no-pkg', 'npm-unknown'] },
    },
    {
      name: 'no-orphans',
      severity: 'error',
      comment:
        'No module that nothing imports and that imports nothing: dead code, or a file the ' +
        'checks never see.',
      from: {
        orphan: true,
        pathNot: ['(^|/)[.][^/]+[.](?:js|cjs|mjs|ts|cts|mts|json)$', '[.]d[.]ts$'],
      },
      to: {},
    },
    {
      name: 'no-imports-of-test-files',
      severity: 'error',
      comment: 'Nothing imports a *.test.ts file; shared test code lives in test/support/.',
      from: {},
      to: { path: '[.]test[.]ts$' },
    },
    {
      name: 'only-tests-import-test',
      severity: 'error',
      comment: 'test/ is imported by tests only: product code, bench and tools never need it.',
      from: { pathNot: '^test/' },
      to: { path: '^test/' },
    },
    {
      name: 'lambda-code-uses-no-dev-dependencies',
      severity: 'error',
      comment:
        'lib/ and functions/ end up in the Lambda bundles: they use only packages of ' +
        '"dependencies" (type-only imports, such as aws-lambda from @types, are erased). The one ' +
        'exception is lib/api/openapi.ts, the build-time generator of docs/openapi.json (run by ' +
        'local/openapi.ts); Lambdas read the generated document and import only its types.',
      from: { path: '^(lib|functions)/', pathNot: '^lib/api/openapi[.]ts$' },
      to: { dependencyTypes: ['npm-dev'], dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'lib-not-to-entry-points',
      severity: 'error',
      comment:
        'lib/ is the product; the AWS adapters (functions/), the local runner (local/), the CLI ' +
        '(cli/, bin/), the CDK app (infra/), the benchmarks (bench/), the fault and fuzz suites (faults/, fuzz/) and the tests (test/) use ' +
        'it, never the reverse.',
      from: { path: '^lib/' },
      to: { path: '^(functions|infra|local|cli|bin|bench|fuzz|faults|test)/' },
    },
    {
      name: 'citrix-clients-not-to-layers-above',
      severity: 'error',
      comment:
        'The Citrix product clients (lib/citrix: DaaS, Endpoint Management, Cloud administrators, ' +
        'and the HTTP, auth and retry under them) depend on nothing else in lib/: they know ' +
        'Citrix, not actions, workflows, guardrails, sources or the AWS runtime.',
      from: { path: '^lib/citrix/' },
      to: { path: ABOVE_CITRIX_CLIENTS },
    },
    {
      name: 'webhook-signing-self-contained',
      severity: 'error',
      comment:
        'lib/webhooks (Standard Webhooks signatures, used by sources and callbacks) ' +
        'depends on nothing else in lib/.',
      from: { path: '^lib/webhooks/' },
      to: { path: '^lib/', pathNot: '^lib/webhooks/' },
    },
    {
      name: 'products-independent-of-each-other',
      severity: 'error',
      comment:
        'Each product (lib/sessions, lib/devices, lib/administrators) stands alone: none ' +
        'imports another; what they share is in lib/actions or lib/citrix.',
      from: { path: '^lib/(sessions|devices|administrators)/' },
      to: { path: '^lib/(sessions|devices|administrators)/', pathNot: '^lib/$1/' },
    },
    {
      name: 'products-not-to-edges',
      severity: 'error',
      comment:
        'The products act on Citrix through lib/citrix and declare their actions with ' +
        'lib/actions; they never reach up to the edges (lib/api, lib/sources), the callbacks ' +
        '(lib/callbacks) or the AWS wiring (lib/runtime), which call them.',
      from: { path: '^lib/(sessions|devices|administrators)/' },
      to: { path: '^lib/(api|sources|callbacks|runtime)/' },
    },
    {
      name: 'sources-not-to-api',
      severity: 'error',
      comment:
        'Sources (lib/sources: SIEM, ITSM and other signed webhooks) turn a payload into a ' +
        'normalized request for lib/actions; they never import the HTTP API (lib/api), which ' +
        'is their peer.',
      from: { path: '^lib/sources/' },
      to: { path: '^lib/api/' },
    },
    {
      name: 'functions-are-independent-adapters',
      severity: 'error',
      comment:
        'Each file in functions/ is one Lambda and its own composition root: it imports lib/ ' +
        'only, never another function (shared code and types go to lib/), the local runner, ' +
        'the CDK app, the benchmarks or the tests.',
      from: { path: '^functions/' },
      to: { path: '^(functions|local|cli|bin|infra|bench|fuzz|faults|test)/' },
    },
    {
      name: 'local-not-to-infra',
      severity: 'error',
      comment:
        'The local runner (local/) is a peer of the AWS adapters: it runs the same handlers ' +
        'from functions/ over lib/, and never imports the CDK app (infra/), the CLI (a client ' +
        'of the API it serves) or the benchmarks.',
      from: { path: '^local/' },
      to: { path: '^(infra|cli|bin|bench|fuzz|faults)/' },
    },
    {
      name: 'simulator-is-a-citrix-peer',
      severity: 'error',
      comment:
        'The Citrix simulator (local/simulator/) stands in for Citrix: it implements the Citrix ' +
        "APIs from their documentation and never imports the project's own code (lib/, " +
        'functions/, infra/, the rest of local/), so it cannot share a mistake with the clients.',
      from: { path: '^local/simulator/' },
      to: {
        path: '^(lib|functions|infra|local|bench|fuzz|faults|test)/',
        pathNot: '^local/simulator/',
      },
    },
    {
      name: 'infra-not-to-runtime-entry-points',
      severity: 'error',
      comment:
        'The CDK app (infra/) names each function by its entry file and reads lib/ for ' +
        'configuration and workflow definitions; it never imports the handlers (functions/), ' +
        'the local runner or the benchmarks.',
      from: { path: '^infra/' },
      to: { path: '^(functions|local|cli|bin|bench|fuzz|faults)/' },
    },
    {
      name: 'cli-is-a-client-of-the-api',
      severity: 'error',
      comment:
        'The responder CLI (cli/) talks to the HTTP API as a person, over SigV4: it reads the ' +
        'action catalog and request schemas (lib/actions), the runbook files (lib/runbooks) and ' +
        "the requester's shape (lib/identity), never the handlers (functions/), the local " +
        'runner, the CDK app, the benchmarks or the rest of lib/ (the server side).',
      from: { path: '^cli/' },
      to: {
        path: '^(lib|functions|local|infra|bench|fuzz|faults|test)/',
        pathNot: '^lib/(actions|runbooks|identity)/',
      },
    },
    {
      name: 'bin-only-starts-the-cli',
      severity: 'error',
      comment: 'bin/citrix-response.js only starts the CLI (cli/main.ts); the CLI is in cli/.',
      from: { path: '^bin/' },
      to: { path: '^(?!cli/)[^/]+/' },
    },
  ],
  options: {
    doNotFollow: { path: ['node_modules'] },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['import', 'require', 'node', 'default', 'types'],
      extensions: ['.ts', '.js', '.d.ts', '.mjs', '.cjs', '.json'],
      mainFields: ['module', 'main', 'types', 'typings'],
    },
    skipAnalysisNotInRules: true,
    reporterOptions: {
      text: { highlightFocused: true },
    },
  },
};
