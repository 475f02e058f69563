import { Logger } from '@aws-lambda-powertools/logger';

/** One structured JSON logger for every function; the action id is appended as a key per call. */
export const logger = new Logger({ serviceName: 'citrix-response' });
