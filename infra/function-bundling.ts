import { type BundlingOptions, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { BuildOptions } from 'esbuild';

/**
 * What the Lambda Node.js runtime provides, so no bundle carries it: the AWS SDK v3 (every
 * `@aws-sdk/*` client and library, `lib-dynamodb` and `util-dynamodb` included) and the `@smithy/*`
 * packages it is built on. These are CDK's own externals for a pinned Node.js 18+ runtime with
 * `@aws-cdk/aws-lambda-nodejs:sdkV3ExcludeSmithyPackages`; naming them here keeps the bundle test
 * and the bench on the same list whatever the feature flags say.
 */
export const RUNTIME_PROVIDED_MODULES = ['@aws-sdk/*', '@smithy/*'] as const;

/**
 * The public Powertools for AWS Lambda (TypeScript) layer every function runs with: version 50 is
 * the one published for release 2.35.0 (the layer ARN the project's docs switched to with that
 * release), the version package.json pins for every `@aws-lambda-powertools/*` package, which
 * `test/infra/function-bundles.test.ts` checks. It carries the Tracer and the X-Ray SDK
 * (122 KB minified, more than any task function has left under the budget), so no bundle does.
 */
export const POWERTOOLS_LAYER = {
  account: '094274105915',
  name: 'AWSLambdaPowertoolsTypeScriptV2',
  version: 50,
  powertoolsVersion: '2.35.0',
  /** What the bundles leave to the layer, as the Powertools docs ask for esbuild. */
  modules: ['@aws-lambda-powertools/*'],
} as const;

/** The layer's ARN in `region` (a token such as `Stack.of(this).region` in the stack). */
export function powertoolsLayerArn(region: string): string {
  const { account, name, version } = POWERTOOLS_LAYER;
  return `arn:aws:lambda:${region}:${account}:layer:${name}:${version}`;
}

/**
 * The most a function's asset may weigh: its bundle and every file next to it. What the runtime
 * and the Powertools layer provide is not in the asset; `npm run bench` times loading it.
 */
export const FUNCTION_BUNDLE_BUDGET_BYTES = 250_000;

/**
 * How every function is bundled; `test/infra/function-bundles.test.ts` builds, measures and loads
 * the same, and `npm run bench` times the cold import of the same bundles.
 */
export const FUNCTION_BUNDLING = {
  format: OutputFormat.ESM,
  target: 'node24',
  minify: true,
  // No source maps: a map of a minified bundle weighs more than the bundle (every function's
  // asset would go over the budget with it), and `--enable-source-maps` parses it at every cold
  // start. Error names and messages are explicit in the code, so logs read without a map.
  sourceMap: false,
  // ESM first; dependencies that are still CommonJS get a `require` through the banner.
  mainFields: ['module', 'main'],
  banner: "import { createRequire } from 'module';const require = createRequire(import.meta.url);",
  // The AWS SDK comes from the Lambda runtime: one bundled client alone is 310-340 KB minified,
  // more than the whole budget, and the runtime's copy is already on disk in every sandbox.
  bundleAwsSDK: false,
  // Powertools comes from its layer, so its modules are loaded from /opt, not from the bundle.
  externalModules: [...RUNTIME_PROVIDED_MODULES, ...POWERTOOLS_LAYER.modules],
} as const satisfies BundlingOptions;

/**
 * The esbuild options NodejsFunction derives from `FUNCTION_BUNDLING` (its `--format`, `--target`,
 * `--minify`, `--sourcemap`, `--main-fields`, `--banner:js` and `--external` arguments), for
 * building the same bundles outside a synth. Outputs are `.mjs`, like CDK's `index.mjs`.
 */
export function functionEsbuildOptions(): BuildOptions {
  return {
    bundle: true,
    platform: 'node',
    format: FUNCTION_BUNDLING.format === OutputFormat.ESM ? 'esm' : 'cjs',
    target: FUNCTION_BUNDLING.target,
    minify: FUNCTION_BUNDLING.minify,
    sourcemap: FUNCTION_BUNDLING.sourceMap,
    mainFields: [...FUNCTION_BUNDLING.mainFields],
    banner: { js: FUNCTION_BUNDLING.banner },
    external: [...FUNCTION_BUNDLING.externalModules],
    outExtension: { '.js': '.mjs' },
  };
}
