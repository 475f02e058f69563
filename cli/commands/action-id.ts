import { type Command, InvalidArgumentError } from 'commander';
import { ActionIdSchema } from '../../lib/actions/schema.ts';

/** The `<actionId>` argument: checked before anything is sent (commander reports a usage error). */
export function parseActionId(value: string): string {
  const parsed = ActionIdSchema.safeParse(value.trim());
  if (!parsed.success) {
    throw new InvalidArgumentError(parsed.error.issues[0]?.message ?? 'not an action id');
  }
  return parsed.data;
}

/** The checked `<actionId>` of a command whose first argument it is. */
export function actionIdOf(command: Command): string {
  return String(command.processedArgs[0]);
}
