import { ConflictError, DomainError } from '../../domain/errors.js';

/** One answer for every token that does not work, so that a caller learns nothing about the others. */
export class InvalidEnrollmentTokenError extends DomainError<'unauthenticated'> {
  constructor() {
    super('unauthenticated', 'the enrollment token is not valid: it is unknown, expired, revoked or used up');
  }
}

export class InvalidAgentCredentialsError extends DomainError<'unauthenticated'> {
  constructor() {
    super('unauthenticated', 'the broker username and password are not those of an enrolled node');
  }
}

/** The id is taken by another organisation; which one is never said. */
export class NodeIdUnavailableError extends ConflictError {
  constructor(nodeId: string) {
    super(`node id ${nodeId} is not available`);
  }
}
