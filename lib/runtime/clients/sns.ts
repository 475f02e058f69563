import { SNSClient } from '@aws-sdk/client-sns';

/** The SNS client of the administrator report, which publishes its findings. */
export const snsClient = new SNSClient({});
