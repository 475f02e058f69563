import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../../lib/actions/schema.ts';
import {
  type AcceptRequestDependencies,
  acceptPersonRequest,
} from '../../../lib/api/accept-request.ts';
import { type AuditEntry, AuditEntrySchema } from '../../../lib/audit/audit-log.ts';
import { type Person, personFromIdentity } from '../../../lib/identity/principal.ts';
import type { Requester } from '../../../lib/identity/requester.ts';
import { createIdempotentAcceptor } from '../../../lib/sources/intake.ts';
import { createKeyTable, type LocalDynamo, startLocalDynamo } from '../../../local/dynamodb.ts';
import { rejection } from '../../support/rejection.ts';
import { iamUser, lambdaContext } from '../../support/signed-request.ts';

let dynamo: LocalDynamo;
let tables = 0;
beforeAll(async () => {
  dynamo = await startLocalDynamo();
});
afterAll(async () => dynamo.close());

const ANALYST = personFromIdentity(iamUser('soc.analyst@example.com'));
const OTHER = personFromIdentity(iamUser('other.analyst@example.com'));

async function harness() {
  tables += 1;
  const tableName = `idempotency-${tables}`;
  await createKeyTable(dynamo.client, tableName, 'id');
  const started: { request: ActionRequest; requester: Requester }[] = [];
  const audit: AuditEntry[] = [];
  const dependencies: AcceptRequestDependencies = {
    acceptor: createIdempotentAcceptor({
      accept: async (request, _source, actionId, requester) => {
        started.push({ request, requester });
        return { actionId };
      },
      persistenceStore: new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: dynamo.client }),
      expiresAfterSeconds: 3600,
    }),
    audit: { append: async (entries) => void audit.push(...entries) },
    callbackNames: new Set(['soc', 'other']),
  };
  /** `null`: no Idempotency-Key header. */
  const post = (body: unknown, idempotencyKey: string | null = 'retry-1', as: Person = ANALYST) =>
    acceptPersonRequest(
      dependencies,
      JSON.stringify(body),
      as,
      idempotencyKey ?? undefined,
      lambdaContext,
    );
  return { post, started, audit };
}

const BASE = {
  action: 'session.logoff',
  target: { user: 'alice@corp.example.com' },
  reason: 'Compromised credentials',
  notify: { title: 'Security', text: 'Your session ends in 15 minutes', graceSeconds: 900 },
  callback: 'soc',
};

const fieldsOf = (error: Error) =>
  (JSON.parse(error.message) as { error: { fields: { field: string; message: string }[] } }).error
    .fields;

describe('acceptPersonRequest: who asks', () => {
  it('records the authenticated person as the requester, and audits the principal', async () => {
    const { post, started, audit } = await harness();
    await post(BASE);
    expect(started.map((entry) => entry.requester)).toEqual([
      {
        kind: 'person',
        key: 'arn:aws:iam::123456789012:user/soc.analyst@example.com',
        name: 'soc.analyst@example.com',
      },
    ]);
    expect(audit[0]?.details).toMatchObject({
      source: 'api',
      identity:
        'soc.analyst@example.com, authenticated as IAM principal arn:aws:iam::123456789012:user/soc.analyst@example.com (Idempotency-Key retry-1)',
    });
  });

  it('refuses a body naming a requester, naming the field, and starts nothing', async () => {
    const { post, started } = await harness();
    const error = (await rejection(
      post({ ...BASE, requestedBy: 'someone.else@example.com' }),
    )) as Error & {
      statusCode?: number;
    };
    expect(error.statusCode).toBe(400);
    expect(fieldsOf(error)).toEqual([
      {
        field: 'requestedBy',
        message: 'is not accepted: the person who signs the request is the requester',
      },
    ]);
    expect(started).toEqual([]);
  });

  it.each(['', 'a'.repeat(129), 'has space', 'ünïcode'])(
    'refuses the Idempotency-Key %j, naming it',
    async (key) => {
      const { post, started } = await harness();
      const error = (await rejection(post(BASE, key))) as Error & { statusCode?: number };
      expect(error.statusCode).toBe(400);
      expect(fieldsOf(error).map((field) => field.field)).toEqual(['Idempotency-Key']);
      expect(started).toEqual([]);
    },
  );
});

describe('acceptPersonRequest: an Idempotency-Key sent again', () => {
  it('is the same action from the same person when only the reason changed', async () => {
    const { post, started } = await harness();
    const first = await post(BASE);
    const again = await post({ ...BASE, reason: 'Re-sent' });
    expect(again).toMatchObject({ actionId: first.actionId, duplicate: true });
    expect(started).toHaveLength(1);
  });

  it('is a new action from another person: keys are per person', async () => {
    const { post, started } = await harness();
    const first = await post(BASE);
    const other = await post(BASE, 'retry-1', OTHER);
    expect(other).toMatchObject({ duplicate: false });
    expect(other.actionId).not.toBe(first.actionId);
    expect(started.map((entry) => entry.requester.name)).toEqual([
      'soc.analyst@example.com',
      'other.analyst@example.com',
    ]);
  });

  it('is a new action each time without a key', async () => {
    const { post, started } = await harness();
    const first = await post(BASE, null);
    const second = await post(BASE, null);
    expect(second.actionId).not.toBe(first.actionId);
    expect(started).toHaveLength(2);
  });

  it.each([
    ['another urgency', { ...BASE, urgency: 'immediate' }],
    ['another session warning', { ...BASE, notify: { ...BASE.notify, graceSeconds: 0 } }],
    ['no session warning', { ...BASE, notify: undefined }],
    ['another callback', { ...BASE, callback: 'other' }],
    ['no callback', { ...BASE, callback: undefined }],
  ])('answers 409 conflict when it asks for %s, starting nothing', async (_, changed) => {
    const { post, started } = await harness();
    await post(BASE);

    const error = (await rejection(post(changed))) as Error & { statusCode?: number };
    expect(error.statusCode).toBe(409);
    expect(JSON.parse(error.message).error.code).toBe('conflict');
    expect(started).toHaveLength(1);
  });
});

describe('acceptPersonRequest: the audit trail', () => {
  it('writes valid audit entries for the longest principal, name and Idempotency-Key there are', async () => {
    const { post, audit } = await harness();
    // An IAM user ARN is at most 2048 characters; a user name 64 of [\w+=,.@-]; a key 128.
    const segment = fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{1,60}$/);
    await fc.assert(
      fc.asyncProperty(
        fc.array(segment, { minLength: 1, maxLength: 40 }),
        fc.stringMatching(/^[A-Za-z0-9+=,.@_-]{64}$/),
        fc.stringMatching(/^[A-Za-z0-9_.:-]{128}$/),
        async (path, name, key) => {
          const arnPrefix = 'arn:aws:iam::123456789012:user/';
          const room = 2048 - arnPrefix.length - name.length - 1;
          // The path repeated up to the ARN's limit: the longest principal IAM allows.
          const unit = `${path.join('/')}/`;
          const userPath = unit
            .repeat(Math.ceil(room / unit.length))
            .slice(0, room)
            .replace(/\/+$/, '');
          const person = personFromIdentity(iamUser(userPath ? `${userPath}/${name}` : name));
          audit.length = 0;
          await post(BASE, key, person);
          expect(person.key.length).toBeGreaterThan(2000);
          expect(audit.map((entry) => AuditEntrySchema.safeParse(entry).success)).toEqual([
            true,
            true,
          ]);
        },
      ),
      { numRuns: 30 },
    );
  });
});
