/** The caller did not prove who they are: no token, or one that does not verify. Answered with 401. */
export class UnauthenticatedError extends Error {
  readonly code = 'unauthenticated';
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'UnauthenticatedError';
  }
}

/** The caller is known but lacks a permission. Answered with 403. */
export class PermissionDeniedError extends Error {
  readonly code = 'forbidden';
  constructor(readonly permission: string) {
    super(`this request needs the "${permission}" permission`);
    this.name = 'PermissionDeniedError';
  }
}
