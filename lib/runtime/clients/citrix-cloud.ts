import type { CitrixConnection, CitrixCredentials } from '../../citrix/config.ts';
import { citrixConnectionFromEnv } from '../../citrix/config.ts';
import { readCitrixCredentials } from '../citrix-secrets.ts';
import { inLambdaInit, requiredEnv } from '../env.ts';
import { once } from '../once.ts';

/** The Citrix Cloud tenant (`CITRIX_API_URL`, `CITRIX_CUSTOMER_ID`, …), read once. */
export const awsCitrixConnection = once(
  (): CitrixConnection => citrixConnectionFromEnv(process.env),
);

/** The Citrix Cloud API client's credentials (`CITRIX_CREDENTIALS_SECRET_ARN`), cached by Powertools. */
export const awsCitrixCredentials = (): Promise<CitrixCredentials> =>
  readCitrixCredentials(requiredEnv(process.env, 'CITRIX_CREDENTIALS_SECRET_ARN'));

/**
 * Checks the tenant's settings at init, as Powertools' examples read theirs: a bad CITRIX_API_URL
 * fails the cold start with a message naming it, before any action reaches a Citrix call. Called
 * by the modules of the clients that talk to Citrix Cloud.
 */
export function checkCitrixConnectionAtInit(): void {
  if (inLambdaInit(process.env)) awsCitrixConnection();
}
