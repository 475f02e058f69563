import { readdirSync, readFileSync } from 'node:fs';
import { isDeepStrictEqual } from 'node:util';
import { describe, expect, it } from 'vitest';
import { CATCH, RETRY } from '../../../lib/workflow/asl/policies.ts';
import {
  ACTION_DONE,
  ACTION_FAILED,
  HOLD_FAILED,
  NOTIFY_OUTCOME,
  NOTIFY_OUTCOME_AFTER_FAILURE,
  RECORD_EXPIRY,
  RECORD_REJECTION,
} from '../../../lib/workflow/asl/shared-states.ts';
import { aslText, WORKFLOW_SOURCES } from '../../../lib/workflow/asl/sources.ts';
import { WORKFLOWS } from '../../../lib/workflow/definition.ts';

/**
 * The ASL files are written from `lib/workflow/asl/` by `npm run workflows`: each Retry and Catch
 * policy, and each state the workflows share, has one named definition there.
 */

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Node = { [key: string]: Json };

const fileOf = (workflow: (typeof WORKFLOWS)[number]) =>
  JSON.parse(readFileSync(workflow.file, 'utf8')) as Node;

/** Every state of a definition, nested Map iterations included, with its name. */
function statesOf(machine: Node): [string, Node][] {
  const states = Object.entries(machine.States as Record<string, Node>);
  return states.flatMap(([name, state]) => {
    const processor = state.ItemProcessor as Node | undefined;
    return [[name, state] as [string, Node], ...(processor ? statesOf(processor) : [])];
  });
}

const retriersOf = (machine: Node) =>
  statesOf(machine).flatMap(([name, state]) =>
    ((state.Retry ?? []) as Node[]).map((retrier) => [name, retrier] as const),
  );
const catchersOf = (machine: Node) =>
  statesOf(machine).flatMap(([name, state]) =>
    ((state.Catch ?? []) as Node[]).map((catcher) => [name, catcher] as const),
  );

const NAMED_RETRIERS = Object.entries(RETRY);

describe.each(WORKFLOWS.map((workflow) => [workflow.name, workflow] as const))(
  '%s.asl.json',
  (name, workflow) => {
    it('is what its source writes: run `npm run workflows` after changing lib/workflow/asl/', () => {
      // Whitespace is biome's; everything else, key order included, is the source's.
      expect(aslText(fileOf(workflow) as never), `${name}.asl.json is stale`).toBe(
        aslText(WORKFLOW_SOURCES[workflow.name]),
      );
    });

    it('uses only the named Retry policies', () => {
      const retriers = retriersOf(fileOf(workflow));
      expect(retriers.length).toBeGreaterThan(0);
      for (const [state, retrier] of retriers) {
        const named = NAMED_RETRIERS.find(([, policy]) => isDeepStrictEqual(policy, retrier));
        expect(named, `${state}: ${JSON.stringify(retrier)}`).toBeDefined();
      }
    });

    it('uses only the named Catch policies', () => {
      const approvalOutcome = CATCH.approvalOutcome as readonly unknown[];
      for (const [state, catcher] of catchersOf(fileOf(workflow))) {
        const named =
          isDeepStrictEqual([catcher], CATCH.failAction) ||
          approvalOutcome.some((entry) => isDeepStrictEqual(entry, catcher)) ||
          isDeepStrictEqual([catcher], CATCH.failTarget(String(catcher.Next))) ||
          isDeepStrictEqual(
            [catcher],
            CATCH.continueAfter(catcher.ResultPath as `$.${string}Error`, String(catcher.Next)),
          );
        expect(named, `${state}: ${JSON.stringify(catcher)}`).toBe(true);
      }
    });

    it('holds each state the workflows share exactly as its one definition', () => {
      const shared = {
        RecordRejection: RECORD_REJECTION,
        RecordExpiry: RECORD_EXPIRY,
        HoldFailed: HOLD_FAILED,
        NotifyOutcome: NOTIFY_OUTCOME,
        NotifyOutcomeAfterFailure: NOTIFY_OUTCOME_AFTER_FAILURE,
        ActionDone: ACTION_DONE,
        ActionFailed: ACTION_FAILED,
      };
      const states = fileOf(workflow).States as Record<string, Json>;
      for (const [stateName, definition] of Object.entries(shared)) {
        expect(states[stateName], stateName).toStrictEqual(definition);
      }
    });
  },
);

describe('named workflow policies', () => {
  it('are all in use, and there are as many as the workflows need', () => {
    const used = WORKFLOWS.flatMap((workflow) =>
      retriersOf(fileOf(workflow)).map(([, retrier]) => retrier),
    );
    const unused = NAMED_RETRIERS.filter(
      ([, policy]) => !used.some((retrier) => isDeepStrictEqual(policy, retrier)),
    );
    expect(unused.map(([name]) => name)).toEqual([]);
    // No two names for one policy.
    const distinct = new Set(NAMED_RETRIERS.map(([, policy]) => JSON.stringify(policy)));
    expect(distinct.size).toBe(NAMED_RETRIERS.length);
  });

  it('name only errors that the task functions throw, or that Step Functions and Lambda raise', () => {
    const names = new Set(
      [
        ...Object.values(RETRY),
        ...CATCH.failAction,
        ...CATCH.approvalOutcome,
        ...WORKFLOWS.flatMap((workflow) =>
          catchersOf(fileOf(workflow)).map(([, catcher]) => catcher),
        ),
      ].flatMap((policy) => policy.ErrorEquals as string[]),
    );
    const source = sourceText(['lib', 'functions']);
    const thrown = [...names].filter(
      (name) => !name.startsWith('States.') && !name.startsWith('Lambda.'),
    );
    expect(thrown.length).toBeGreaterThan(0);
    for (const name of thrown) {
      // The error's `name` (`override name = '…'`, `this.name = '…'`) or the error a task token
      // is failed with (`ActionRejectedError`).
      expect(source.includes(`'${name}'`), `no error named ${name} in lib/ or functions/`).toBe(
        true,
      );
    }
  });
});

/** Every TypeScript file under the given project folders, concatenated. */
function sourceText(folders: readonly string[]): string {
  const root = new URL('../../../', import.meta.url);
  return folders
    .flatMap((folder) =>
      readdirSync(new URL(folder, root), { recursive: true, encoding: 'utf8' })
        .filter((file) => file.endsWith('.ts'))
        .map((file) => readFileSync(new URL(`${folder}/${file}`, root), 'utf8')),
    )
    .join('\n');
}
