import type { Metafile } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { bundleWeight, inputOrigin, overBudget } from './bundle-budget.ts';

const input = (bytesInOutput: number) => ({ bytesInOutput });

/** A bundle of 300 KB: zod in two files, the AWS SDK by mistake, and project code. */
const metafile: Metafile = {
  inputs: {},
  outputs: {
    'out/functions/heavy.mjs': {
      bytes: 300_000,
      imports: [],
      exports: ['handler'],
      entryPoint: 'functions/heavy.ts',
      inputs: {
        'node_modules/zod/v4/core/schemas.js': input(60_000),
        'node_modules/zod/v4/classic/schemas.js': input(40_000),
        'node_modules/@aws-sdk/client-dynamodb/dist-es/index.js': input(150_000),
        'lib/actions/schema.ts': input(30_000),
        'functions/heavy.ts': input(20_000),
      },
    },
    'out/functions/light.mjs': {
      bytes: 1_000,
      imports: [],
      exports: ['handler'],
      entryPoint: 'functions/light.ts',
      inputs: { 'functions/light.ts': input(1_000) },
    },
  },
};

describe('bundle budget', () => {
  it('names an input by its npm package, or by its path in the project', () => {
    expect(inputOrigin('node_modules/zod/v4/core/schemas.js')).toBe('zod');
    expect(inputOrigin('node_modules/@aws-sdk/client-sfn/dist-es/index.js')).toBe(
      '@aws-sdk/client-sfn',
    );
    expect(inputOrigin('../../node_modules/@middy/core/index.js')).toBe('@middy/core');
    expect(inputOrigin('lib/actions/schema.ts')).toBe('lib/actions/schema.ts');
  });

  it('adds up what each origin puts in one bundle, largest first', () => {
    const weight = bundleWeight(metafile, 'functions/heavy');

    expect(weight.bytes).toBe(300_000);
    expect(weight.origins.map((o) => [o.origin, o.bytes])).toEqual([
      ['@aws-sdk/client-dynamodb', 150_000],
      ['zod', 100_000],
      ['lib/actions/schema.ts', 30_000],
      ['functions/heavy.ts', 20_000],
    ]);
  });

  it('counts a source map as part of the asset', () => {
    const withMap: Metafile = {
      ...metafile,
      outputs: {
        ...metafile.outputs,
        'out/functions/light.mjs.map': { bytes: 2_500, imports: [], exports: [], inputs: {} },
      },
    };

    expect(bundleWeight(withMap, 'functions/light').bytes).toBe(3_500);
  });

  it('passes a bundle within the budget and names the largest inputs of one over it', () => {
    expect(overBudget('functions/light', bundleWeight(metafile, 'functions/light'), 250_000)).toBe(
      undefined,
    );

    const message = overBudget(
      'functions/heavy',
      bundleWeight(metafile, 'functions/heavy'),
      250_000,
      2,
    );

    expect(message).toBe(
      [
        'functions/heavy is 300.0 KB minified, over the 250.0 KB budget by 50.0 KB. Largest inputs:',
        '   150.0 KB  @aws-sdk/client-dynamodb',
        '   100.0 KB  zod',
      ].join('\n'),
    );
  });
});
