import { remove as removeConfusables } from 'confusables';
import { fold, INVISIBLE } from './names.ts';

// Its own module: the confusables table is most of a bundle's growth, and only the functions
// that compare a decider with a requester (approvals) and \`npm start\` (LOCAL_PEOPLE) need it.

/**
 * What a name looks like: folded, without invisible characters, and with every character that
 * imitates a Latin letter or digit replaced by it (`е` U+0435 → `e`, `ｅ` → `e`, `é` → `e`).
 */
export function nameSkeleton(name: string): string {
  return fold(removeConfusables(fold(name.replace(INVISIBLE, ''))));
}

/** Whether two names would be taken for each other by a person reading them. */
export function looksLike(a: string, b: string): boolean {
  return nameSkeleton(a) === nameSkeleton(b);
}
