import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { beforeEach, describe, expect, it } from 'vitest';
import type { WorkflowDefinition } from '../../lib/workflow/definition.ts';
import {
  DEFAULT_TASK_TIMEOUT_SECONDS,
  type LocalTaskHandler,
  LocalWorkflowRunner,
  LocalWorkflows,
} from '../../local/workflow-runner.ts';

/**
 * The local runner's Lambda timeouts: each task gets its function's declared timeout (60 s by
 * default, as the stack gives it), and an injected timeout surfaces as `Sandbox.Timedout`, which
 * the workflow file's Retry and Catch see as Step Functions would.
 */
const file = join(tmpdir(), `workflow-runner-${process.pid}.asl.json`);
writeFileSync(
  file,
  JSON.stringify({
    StartAt: 'Act',
    TimeoutSeconds: 60,
    States: {
      Act: {
        Type: 'Task',
        // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions placeholder, not a template
        Resource: '${ActFunctionArn}',
        Catch: [{ ErrorEquals: ['Sandbox.Timedout'], ResultPath: '$.error', Next: 'Record' }],
        Next: 'Record',
      },
      // biome-ignore lint/suspicious/noTemplateCurlyInString: a Step Functions placeholder, not a template
      Record: { Type: 'Task', Resource: '${RecordFunctionArn}', End: true },
    },
  }),
);
const workflow: WorkflowDefinition = {
  name: 'session-action',
  file: pathToFileURL(file),
  functions: [
    {
      substitution: 'ActFunctionArn',
      name: 'act',
      entry: 'functions/act.ts',
      recordsActions: false,
      calls: 'daas',
      timeoutSeconds: 2,
    },
    {
      substitution: 'RecordFunctionArn',
      name: 'record',
      entry: 'functions/record.ts',
      recordsActions: false,
      calls: 'nothing',
    },
  ],
};

let acted = 0;
let remaining: number[] = [];
let actHandler: LocalTaskHandler;
const handlers: Record<string, LocalTaskHandler> = {
  act: (event, context) => actHandler(event, context),
  record: async (event, context) => {
    remaining.push(context.getRemainingTimeInMillis());
    return event;
  },
};

beforeEach(() => {
  acted = 0;
  remaining = [];
  actHandler = async (_event, context) => {
    acted += 1;
    remaining.push(context.getRemainingTimeInMillis());
    return { acted: true };
  };
});

function workflows() {
  return new LocalWorkflows(
    new Map([['session-action', new LocalWorkflowRunner(workflow, { handlers })]]),
  );
}

async function run(local: LocalWorkflows, name: string) {
  await local.start('session-action', name, {});
  const done = await local.execution(name)?.done;
  if (done === undefined) throw new Error('not started');
  return done;
}

describe('LocalWorkflowRunner Lambda timeouts', () => {
  it("gives each task its function's timeout, the default when none is declared", async () => {
    const done = await run(workflows(), 'plain');
    expect(done).toEqual({ status: 'SUCCEEDED', output: { acted: true } });
    const [act, record] = remaining;
    expect(act).toBeLessThanOrEqual(2000);
    expect(act).toBeGreaterThan(1000);
    expect(record).toBeGreaterThan(2000);
    expect(record).toBeLessThanOrEqual(DEFAULT_TASK_TIMEOUT_SECONDS * 1000);
  });

  it('fails a handler that overruns its timeout with Sandbox.Timedout, which Catch sees', async () => {
    actHandler = () => new Promise(() => {});
    const done = await run(workflows(), 'overrun');
    expect(done.status).toBe('SUCCEEDED');
    expect(done).toMatchObject({
      output: {
        error: {
          Error: 'Sandbox.Timedout',
          Cause: expect.stringContaining('act timed out after 2 seconds'),
        },
      },
    });
  });

  it('an injected after-work timeout runs the handler, then loses its answer, once', async () => {
    const local = workflows();
    local.lambdaFaults.timeOut('act', 1, 'after-work');
    const first = await run(local, 'after-1');
    expect(acted).toBe(1);
    expect(first).toMatchObject({ output: { error: { Error: 'Sandbox.Timedout' } } });
    expect(local.lambdaFaults.fired('act')).toBe(1);
    expect(await run(local, 'after-2')).toEqual({ status: 'SUCCEEDED', output: { acted: true } });
  });

  it('an injected before-work timeout never calls the handler', async () => {
    const local = workflows();
    local.lambdaFaults.timeOut('act', 1, 'before-work');
    const done = await run(local, 'before');
    expect(acted).toBe(0);
    expect(done).toMatchObject({ output: { error: { Error: 'Sandbox.Timedout' } } });
  });

  it('refuses a fault that names no task function or counts none', () => {
    const local = workflows();
    expect(() => local.lambdaFaults.timeOut('Not A Name')).toThrow(/functionName/);
    expect(() => local.lambdaFaults.timeOut('act', 0)).toThrow(/count/);
  });
});

describe('LocalWorkflowRunner event logs', () => {
  it('keeps each execution’s events by default, and only reports them when told not to keep them', async () => {
    const kept = await (async () => {
      const local = workflows();
      await run(local, 'kept');
      return local.execution('kept')?.events.length ?? 0;
    })();
    expect(kept).toBeGreaterThan(0);

    const reported: string[] = [];
    const local = new LocalWorkflows(
      new Map([
        [
          'session-action',
          new LocalWorkflowRunner(workflow, {
            handlers,
            retainEvents: false,
            onEvent: (name, event) => reported.push(`${name} ${event.type}`),
          }),
        ],
      ]),
    );
    await run(local, 'dropped');
    expect(local.execution('dropped')?.events).toEqual([]);
    expect(reported).toHaveLength(kept);
    expect(reported[0]).toMatch(/^dropped /);
  });
});
