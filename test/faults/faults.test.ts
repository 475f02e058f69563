import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CI_SUBSET, FAULT_NAMES, WORKFLOW_NAMES } from '../../faults/cases.ts';
import { type FaultStack, runCase, startFaultStack } from '../../faults/harness.ts';

/**
 * The fault-injection suite's CI subset (`npm run faults` runs every pair): each case must end
 * with every target terminal and recorded, no mutation applied twice, and the fault fired.
 */
let faultStack: FaultStack | undefined;
beforeAll(async () => {
  faultStack = await startFaultStack();
}, 60_000);
afterAll(async () => faultStack?.close());

describe('the CI subset', () => {
  it('covers every fault and every workflow', () => {
    expect(new Set(CI_SUBSET.map(([fault]) => fault))).toEqual(new Set(FAULT_NAMES));
    expect(new Set(CI_SUBSET.map(([, workflow]) => workflow))).toEqual(new Set(WORKFLOW_NAMES));
  });
});

describe('fault × workflow', () => {
  for (const [fault, workflow] of CI_SUBSET) {
    it(`${fault} × ${workflow}: terminal, recorded, nothing sent twice`, async () => {
      if (faultStack === undefined) throw new Error('the fault stack is not running');
      const result = await runCase(faultStack, fault, workflow);
      expect(result.violations).toEqual([]);
      expect(result.recorded).toBe(result.targets);
      expect(result.duplicates).toEqual([]);
    }, 90_000);
  }
});
