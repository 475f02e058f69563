import { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';

/**
 * X-Ray through Powertools Tracer, loaded from the Powertools layer (infra/function-bundling.ts):
 * one instance per container. It traces `fetch` by default, so every Citrix call is a subsegment
 * (host and path only: no query, no headers, no body). Outside Lambda it turns itself off.
 */
export const tracer = new Tracer({ serviceName: 'citrix-response' });

/**
 * The handler's subsegment, with cold start and service annotations and any error; never the
 * response, which may hold Citrix data.
 */
export const traceInvocation = () => captureLambdaHandler(tracer, { captureResponse: false });
