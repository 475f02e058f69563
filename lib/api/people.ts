import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { NotAPersonError, type Person, personFromIdentity } from '../identity/principal.ts';
import { logger } from '../runtime/logger.ts';
import { apiError } from './http-errors.ts';
import type { ApiHandler } from './routes.ts';

/** A route of the people's API, run for the person who signed the request. */
export type PersonHandler<Dependencies> = (
  dependencies: Dependencies,
  event: APIGatewayProxyEvent,
  person: Person,
  context: Context,
) => Promise<APIGatewayProxyResult>;

/**
 * Runs a people's route as the person in the request context (API Gateway authenticated them:
 * `AWS_IAM`; locally SigV4 against `LOCAL_PEOPLE`). Who asks and who decides is never a field of
 * the body. Defence in depth: a request without a person is refused, though API Gateway already
 * refuses an unsigned one before the function runs.
 */
export function asPerson<Dependencies>(
  getDependencies: () => Dependencies | Promise<Dependencies>,
  route: PersonHandler<Dependencies>,
): ApiHandler {
  return async (event, context) => {
    let person: Person;
    try {
      person = personFromIdentity(event.requestContext?.identity);
    } catch (error) {
      if (!(error instanceof NotAPersonError)) throw error;
      logger.warn('refused a request that is not from a person', { reason: error.message });
      throw apiError(403, 'not_a_person', error.message);
    }
    return route(await getDependencies(), event, person, context);
  };
}
