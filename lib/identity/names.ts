import * as z from 'zod';

/**
 * Names shown to people. A person's name is compared, and shown, in one form: Unicode NFKC (so
 * `ｓｏｃ` and `soc` are one name) and case-folded. A name that hides characters (controls,
 * zero-width spaces and joiners, bidi controls, a byte order mark…) is refused outright: nobody
 * reading it could tell it apart from the name it imitates.
 */

/** The longest name a person may have (IAM user and role session names are at most 64). */
export const MAX_PERSON_NAME_LENGTH = 128;

// Controls, format characters (zero-width, bidi, BOM) and every default-ignorable code point:
// characters a reader cannot see.
export const INVISIBLE = /[\p{Cc}\p{Cf}\p{Default_Ignorable_Code_Point}\p{Zl}\p{Zp}]/gu;

/** A name that cannot be a person's: empty, too long, or holding characters nobody can see. */
export class InvalidPersonNameError extends Error {
  override name = 'InvalidPersonNameError';
}

export const fold = (name: string) => name.normalize('NFKC').toLowerCase().normalize('NFKC').trim();

/**
 * The name as shown and compared: NFKC, case-folded, trimmed. Throws `InvalidPersonNameError` for
 * a name with an invisible character (the message says which code point, never echoes the name).
 */
export function normalizeName(name: string): string {
  const invisible = name.match(INVISIBLE);
  if (invisible !== null) {
    const codePoints = [...new Set(invisible)].map(
      (character) =>
        `U+${(character.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0')}`,
    );
    throw new InvalidPersonNameError(
      `A name must not contain invisible or control characters (${codePoints.join(', ')})`,
    );
  }
  const folded = fold(name);
  if (folded.length === 0) throw new InvalidPersonNameError('A name must not be empty');
  if (folded.length > MAX_PERSON_NAME_LENGTH) {
    throw new InvalidPersonNameError(`A name must be at most ${MAX_PERSON_NAME_LENGTH} characters`);
  }
  return folded;
}

/** A person's name, parsed: normalized as `normalizeName` does, with its refusals as issues. */
export const PersonNameSchema = z.string().transform((name, context) => {
  try {
    return normalizeName(name);
  } catch (error) {
    if (!(error instanceof InvalidPersonNameError)) throw error;
    context.addIssue({ code: 'custom', message: error.message });
    return z.NEVER;
  }
});
