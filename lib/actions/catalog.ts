import { ADMINISTRATOR_CATALOG } from '../administrators/catalog.ts';
import { DEVICE_CATALOG } from '../devices/catalog.ts';
import { RUNBOOK_CATALOG } from '../runbooks/catalog.ts';
import { SESSION_CATALOG } from '../sessions/catalog.ts';

/**
 * Every action, declared once in its product's folder (runbook runs in lib/runbooks). Nothing else lists actions: the request
 * schemas, routing rules, workflow choice, guardrail defaults, plan wording, `npm start` and the
 * docs are derived from this object (lib/actions/schema.ts and the modules it feeds). Adding an
 * action is adding a declaration; docs/architecture.md lists the rest.
 */
export const CATALOG = {
  ...SESSION_CATALOG,
  ...DEVICE_CATALOG,
  ...ADMINISTRATOR_CATALOG,
  ...RUNBOOK_CATALOG,
} as const;

export type Catalog = typeof CATALOG;
