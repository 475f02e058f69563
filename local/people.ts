import { createHash } from 'node:crypto';
import * as z from 'zod';
import { looksLike } from '../lib/identity/lookalikes.ts';
import { PersonNameSchema } from '../lib/identity/names.ts';
import { InvalidSettingsError } from '../lib/runtime/env.ts';
import { LOCAL_DEMO_PEOPLE } from './defaults.ts';

/**
 * The people `npm start` knows, in place of IAM: `LOCAL_PEOPLE` maps each person's name to the
 * access key they sign with (SigV4, as the AWS CLI and SDKs do). The people's routes accept only
 * requests signed by one of them, and each acts and approves as the person whose key signed.
 */

/** The account the local principals are in, as API Gateway would report it. */
export const LOCAL_ACCOUNT_ID = '000000000000';
const MAX_PEOPLE = 100;

const LocalCredentialsSchema = z.strictObject({
  accessKeyId: z
    .string({ error: 'must be a string' })
    .regex(/^[A-Z0-9]{16,128}$/, 'must be 16-128 of A-Z and 0-9, as AWS access key ids are'),
  secretAccessKey: z
    .string({ error: 'must be a string' })
    .min(16, 'must be at least 16 characters')
    .max(128, 'must be at most 128 characters'),
  /** For temporary credentials: the session token the person must also sign. */
  sessionToken: z
    .string({ error: 'must be a string' })
    .min(16, 'must be at least 16 characters')
    .max(4096, 'must be at most 4096 characters')
    .optional(),
});

export interface LocalPerson {
  /** NFKC-normalized, case-folded: the name the person acts and approves under. */
  readonly name: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string | undefined;
  /** The IAM user this person stands for locally. */
  readonly userArn: string;
  /** A stable IAM-style unique id (`AIDA…`), as API Gateway reports `user` and `caller`. */
  readonly uniqueId: string;
}

export interface LocalPeople {
  /** Every person, in the order declared. */
  readonly people: readonly LocalPerson[];
  personWithAccessKey(accessKeyId: string): LocalPerson | undefined;
}

/** A name usable as the last segment of an IAM user ARN: no `/`. */
const LocalNameSchema = PersonNameSchema.pipe(z.string().regex(/^[^/]+$/, 'must not contain "/"'));

/**
 * `LOCAL_PEOPLE`: a JSON object of `{"<name>": {"accessKeyId", "secretAccessKey",
 * "sessionToken"?}}`. Names are normalized (NFKC, case-folded) and refused when they hide
 * characters, repeat another name, or look like another name; access keys are unique.
 */
export const LocalPeopleSchema = z
  .record(z.string(), LocalCredentialsSchema, { error: 'must be a JSON object of people' })
  .superRefine((people, context) => {
    const entries = Object.entries(people);
    if (entries.length === 0) context.addIssue({ code: 'custom', message: 'names nobody' });
    if (entries.length > MAX_PEOPLE) {
      context.addIssue({ code: 'custom', message: `names more than ${MAX_PEOPLE} people` });
    }
    const names: { raw: string; name: string }[] = [];
    const keys = new Map<string, string>();
    for (const [raw, credentials] of entries) {
      const name = LocalNameSchema.safeParse(raw);
      for (const issue of name.error?.issues ?? []) {
        context.addIssue({ code: 'custom', path: [raw], message: `name ${issue.message}` });
      }
      if (name.success) {
        const twin = names.find((other) => looksLike(other.name, name.data));
        if (twin !== undefined) {
          context.addIssue({
            code: 'custom',
            path: [raw],
            message:
              twin.name === name.data
                ? `is the same name as "${twin.raw}"`
                : `looks like "${twin.raw}": two people must be told apart by name`,
          });
        }
        names.push({ raw, name: name.data });
      }
      const holder = keys.get(credentials.accessKeyId);
      if (holder !== undefined) {
        context.addIssue({
          code: 'custom',
          path: [raw, 'accessKeyId'],
          message: `is also "${holder}"'s: each person signs with their own key`,
        });
      }
      keys.set(credentials.accessKeyId, raw);
    }
  })
  .transform((people): LocalPeople => {
    const list = Object.entries(people).map(([raw, credentials]) =>
      localPerson(LocalNameSchema.parse(raw), credentials),
    );
    const byKey = new Map(list.map((person) => [person.accessKeyId, person]));
    return { people: list, personWithAccessKey: (accessKeyId) => byKey.get(accessKeyId) };
  });

function localPerson(
  name: string,
  credentials: z.infer<typeof LocalCredentialsSchema>,
): LocalPerson {
  const digest = createHash('sha256').update(name).digest('hex').toUpperCase();
  return {
    name,
    ...credentials,
    userArn: `arn:aws:iam::${LOCAL_ACCOUNT_ID}:user/${name}`,
    uniqueId: `AIDA${digest.replace(/[^A-Z0-9]/g, '').slice(0, 17)}`,
  };
}

/**
 * The people from `LOCAL_PEOPLE`, or the public demo pair when it is unset and everything runs
 * against the simulator (`demo`); with a real tenant it is required. A bad value throws
 * `InvalidSettingsError` naming the variable and the field, never a secret.
 */
export function localPeopleFromEnv(
  env: Readonly<Record<string, string | undefined>>,
  demo: boolean,
): LocalPeople {
  const value = env.LOCAL_PEOPLE;
  if (!value) {
    if (demo) return LocalPeopleSchema.parse(LOCAL_DEMO_PEOPLE);
    throw new InvalidSettingsError(
      "LOCAL_PEOPLE is required with a real Citrix tenant or Endpoint Management server: the demo people's keys are public",
    );
  }
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    // No cause: the parser's message quotes the text, secret keys included.
    throw new InvalidSettingsError(
      'LOCAL_PEOPLE must be JSON: {"<name>": {"accessKeyId": "…", "secretAccessKey": "…"}}',
    );
  }
  const parsed = LocalPeopleSchema.safeParse(json);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => {
      const [name, field] = issue.path.map(String);
      const where =
        name === undefined ? '' : `"${name}"${field === undefined ? '' : `.${field}`}: `;
      return `${where}${issue.message}`;
    });
    throw new InvalidSettingsError(`LOCAL_PEOPLE is invalid: ${problems.join('; ')}`, {
      cause: parsed.error,
    });
  }
  return parsed.data;
}
