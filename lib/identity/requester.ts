import * as z from 'zod';

/**
 * Who asked for an action, as authenticated (never as typed in a body). A person is an IAM
 * principal (in AWS from API Gateway's request context; locally a `LOCAL_PEOPLE` entry verified by
 * SigV4); a source or a sweep is the machine that asked. Self-approval compares `key`s.
 */
export const REQUESTER_KINDS = ['person', 'source', 'sweep'] as const;
export type RequesterKind = (typeof REQUESTER_KINDS)[number];

export const RequesterSchema = z
  .object({
    kind: z.enum(REQUESTER_KINDS),
    /**
     * The stable principal id: a person's principal (e.g. the IAM user ARN, or the SSO role and
     * session), `source:<name>` or `sweep:<name>`. Two requests with the same key are one principal.
     */
    key: z.string().min(1).max(1024),
    /** The name shown to people: NFKC-normalized and case-folded for persons. */
    name: z.string().min(1).max(256),
  })
  .meta({
    id: 'Requester',
    description:
      'Who asked for an action, as authenticated: a person (an IAM principal), a source endpoint or a sweep.',
  });
export type Requester = z.infer<typeof RequesterSchema>;
