import type { Logger } from 'pino';
import type { Actor } from '../app/actor.js';

/** What the middleware puts in a request's context for the handlers after it. */
export interface HttpEnv {
  Variables: {
    correlationId: string;
    /** A child of the application logger carrying the request's correlation id. */
    logger: Logger;
    /** Set by the authentication middleware on `/api/v1`; absent on anonymous routes. */
    actor?: Actor;
  };
}
