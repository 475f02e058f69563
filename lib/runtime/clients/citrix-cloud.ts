import type { CitrixConnection, CitrixCredentials } from '../../citrix/config.ts';
import { citrixConnectionFromEnv } from '../../citrix/config.ts';
import { readCitrixCredentials } from '../citrix-secrets.ts';
import { requiredEnv } from '../env.ts';
import { once } from '../once.ts';

/** The Citrix Cloud tenant (`CITRIX_API_URL`, `CITRIX_CUSTOMER_ID`, …), read once. */
export const awsCitrixConnection = once(
  (): CitrixConnection => citrixConnectionFromEnv(process.env),
);

/** The Citrix Cloud API client's credentials (`CITRIX_CREDENTIALS_SECRET_ARN`), cached by Powertools. */
export const awsCitrixCredentials = (): Promise<CitrixCredentials> =>
  readCitrixCredentials(requiredEnv(process.env, 'CITRIX_CREDENTIALS_SECRET_ARN'));
