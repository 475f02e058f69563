/** The month partition a record is listed under (UTC, from its `createdAt`): `2026-12`. */
export const listMonthOf = (createdAt: string): string => createdAt.slice(0, 7);
