import { ProblemDocument } from './openapi-schemas.js';
import { PROBLEM_CONTENT_TYPE } from './problem.js';

/** OpenAPI description of a problem response whose wording is the operation's own. */
export function problemDoc(description: string) {
  return { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: ProblemDocument } } };
}
