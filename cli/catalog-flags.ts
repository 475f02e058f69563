import { Option } from 'commander';
import {
  type ActionDeclaration,
  type ApprovalRule,
  TARGET_FIELD_VALUES,
  type TargetField,
} from '../lib/actions/declaration.ts';
import { URGENCIES } from '../lib/actions/schema.ts';

/** `deliveryGroup` → `delivery-group`: each target field's flag is its name, in kebab case. */
export const flagNameOf = (field: string): string =>
  field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`);

/** `delivery-group` → `deliveryGroup`: where commander puts the flag's value. */
const optionKeyOf = (flag: string): string =>
  flag.replace(/-([a-z])/g, (_, letter: string) => letter.toUpperCase());

/** What each target field's flag takes and names, for `--help`. */
const TARGET_FLAG_HELP = {
  user: [
    '<user>',
    'a user: UPN (alice@example.com) or DOMAIN\\user; all of their sessions or devices',
  ],
  users: ['<users>', 'several users, comma-separated'],
  sessionId: ['<id>', 'one Citrix DaaS session (its GUID)'],
  deliveryGroup: ['<name>', 'every session of a delivery group'],
  machine: ['<name>', 'every session on a machine (DOMAIN\\name or DNS name)'],
  clientAddress: ['<address>', 'every session from a client address or CIDR range'],
  deviceId: ['<id>', 'one Endpoint Management device (its id)'],
  admin: ['<admin>', 'a Citrix Cloud administrator: email, userId or ucOid'],
  email: ['<email>', 'the email of a pending administrator invitation'],
} as const satisfies Record<TargetField, readonly [string, string]>;

/** One flag per target field the action takes; giving two of them is a usage error. */
export function targetOptions(declaration: ActionDeclaration): Option[] {
  return declaration.targetFields.map((field) => {
    const others = declaration.targetFields.filter((other) => other !== field);
    const [value, help] = TARGET_FLAG_HELP[field];
    return new Option(`--${flagNameOf(field)} ${value}`, help).conflicts(
      others.map((other) => optionKeyOf(flagNameOf(other))),
    );
  });
}

/** `--mode` where the action has modes (choices and default from its declaration). */
export function modeOptions(declaration: ActionDeclaration): Option[] {
  const modes = declaration.modes;
  if (modes === undefined) return [];
  const described = modes.values.map((mode) => `${mode}: ${modes.describe[mode]}`).join('; ');
  return [new Option('--mode <mode>', described).choices(modes.values).default(modes.default)];
}

/** The graceful warning flags of the actions that warn session users first (`warnsUsers`). */
export function warningOptions(declaration: ActionDeclaration): Option[] {
  if (!declaration.warnsUsers) return [];
  return [
    new Option('--notify <message>', "warn each session's user with this message first"),
    new Option('--notify-title <title>', "the warning's title").default(
      `Your session will be ${declaration.wording.done}`,
    ),
    new Option('--grace-seconds <seconds>', 'how long users get to save their work (0–900)'),
    new Option('--urgency <urgency>', '`immediate` skips the warning: containment first').choices(
      URGENCIES,
    ),
  ];
}

/** The target the flags name: exactly one field; a list field (`--users a,b`) splits on commas. */
export function targetOf(
  declaration: ActionDeclaration,
  values: Readonly<Record<string, unknown>>,
): Record<string, string | string[]> | undefined {
  const given = declaration.targetFields.filter(
    (field) => values[optionKeyOf(flagNameOf(field))] !== undefined,
  );
  const [field] = given;
  if (field === undefined) return undefined;
  const value = String(values[optionKeyOf(flagNameOf(field))]);
  switch (TARGET_FIELD_VALUES[field]) {
    case 'names':
      return {
        [field]: value
          .split(',')
          .map((name) => name.trim())
          .filter((name) => name !== ''),
      };
    case 'name':
      return { [field]: value };
  }
}

/** Whether the action, in this mode, needs a second person's approval by default. */
export function needsApproval(rule: ApprovalRule, mode: string | undefined): boolean {
  if (rule === 'always') return true;
  if (rule === 'never') return false;
  return mode !== undefined && rule.modes.includes(mode);
}

/**
 * The flag a request field comes from, to name it in a usage error: `target.user` → `--user`,
 * `notify.text` → `--notify`, `options.mode` → `--mode`.
 */
export function flagOfRequestPath(path: readonly PropertyKey[]): string {
  const [first, second] = path.map(String);
  if (first === 'target' && second !== undefined) return `--${flagNameOf(second)}`;
  if (first === 'options') return '--mode';
  if (first === 'notify') {
    const notifyFlags: Readonly<Record<string, string>> = {
      text: '--notify',
      title: '--notify-title',
      graceSeconds: '--grace-seconds',
    };
    return notifyFlags[second ?? ''] ?? '--notify';
  }
  return first === undefined ? 'the request' : `--${flagNameOf(first)}`;
}
