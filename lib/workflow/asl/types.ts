/**
 * The part of Amazon States Language (JSONPath) the workflows are written in, typed so that a
 * misspelt field is a compile error in the workflow sources. Only what the workflows use.
 */

type JsonValue = null | boolean | number | string | readonly JsonValue[] | JsonObject;
export interface JsonObject {
  readonly [key: string]: JsonValue;
}

/** One entry of a state's `Retry`: a named policy from `policies.ts`. */
export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds: number;
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly MaxDelaySeconds: number;
  readonly JitterStrategy?: 'FULL' | 'NONE';
}

/** One entry of a state's `Catch`: built by the named policies in `policies.ts`. */
export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly ResultPath: string;
  readonly Next: string;
}

interface Transition {
  readonly Next?: string;
  readonly End?: true;
}

export interface TaskState extends Transition {
  readonly Type: 'Task';
  readonly Comment?: string;
  /** A `${...FunctionArn}` placeholder, or the waitForTaskToken integration. */
  readonly Resource: string;
  readonly Parameters?: JsonObject;
  readonly ResultPath?: string;
  readonly TimeoutSeconds?: number;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export interface ChoiceRule {
  readonly Variable?: string;
  readonly BooleanEquals?: boolean;
  readonly StringEquals?: string;
  readonly IsNull?: boolean;
  readonly IsPresent?: boolean;
  readonly And?: readonly ChoiceRule[];
  readonly Next?: string;
}

export interface ChoiceState {
  readonly Type: 'Choice';
  readonly Comment?: string;
  readonly Choices: readonly ChoiceRule[];
  readonly Default: string;
}

export interface PassState extends Transition {
  readonly Type: 'Pass';
  readonly Comment?: string;
  readonly Result?: JsonValue;
  readonly ResultPath?: string;
}

export interface WaitState extends Transition {
  readonly Type: 'Wait';
  readonly Comment?: string;
  readonly SecondsPath: string;
}

export interface MapState extends Transition {
  readonly Type: 'Map';
  readonly Comment?: string;
  readonly ItemsPath: string;
  readonly ItemSelector: JsonObject;
  readonly MaxConcurrency: number;
  readonly ItemProcessor: {
    readonly ProcessorConfig: { readonly Mode: 'INLINE' };
    readonly StartAt: string;
    readonly States: States;
  };
  /** null discards the iterations' output (a batched Map keeps its results outside the state). */
  readonly ResultPath: string | null;
  readonly Catch?: readonly Catcher[];
}

export interface SucceedState {
  readonly Type: 'Succeed';
  readonly Comment?: string;
  readonly OutputPath?: string;
}

export interface FailState {
  readonly Type: 'Fail';
  readonly Comment?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
}

export type State =
  | TaskState
  | ChoiceState
  | PassState
  | WaitState
  | MapState
  | SucceedState
  | FailState;

export type States = Readonly<Record<string, State>>;

export interface StateMachine {
  readonly Comment: string;
  readonly StartAt: string;
  readonly TimeoutSeconds: number;
  readonly States: States;
}

/**
 * The `${Name}` placeholder of a task function, filled by CDK's `definitionSubstitutions` and by
 * the local runner (`substitute` in `definition.ts`).
 */
export function functionArn(substitution: `${string}FunctionArn`): string {
  return `\${${substitution}}`;
}
