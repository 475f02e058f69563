import { it } from 'vitest';
import { useLocalStack } from '../support/local-stack.ts';

const local = useLocalStack({
  reason: 'dbg',
  waitTimeOverrides: { WaitForStep: 20, WaitGracePeriod: 10 },
});
it('debug', async () => {
  const id = await local.request({
    action: 'runbook.run',
    target: { runbook: 'compromised-user' },
    inputs: { user: 'alice@example.com' },
  });
  const ex = local.stack.runner.execution(id);
  const done = await ex?.done;
  console.log(JSON.stringify(done, null, 1).slice(0, 3000));
  console.log(JSON.stringify(await local.stack.actions.get(id), null, 1).slice(0, 3000));
  console.log(
    ex?.events
      .map((e) => `${e.type} ${(e as { state?: { name: string } }).state?.name ?? ''}`)
      .join('\n'),
  );
});
