/**
 * Limits of the fields of agent messages (docs/protocol.md, "Limits"). Text sizes are bytes of
 * UTF-8. Text that programs produce is clamped to its limit by the agent before sending and again
 * by the control plane on receipt (head and tail kept, a marker in between), never refused; ids,
 * names and integers past their limit make the message invalid.
 */

/** `TaskFailed.error`. */
export const ERROR_MAX_BYTES = 10_000;
/** `TaskCancelled.reason`. */
export const REASON_MAX_BYTES = 1_000;
/** `TaskProgress.message`. */
export const PROGRESS_MESSAGE_MAX_BYTES = 2_000;
/** Each of `output.stdout` and `output.stderr` (the control plane keeps less: EXECUTION_LOG_MAX_BYTES). */
export const OUTPUT_STREAM_MAX_BYTES = 1024 * 1024;
/** `TaskCompleted.result`, encoded as JSON; a larger result is replaced by `{ truncated: true, reason }`. */
export const RESULT_MAX_BYTES = 64 * 1024;
/** Nesting of `TaskCompleted.result` (`{}` is 1); deeper is replaced like a result too large. */
export const RESULT_MAX_DEPTH = 16;

/** `correlationId` of the envelope, `agentId` and `orgId` of the heartbeat: characters. */
export const ID_MAX_LENGTH = 200;
/** `type` of the envelope: characters. */
export const MESSAGE_TYPE_MAX_LENGTH = 100;
/** `agentVersion` of the heartbeat: characters. */
export const AGENT_VERSION_MAX_LENGTH = 50;

/** Labels of a heartbeat: how many, and the size of each key, each value and all of them. */
export const LABEL_LIMITS = {
  count: 64,
  keyMaxBytes: 63,
  valueMaxBytes: 255,
  totalMaxBytes: 4096,
} as const;
