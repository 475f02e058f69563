import * as z from 'zod';
import { ActionIdSchema, ActionTypeSchema } from '../actions/schema.ts';
import { ActionTargetViewSchema } from '../actions/view.ts';

/**
 * Every response body the API sends, as zod schemas: the OpenAPI document is generated from
 * these (lib/api/openapi.ts), so the shapes are written once.
 */

export const FieldErrorSchema = z
  .object({
    field: z.string().meta({ description: 'Dotted path of the field, or `(body)`.' }),
    message: z.string(),
  })
  .meta({ id: 'FieldError', description: 'One invalid field of a request.' });
export type FieldError = z.infer<typeof FieldErrorSchema>;

export const ErrorResponseSchema = z
  .object({
    error: z.object({
      code: z.string().meta({
        description:
          'Stable, machine-readable: invalid_request, not_found, not_a_person, self_approval, lookalike_approver, …',
      }),
      message: z.string(),
      fields: z.array(FieldErrorSchema).optional(),
    }),
  })
  .meta({
    id: 'ErrorResponse',
    description:
      'Every error answer. `fields` names each invalid field of a 400; a 500 says only "Internal error".',
  });
export type ErrorResponse = z.infer<typeof ErrorResponseSchema>;

export const ActionAcceptedSchema = z
  .object({
    actionId: ActionIdSchema,
    status: z.literal('accepted'),
    statusUrl: z.url().meta({ description: 'Where GET /v1/actions/{actionId} reports progress.' }),
    duplicate: z.boolean().meta({
      description:
        'True when this Idempotency-Key was seen before from the same person: the action is the one it started, and nothing new was started.',
    }),
  })
  .meta({
    id: 'ActionAccepted',
    description: 'The action was recorded and its workflow started; poll statusUrl for progress.',
  });
export type ActionAccepted = z.infer<typeof ActionAcceptedSchema>;

export const ApprovalDecisionSchema = z
  .object({
    actionId: ActionIdSchema,
    status: z.enum(['running', 'rejected']).meta({
      description:
        '`running`: approved, the workflow resumes and acts; `rejected`: the workflow ends without acting.',
    }),
    decidedBy: z.string().meta({
      description: 'Who decided: the name of the authenticated person (NFKC, case-folded).',
    }),
  })
  .meta({
    id: 'ApprovalDecision',
    description:
      'The decision on an action that was awaiting approval, recorded once; GET /v1/actions/{actionId} reports what follows.',
  });
export type ApprovalDecision = z.infer<typeof ApprovalDecisionSchema>;

export const WebhookActionSchema = z
  .object({
    actionId: ActionIdSchema,
    action: ActionTypeSchema,
    target: ActionTargetViewSchema,
    statusUrl: z.url(),
    duplicate: z.boolean().meta({
      description: 'True when this delivery was seen before: the action is the one it started.',
    }),
  })
  .meta({ id: 'WebhookAction', description: 'One action a source delivery started.' });
export type WebhookAction = z.infer<typeof WebhookActionSchema>;

/** Present whenever the alert named a target the action cannot take, accepted or ignored. */
const RejectedTargetsSchema = z
  .array(z.object({ target: z.string(), reason: z.string() }))
  .optional()
  .meta({ description: 'Targets the alert named that the action cannot take, left alone.' });

export const WebhookAcceptedSchema = z
  .object({
    status: z.literal('accepted'),
    deliveryId: z.string().meta({ description: 'This delivery, as recorded.' }),
    actions: z.array(WebhookActionSchema),
    rejectedTargets: RejectedTargetsSchema,
  })
  .meta({
    id: 'WebhookAccepted',
    description: 'The delivery matched a route: one action per valid target it named.',
  });
export type WebhookAccepted = z.infer<typeof WebhookAcceptedSchema>;

export const WebhookIgnoredSchema = z
  .object({
    status: z.literal('ignored'),
    reason: z.string(),
    deliveryId: z.string().meta({ description: 'This delivery, as recorded.' }),
    rejectedTargets: RejectedTargetsSchema,
  })
  .meta({
    id: 'WebhookIgnored',
    description:
      'The delivery was authentic but asks for nothing (no route matched, too many targets, or none the action can take, each then in rejectedTargets): acknowledged so the source does not retry.',
  });
export type WebhookIgnored = z.infer<typeof WebhookIgnoredSchema>;
