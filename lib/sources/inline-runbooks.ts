import { SourceRequestError } from './errors.ts';
import type { SourceName } from './types.ts';

const REFUSED_DEFINITION =
  'a source may only run a runbook deployed with the stack, by name (target.runbook): an inline definition is refused';

/**
 * Refuses a runbook written into a source's request (`target.definition`): its steps could name
 * any action, whatever the source's `allowedActions` say. A source runs only the runbooks
 * deployed with the stack, by name (`target.runbook`); people may still send a definition to
 * `POST /v1/actions`, as themselves. The requesting sources check it first (so the answer is
 * this 400 whatever else the request says), and receiving checks every request again, whatever
 * the source.
 */
export function refuseInlineRunbook(source: SourceName, title: string, target: unknown): void {
  if (target === null || typeof target !== 'object' || !Object.hasOwn(target, 'definition')) {
    return;
  }
  throw new SourceRequestError(source, `The ${title} request is not a valid action`, [
    {
      code: 'custom',
      path: ['target', 'definition'],
      message: REFUSED_DEFINITION,
      input: undefined,
    },
  ]);
}
