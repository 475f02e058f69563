import fc from 'fast-check';

/**
 * The raw material of the fuzz cases: ids a person could mistake for another, text no form would
 * produce, bodies that are not what an endpoint takes, and headers longer than any tool sends.
 */

/** A user the demo tenant has, and spellings of it that only look (or fold) the same. */
const LOOKALIKE_IDS = [
  'bob@example.com',
  'b\u043eb@example.com', // Cyrillic о
  'bob\u200b@example.com', // zero-width space
  'bob@exam\u200dple.com', // zero-width joiner
  '\u202ebob@example.com', // right-to-left override
  'bob@example.com\u202c',
  '\uff42\uff4f\uff42@example.com', // full-width: NFKC folds it to bob@
  'bo\u0301b@example.com', // a combining accent
  'BOB@EXAMPLE.COM',
  'bob@example.com.',
  ' bob@example.com ',
  'EXAMPLE\\bob',
  'EXAMPLE\\\\bob',
  'bob@xn--exmple-cua.com',
  'bob@ex\u0430mple.com', // Cyrillic а in the domain
  '\ufeffbob@example.com', // byte-order mark
  'bob@example.com\u0000',
  'alice@example.com',
  'mallory@example.com',
  'carol@example.com',
] as const;

/** An id: a lookalike, a plausible name, or anything at all (astral, lone surrogates, controls). */
export const unusualId = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...LOOKALIKE_IDS) },
  { weight: 2, arbitrary: fc.emailAddress() },
  { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme-composite', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.constantFrom('', ' ', '*', '%', '..', '../../etc', 'null', '0') },
  { weight: 1, arbitrary: fc.string({ minLength: 200, maxLength: 3000 }) },
);

/** A free-text value: short or long, ordinary or hostile. */
export const unusualText = fc.oneof(
  fc.lorem({ maxCount: 8 }),
  unusualId,
  fc.string({ unit: 'binary', minLength: 400, maxLength: 1200 }),
  fc.constantFrom('x'.repeat(501), 'y'.repeat(1001), 'Bearer abcdefghijklmnopqrstuvwxyz0123', ''),
);

/** The function's own limit is 64 KB; API Gateway's is 10 MB. */
const FUNCTION_LIMIT = 64 * 1024;

/** A body that is not what any endpoint takes: not JSON, the wrong JSON, or too big. */
export const malformedBody = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.string({ unit: 'binary', maxLength: 200 }),
  fc.json({ maxDepth: 3 }),
  fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify(value) ?? 'null'),
  fc.constantFrom(
    '',
    '{',
    '{"action":',
    '[]',
    'null',
    '"string"',
    '1e999999',
    '{"__proto__":{"polluted":true}}',
    '{"constructor":{"prototype":{"polluted":true}}}',
    `${'['.repeat(5000)}${']'.repeat(5000)}`,
    `{"a":"${'\\u0000'.repeat(2000)}"}`,
    '\ud800\udc00\ud800',
  ),
  fc
    .integer({ min: FUNCTION_LIMIT + 1, max: FUNCTION_LIMIT + 4096 })
    .map((size) => JSON.stringify({ padding: 'x'.repeat(size) })),
);

/** Headers no tool sends: long values, odd names, ids that repeat an authentic one's bytes. */
export const unusualHeaders = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-proto',
    'x-forwarded-for',
    'idempotency-key',
    'webhook-id',
    'x-request-id',
    'user-agent',
    'x-amzn-trace-id',
    'x-api-key-2',
  ),
  fc.oneof(
    unusualId,
    fc.string({ minLength: 1000, maxLength: 8000 }),
    fc.constantFrom('javascript:alert(1)', 'https://evil.example', '0'),
  ),
  { maxKeys: 3 },
);
