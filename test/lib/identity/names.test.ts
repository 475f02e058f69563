import { describe, expect, it } from 'vitest';
import { looksLike, nameSkeleton } from '../../../lib/identity/lookalikes.ts';
import {
  InvalidPersonNameError,
  normalizeName,
  PersonNameSchema,
} from '../../../lib/identity/names.ts';

describe('normalizeName', () => {
  it.each([
    ['Soc.Lead@Example.com', 'soc.lead@example.com'],
    ['  soc.lead@example.com  ', 'soc.lead@example.com'],
    // Fullwidth letters are the same letters once NFKC-normalized.
    ['ｓｏｃ.lead@example.com', 'soc.lead@example.com'],
    // NFKC splits a compatibility ligature into its letters.
    ['Ǆ', 'dž'],
  ])('shows %j as %j', (name, shown) => {
    expect(normalizeName(name)).toBe(shown);
  });

  it.each([
    ['a zero-width space', 'soc.lead@exam\u200bple.com', 'U+200B'],
    ['a zero-width joiner', 'soc\u200d.lead@example.com', 'U+200D'],
    ['a zero-width non-joiner', 'soc\u200c.lead@example.com', 'U+200C'],
    ['a byte order mark', '\ufeffsoc.lead@example.com', 'U+FEFF'],
    ['a right-to-left override', 'soc.lead@\u202eexample.com', 'U+202E'],
    ['a soft hyphen', 'soc.le\u00adad@example.com', 'U+00AD'],
    ['a control character', 'soc.lead\n@example.com', 'U+000A'],
  ])('refuses a name with %s, naming the code point', (_, name, codePoint) => {
    expect(() => normalizeName(name)).toThrow(InvalidPersonNameError);
    expect(() => normalizeName(name)).toThrow(codePoint);
  });

  it('refuses an empty name and one longer than a person name can be', () => {
    expect(() => normalizeName('   ')).toThrow('must not be empty');
    expect(() => normalizeName('a'.repeat(129))).toThrow('at most 128');
  });

  it('parses as a schema with the same rules', () => {
    expect(PersonNameSchema.parse('Jane.Doe@Example.com')).toBe('jane.doe@example.com');
    const refused = PersonNameSchema.safeParse('jane\u200b@example.com');
    expect(refused.success).toBe(false);
    expect(refused.error?.issues[0]?.message).toContain('U+200B');
  });
});

describe('looksLike', () => {
  it.each([
    ['a Cyrillic е (U+0435)', 'soc.l\u0435ad@example.com'],
    ['a Cyrillic о (U+043E) and а (U+0430)', 'w\u043Erk.\u0430dmin@example.com'],
    ['an accent', 'soc.léad@example.com'],
    ['another case', 'SOC.LEAD@EXAMPLE.COM'],
    ['a zero-width space', 'soc.lead@exam\u200bple.com'],
    ['fullwidth letters', 'ｓｏｃ.ｌｅａｄ@example.com'],
  ])('takes a name with %s for the name it imitates', (_, lookalike) => {
    const original = lookalike.includes('w\u043E')
      ? 'work.admin@example.com'
      : 'soc.lead@example.com';
    expect(looksLike(lookalike, original)).toBe(true);
    expect(nameSkeleton(lookalike)).toBe(nameSkeleton(original));
  });

  it.each([
    ['soc.lead@example.com', 'it.oncall@example.com'],
    ['soc.lead@example.com', 'soc.lead@example.org'],
    ['bob@example.com', 'bobby@example.com'],
  ])('tells %j from %j', (a, b) => {
    expect(looksLike(a, b)).toBe(false);
  });
});
