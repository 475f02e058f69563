import { SFNClient } from '@aws-sdk/client-sfn';

/** The Step Functions client of the functions that start workflows or answer task tokens. */
export const sfnClient = new SFNClient({});
