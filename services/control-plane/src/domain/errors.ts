/** Base of every error the use cases raise on purpose; the HTTP layer maps `code` to a status. */
export class DomainError<TCode extends string = string> extends Error {
  constructor(
    readonly code: TCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'DomainError';
  }
}

export class NotFoundError extends DomainError<'not_found'> {
  constructor(what: string, id: string) {
    super('not_found', `${what} ${id} was not found`);
  }
}

export class ConflictError extends DomainError<'conflict'> {
  constructor(message: string) {
    super('conflict', message);
  }
}

export class UnprocessableError extends DomainError<'unprocessable'> {
  constructor(
    message: string,
    readonly field?: string,
  ) {
    super('unprocessable', message);
  }
}

/**
 * A body field that passed the route's schema but that the use case could not accept (a delay, a
 * cron expression, a time zone): a 400 naming the field, like the schema's own refusals.
 */
export class InvalidFieldError extends DomainError<'validation'> {
  constructor(
    /** The field's path in the request body, e.g. `delay`. */
    readonly field: string,
    readonly reason: string,
  ) {
    super('validation', `${field} ${reason}`);
  }
}

/** Several body fields refused at once (a task's payload against its type's schema): a 400 naming each. */
export class InvalidFieldsError extends DomainError<'validation'> {
  constructor(
    /** Each field's path in the request body, e.g. `payload.spec.argv`, and why. */
    readonly issues: readonly { field: string; message: string }[],
    /** Replaces the problem's `detail` ("invalid <fields>") when the fields alone do not say it (a cycle's path). */
    readonly detail?: string,
  ) {
    super('validation', detail ?? `invalid ${issues.map((issue) => issue.field).join(', ')}`);
  }
}
