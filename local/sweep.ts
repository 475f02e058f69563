import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import type { PlanScope } from '../lib/actions/schema.ts';
import { TERMINAL_ACTION_STATUSES } from '../lib/actions/schema.ts';
import { signStandardWebhook } from '../lib/webhooks/standard-webhooks.ts';
import { LOCAL_DEMO_WEBHOOK_SECRET, localSweepRoute } from './defaults.ts';
import { fetchOrExit, localApiUrl } from './reach.ts';

/**
 * `npm run sweep -- <name> [--dry-run]`: asks the running `npm start` to run a sweep now (as its
 * schedule would), then follows the run to its end, printing progress, and exits 0 when it
 * succeeded (or, for a dry run or a report-mode sweep, was planned), 1 otherwise. The route is
 * local-only: in AWS, EventBridge Scheduler runs sweeps.
 */
const usage = `Usage: npm run sweep -- <sweep name> [--dry-run] [--url <api url>]
Sweeps are declared in config/sweeps.json (or SWEEPS_FILE); npm start lists them.`;

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    'dry-run': { type: 'boolean', default: false },
    url: { type: 'string' },
    help: { type: 'boolean', default: false },
  },
});
const [name, ...extra] = positionals;
if (values.help || name === undefined || extra.length > 0) {
  console.error(usage);
  process.exit(values.help ? 0 : 2);
}

const apiUrl = localApiUrl(process.env, values.url);
const secret = process.env.WEBHOOK_SECRET || LOCAL_DEMO_WEBHOOK_SECRET;

const started = await fetchOrExit(apiUrl, `${apiUrl}${localSweepRoute(name, values['dry-run'])}`, {
  method: 'POST',
});
if (started.status === 404) {
  console.error(`No sweep named "${name}" is declared in the running npm start (see its banner)`);
  process.exit(1);
}
const run = (await started.json()) as {
  actionId?: string;
  duplicate?: boolean;
  message?: string;
};
if (!started.ok || run.actionId === undefined) {
  console.error(`${started.status} ${run.message ?? JSON.stringify(run)}`);
  process.exit(1);
}
console.log(`Sweep ${name}: action ${run.actionId}${values['dry-run'] ? ' (dry run)' : ''}`);

interface ActionStatus {
  status?: string;
  summary?: string;
  results?: { outcome?: string }[];
  plan?: { act: boolean }[];
  scope?: PlanScope;
}

/** The plan's sessions by delivery group and machine, a few of each, before anything acts. */
function describeScope(scope: PlanScope): string[] {
  const list = (entries: PlanScope['byMachine'], more: number, noun: string) =>
    `  by ${noun}: ${entries
      .slice(0, 5)
      .map((entry) => `${entry.name} ${entry.actionable}/${entry.targets}`)
      .join(', ')}${entries.length + more > 5 ? `, and ${entries.length + more - 5} more` : ''}`;
  return [
    list(scope.byDeliveryGroup, scope.moreDeliveryGroups, 'delivery group'),
    list(scope.byMachine, scope.moreMachines, 'machine'),
  ];
}

const TERMINAL: ReadonlySet<string> = new Set(TERMINAL_ACTION_STATUSES);
const statusUrl = `${apiUrl}/v1/actions/${encodeURIComponent(run.actionId)}`;
let last = '';
let scopeShown = false;
for (;;) {
  const headers = signStandardWebhook(secret, `msg_${randomUUID()}`, new Date(), '');
  const response = await fetchOrExit(apiUrl, statusUrl, { headers });
  const action = (await response.json()) as ActionStatus;
  const planned = action.plan?.filter((entry) => entry.act).length ?? 0;
  const finished = action.results?.filter((result) => result.outcome !== 'planned').length ?? 0;
  const line = `${action.status ?? 'unknown'}: ${finished} of ${action.plan?.length ?? 0} targets recorded, ${planned} to act on`;
  if (action.scope !== undefined && !scopeShown) {
    console.log(
      `Plan: ${action.scope.actionable} of ${action.scope.targets} sessions to act on (acting on / found)`,
    );
    for (const scopeLine of describeScope(action.scope)) console.log(scopeLine);
    scopeShown = true;
  }
  if (line !== last) {
    console.log(line);
    last = line;
    if (action.status === 'awaiting_approval') {
      console.log(
        `  held for approval: another person approves with npx citrix-response approve ${run.actionId}`,
      );
    }
  }
  if (!response.ok || TERMINAL.has(action.status ?? '')) {
    console.log(action.summary ?? '');
    console.log(`Details: GET ${statusUrl}`);
    process.exit(action.status === 'succeeded' || action.status === 'planned' ? 0 : 1);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
