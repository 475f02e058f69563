import type { ActionStatus } from '../lib/actions/schema.ts';

/** The exit codes of `citrix-response`, documented in `--help` and docs/cli.md. */
export const EXIT = {
  /** Succeeded, planned (a dry run), or a decision or request recorded without following it. */
  ok: 0,
  /** Failed, refused, rejected or expired; and any error the API or the network answered. */
  failed: 1,
  /** The command line was wrong: nothing was sent. */
  usage: 2,
  awaitingApproval: 3,
  partiallySucceeded: 4,
} as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of each status an action can end (or stop) in. `accepted` and `running` are only
 * reported when the command does not follow the action (`--no-follow`, `status` without
 * `--follow`): the request stands, so they exit 0.
 */
export const STATUS_EXIT_CODES = {
  accepted: EXIT.ok,
  running: EXIT.ok,
  succeeded: EXIT.ok,
  planned: EXIT.ok,
  partially_succeeded: EXIT.partiallySucceeded,
  failed: EXIT.failed,
  refused: EXIT.failed,
  rejected: EXIT.failed,
  expired: EXIT.failed,
  awaiting_approval: EXIT.awaitingApproval,
} as const satisfies Record<ActionStatus, ExitCode>;

/** What each exit code means, for `--help` (docs/cli.md has the same table). */
export const EXIT_CODE_HELP: Readonly<Record<ExitCode, string>> = {
  [EXIT.ok]: 'succeeded or planned (dry run); a decision recorded (approve, reject)',
  [EXIT.failed]: 'failed, refused, rejected or expired; an error from the API or the network',
  [EXIT.usage]: 'usage error (nothing was sent)',
  [EXIT.awaitingApproval]: 'awaiting approval by a second person',
  [EXIT.partiallySucceeded]: 'partially succeeded',
};

export function exitCodesText(): string {
  const lines = Object.entries(EXIT_CODE_HELP).map(([code, meaning]) => `  ${code}  ${meaning}`);
  return `Exit codes:\n${lines.join('\n')}`;
}
