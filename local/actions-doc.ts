import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { ApprovalRule } from '../lib/actions/declaration.ts';
import {
  ACTION_TYPES,
  type ActionType,
  declarationOf,
  workflowFor,
} from '../lib/actions/schema.ts';
import type { GuardrailSettings } from '../lib/guardrails/config.ts';
import { requiresApproval } from '../lib/guardrails/decide.ts';

/**
 * The action catalog as people read it: `docs/actions.md` (`npm run docs` writes it, a test keeps
 * it current) and the table `npm start` prints with the guardrails in force. Both come from the
 * declarations, so neither can list an action the code does not have.
 */

const ROOT = fileURLToPath(new URL('..', import.meta.url));
export const ACTIONS_DOC_FILE = 'docs/actions.md';

const code = (value: string) => `\`${value}\``;
/** The target fields an action takes; a runbook run's target names its runbook instead. */
const targetFieldsOf = (action: ActionType): readonly string[] => {
  const { product, targetFields } = declarationOf(action);
  return product === 'runbooks' ? ['runbook', 'definition'] : targetFields;
};
const targetsOf = (action: ActionType) =>
  targetFieldsOf(action)
    .map((field) => code(field))
    .join(' or ');

function describeApproval(rule: ApprovalRule, action: ActionType): string {
  if (rule === 'always') return 'always';
  if (rule === 'never') return 'no';
  return rule.modes.map((mode) => `mode ${code(mode)} (${code(`${action}:${mode}`)})`).join(', ');
}

/** The Markdown of docs/actions.md. */
export function renderActionsDoc(): string {
  const rows = ACTION_TYPES.map((action) => {
    const d = declarationOf(action);
    return `| ${code(action)} | ${d.summary} | ${targetsOf(action)} | ${d.destructive ? 'yes' : 'no'} | ${d.limits.perRequest} | ${d.limits.perHour} | ${describeApproval(d.approval, action)} | ${code(workflowFor(action))} |`;
  });
  const details = ACTION_TYPES.map((action) => {
    const d = declarationOf(action);
    const modes =
      d.modes === undefined
        ? []
        : [
            `- Modes (\`options.mode\`, default ${code(d.modes.default)}):`,
            ...d.modes.values.map((mode) => `  - ${code(mode)}: ${d.modes?.describe[mode]}`),
          ];
    return [
      `### ${code(action)}`,
      '',
      d.summary,
      '',
      `- Targets: ${targetsOf(action)}`,
      `- Citrix call: ${d.citrix.request}`,
      `- Undo: ${d.reversal}`,
      ...(d.warnsUsers ? ['- Can warn each user first (`notify`, `urgency`)'] : []),
      ...modes,
      d.product === 'runbooks'
        ? '- Dry run: every step plans, as a dry run of its own action ([runbooks](runbooks.md))'
        : `- Dry run: "Dry run: would ${d.wording.would} 3 ${d.wording.noun}s"`,
      '',
    ].join('\n');
  });
  return [
    '# Actions',
    '',
    '<!-- Generated from the action catalog (lib/actions/catalog.ts) by `npm run docs`; do not edit. -->',
    '',
    'Every action Citrix Response can take, as declared in its product folder',
    '(`lib/sessions/catalog.ts`, `lib/devices/catalog.ts`, `lib/administrators/catalog.ts`,',
    '`lib/runbooks/catalog.ts`).',
    'Limits and approvals are the defaults; a deployment changes them with `GUARDRAIL_LIMITS` and',
    '`APPROVAL_REQUIRED` ([guardrails](guardrails.md)). Over a limit, an action is held for approval.',
    "Each action's **Undo** line says how it is undone where Citrix allows it (a strip-mode",
    "`admin.revoke` by `admin.restore`, whose command the revoke's status names), or plainly that it",
    'cannot be (a log off, a wipe, a deleted administrator or invitation).',
    '',
    '| action | what it does | target | destructive | per request | per hour | approval | workflow |',
    '| --- | --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    ...details,
  ].join('\n');
}

/** The lines `npm start` prints: each action with the limits and approval in force. */
export function describeActionsInForce(
  settings: Pick<GuardrailSettings, 'limits' | 'approvalRequired'>,
): string[] {
  const width = Math.max(...ACTION_TYPES.map((action) => action.length));
  return ACTION_TYPES.map((action) => {
    const d = declarationOf(action);
    const limit = settings.limits[action];
    const modes = d.modes?.values ?? [];
    const approval = requiresApproval(action, undefined, settings)
      ? 'needs approval'
      : modes
          .filter((mode) => requiresApproval(action, mode, settings))
          .map((mode) => `needs approval with mode ${mode}`)
          .join(', ');
    const targets = targetFieldsOf(action).join('|');
    return `    ${action.padEnd(width)}  ${targets.padEnd(16)} ${limit.perRequest}/request, ${limit.perHour}/hour${d.destructive ? ', destructive' : ''}${approval ? `, ${approval}` : ''}`;
  });
}

if (import.meta.main) {
  const path = `${ROOT}${ACTIONS_DOC_FILE}`;
  const generated = renderActionsDoc();
  if (process.argv.includes('--check')) {
    if (readFileSync(path, 'utf8') !== generated) {
      console.error(`${ACTIONS_DOC_FILE} is out of date with the catalog: run npm run docs`);
      process.exit(1);
    }
    console.log(`${ACTIONS_DOC_FILE} is up to date`);
  } else {
    writeFileSync(path, generated);
    console.log(`wrote ${ACTIONS_DOC_FILE}`);
  }
}
