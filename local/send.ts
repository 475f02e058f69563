import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { TARGET_FIELD_VALUES, type TargetField } from '../lib/actions/declaration.ts';
import { ACTION_TYPES, declarationOf, TERMINAL_ACTION_STATUSES } from '../lib/actions/schema.ts';
import { signStandardWebhook } from '../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_WEBHOOK_SECRET } from './defaults.ts';
import { fetchOrExit, localApiUrl } from './reach.ts';

/**
 * `npm run send -- <action> (--user U | --users A,B | --session ID | --delivery-group G | --machine M |
 * --client-address CIDR | --device ID) --reason "..." [--dry-run]`:
 * sends one Standard Webhooks-signed action request and follows its status until it ends.
 * `npm run send -- approve|reject <actionId> --by <name>` decides on a held action, then follows it
 * the same way (`--no-wait` for either: print the answer and stop).
 */
/** The flag that sets each target field. */
const TARGET_FLAGS = {
  user: 'user',
  users: 'users',
  sessionId: 'session',
  deliveryGroup: 'delivery-group',
  machine: 'machine',
  clientAddress: 'client-address',
  deviceId: 'device',
  admin: 'admin',
  email: 'email',
} as const satisfies Record<TargetField, string>;
type TargetFlag = (typeof TARGET_FLAGS)[TargetField];
const TARGET_OPTIONS = Object.fromEntries(
  Object.values(TARGET_FLAGS).map((flag) => [flag, { type: 'string' }]),
) as Record<TargetFlag, { type: 'string' }>;

/** One line per action, from the catalog: its target flags and modes. */
const actionLines = ACTION_TYPES.map((name) => {
  const { targetFields, modes } = declarationOf(name);
  const flags = targetFields.map((field) => `--${TARGET_FLAGS[field]}`).join(' | ');
  return `  ${name.padEnd(24)}${flags}${modes ? ` [--mode ${modes.values.join('|')}]` : ''}`;
});
const usage = `Usage: npm run send -- <action> <target flag> --reason "<why>" [--mode <mode>] [--ticket <id>]
       [--requested-by <who>] [--dry-run] [--no-wait] [--url <api url>]
Actions (docs/actions.md):
${actionLines.join('\n')}
Or:    npm run send -- approve|reject <actionId> --by <approver> [--comment "<why>"] [--no-wait] [--url <api url>]`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    ...TARGET_OPTIONS,
    mode: { type: 'string' },
    by: { type: 'string' },
    comment: { type: 'string' },
    reason: { type: 'string' },
    ticket: { type: 'string' },
    'requested-by': { type: 'string' },
    'dry-run': { type: 'boolean', default: false },
    'no-wait': { type: 'boolean', default: false },
    url: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});

const action = positionals[0];
const deciding = action === 'approve' || action === 'reject';
const targets = Object.entries(TARGET_FLAGS).filter(
  ([, flag]) => values[flag as TargetFlag] !== undefined,
);
if (
  values.help ||
  action === undefined ||
  (deciding ? positionals[1] === undefined || !values.by : targets.length !== 1)
) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}

const apiUrl = localApiUrl(process.env, values.url);
const secret = process.env.WEBHOOK_SECRET || LOCAL_DEMO_WEBHOOK_SECRET;

/** A list field (`--users a@x,b@x`) takes comma-separated names. */
function targetOf(options: typeof values): Record<string, string | string[] | undefined> {
  return Object.fromEntries(
    targets.map(([field, flag]) => {
      const value = options[flag as TargetFlag];
      return [
        field,
        TARGET_FIELD_VALUES[field as TargetField] === 'names'
          ? value?.split(',').map((name) => name.trim())
          : value,
      ];
    }),
  );
}

async function signedFetch(url: string, method: 'GET' | 'POST', body = ''): Promise<Response> {
  const headers = signStandardWebhook(secret, `msg_${randomUUID()}`, new Date(), body);
  return fetchOrExit(apiUrl, url, {
    method,
    headers: { ...headers, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body } : {}),
  });
}

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_ACTION_STATUSES);

/**
 * Polls the action's status until it ends, printing each change and then the final record;
 * exits 0 when it ended in one of `wanted`, 1 otherwise.
 */
async function follow(
  statusUrl: string,
  actionId: string,
  wanted: ReadonlySet<string> = new Set(['succeeded', 'planned']),
): Promise<never> {
  let lastStatus = '';
  for (;;) {
    const response = await signedFetch(statusUrl, 'GET');
    const status = (await response.json()) as { status?: string };
    if (status.status !== lastStatus) {
      lastStatus = status.status ?? '';
      console.log(`status: ${lastStatus}`);
      if (lastStatus === 'awaiting_approval') {
        console.log(
          `  someone else approves with: npm run send -- approve ${actionId} --by <their name>`,
        );
      }
    }
    if (!response.ok || TERMINAL.has(lastStatus)) {
      console.log(JSON.stringify(status, null, 2));
      process.exit(wanted.has(lastStatus) ? 0 : 1);
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
}

if (deciding) {
  // Approve or reject an action awaiting approval, then follow it like any other.
  const actionId = positionals[1] ?? '';
  const statusUrl = `${apiUrl}/v1/actions/${encodeURIComponent(actionId)}`;
  const decided = await signedFetch(
    `${statusUrl}/${action}`,
    'POST',
    JSON.stringify({ by: values.by, ...(values.comment ? { comment: values.comment } : {}) }),
  );
  console.log(`${decided.status} ${JSON.stringify(await decided.json(), null, 2)}`);
  if (!decided.ok || values['no-wait']) process.exit(decided.ok ? 0 : 1);
  // A rejected action ends `rejected`: that is the outcome asked for.
  await follow(statusUrl, actionId, action === 'reject' ? new Set(['rejected']) : undefined);
}

const body = JSON.stringify({
  action,
  target: targetOf(values),
  ...(values.mode ? { options: { mode: values.mode } } : {}),
  reason: values.reason ?? '',
  ...(values.ticket ? { ticket: values.ticket } : {}),
  requestedBy: values['requested-by'] ?? process.env.USER ?? 'npm run send',
  dryRun: values['dry-run'],
});

const accepted = await signedFetch(`${apiUrl}/v1/actions`, 'POST', body);
const answer = (await accepted.json()) as { actionId?: string; statusUrl?: string };
console.log(`${accepted.status} ${JSON.stringify(answer, null, 2)}`);
if (accepted.status !== 202 || answer.statusUrl === undefined || values['no-wait']) {
  process.exit(accepted.status === 202 ? 0 : 1);
}

await follow(answer.statusUrl, answer.actionId ?? '');
