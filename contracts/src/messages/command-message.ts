import { EnvelopeSchema, type EnvelopeOf } from './envelope.js';
import { EXECUTE_TASK, ExecuteTaskSchema, type ExecuteTask } from './execute-task.js';
import { CANCEL_TASK, CancelTaskSchema, type CancelTask } from './cancel-task.js';
import { decodeJson, type ParseResult } from './agent-message.js';

/** Every command the control plane may send to an agent. */
export type CommandMessage = EnvelopeOf<'ExecuteTask', ExecuteTask> | EnvelopeOf<'CancelTask', CancelTask>;

/** The agent's side of `parseAgentMessage`: validates an inbound command or says why not. */
export function parseCommandMessage(raw: unknown): ParseResult<CommandMessage> {
  const decoded = decodeJson(raw);
  if (!decoded.ok) return decoded;
  const envelope = EnvelopeSchema.safeParse(decoded.message);
  if (!envelope.success)
    return { ok: false, reason: `invalid envelope: ${envelope.error.issues[0]?.message}` };
  const schema =
    envelope.data.type === EXECUTE_TASK
      ? ExecuteTaskSchema
      : envelope.data.type === CANCEL_TASK
        ? CancelTaskSchema
        : undefined;
  if (!schema) return { ok: false, reason: `unknown command type "${envelope.data.type}"` };
  const payload = schema.safeParse(envelope.data.payload);
  if (!payload.success) {
    const issue = payload.error.issues[0];
    return {
      ok: false,
      reason: `invalid ${envelope.data.type}: payload.${issue?.path.join('.') ?? ''}: ${issue?.message ?? ''}`,
    };
  }
  return { ok: true, message: { ...envelope.data, payload: payload.data } as CommandMessage };
}
