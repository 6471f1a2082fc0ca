import { payloadSchemaOf } from '@meridian/contracts/task-types/registry';

/** A field of a create-task body that is refused, named from the body (`payload.spec.argv`). */
export interface FieldIssue {
  field: string;
  message: string;
}

/**
 * What is wrong with the payload of a task of a known type (Command, ServerStart, …), checked with
 * the schema the agent checks it with, so that a bad payload is refused when the task is created
 * rather than failing on the node later. A type the registry does not know passes: an agent may
 * carry handlers of its own.
 */
export function payloadIssues(type: string, payload: unknown): FieldIssue[] {
  const schema = payloadSchemaOf(type);
  if (!schema) return [];
  const parsed = schema.safeParse(payload);
  if (parsed.success) return [];
  return parsed.error.issues.flatMap((issue): FieldIssue[] => {
    const field = ['payload', ...issue.path.map(String)].join('.');
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: `${field}.${key}`, message: 'is not a known field' }));
    }
    return [{ field, message: issue.message }];
  });
}
