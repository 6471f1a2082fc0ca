import { z } from 'zod';
import { refuseUnstorableJson } from '../storable-json.js';
import { INT4_MAX } from '../storable.js';
import { BatchFailurePolicySchema, BatchTaskBodySchema } from './batch.js';
import { CreateTaskBodySchema, TASK_JSON_MAX_DEPTH } from './task.js';

/** Most tasks (steps) one template holds: a batch's limit. */
export const TEMPLATE_MAX_TASKS = 500;
/** Most dot paths in `requiredFields` plus `optionalFields`, and most keys in `overrides`. */
export const TEMPLATE_MAX_FIELDS = 200;

/** A JSON Schema (draft-07, ajv 8's default dialect); compiled when the template is stored. */
const JsonSchemaObject = z
  .record(z.string(), z.unknown())
  .superRefine(refuseUnstorableJson(TASK_JSON_MAX_DEPTH));

const task = CreateTaskBodySchema.shape;

/** A compensation of a template's task: a type, its payload and the task fields a template sets. */
export const TemplateCompensationSchema = z
  .object({
    type: task.type,
    description: task.description,
    payload: task.payload,
    targetType: task.targetType.optional(),
    timeoutSeconds: task.timeoutSeconds,
    maxRetries: task.maxRetries,
    priority: task.priority.unwrap().optional(),
  })
  .strict();
export type TemplateCompensation = z.infer<typeof TemplateCompensationSchema>;

export const TemplateTaskSchema = z
  .object({
    /** What `dependsOn`, overrides (`<name>.payload.x`) and the batch's DAG call the task. */
    name: BatchTaskBodySchema.shape.name,
    type: task.type,
    description: task.description,
    /** Without `dependsOn`: the task runs after every task of a lower `order`. */
    order: z.number().int().min(0).max(INT4_MAX).optional(),
    /** Names of other tasks of the template. */
    dependsOn: z.array(z.string().trim().min(1).max(100)).max(TEMPLATE_MAX_TASKS).optional(),
    /** The default payload; overrides are deep-merged into it when the template is executed. */
    payload: task.payload,
    /** Checked against the merged payload at execute time (defaults alone may be partial). */
    payloadSchema: JsonSchemaObject.optional(),
    /** Defaults to the execute request's `targetType`. */
    targetType: task.targetType.optional(),
    timeoutSeconds: task.timeoutSeconds,
    maxRetries: task.maxRetries,
    priority: task.priority.unwrap().optional(),
    onFailure: z.array(TemplateCompensationSchema).max(10).default([]),
  })
  .strict();
export type TemplateTask = z.infer<typeof TemplateTaskSchema>;

const FieldPathSchema = z.string().trim().min(1).max(300);

const templateFields = {
  name: z.string().trim().min(1).max(200),
  description: z.string().max(2000).optional(),
  category: z.string().trim().min(1).max(100).optional(),
  tags: z.array(z.string().trim().min(1).max(50)).max(50).default([]),
  isActive: z.boolean().default(true),
  /** Dot paths (`backup.payload.retentionDays`) every execute request must give in `overrides`. */
  requiredFields: z.array(FieldPathSchema).max(TEMPLATE_MAX_FIELDS).default([]),
  /** Dot paths an execute request may give besides the fields the tasks already hold. */
  optionalFields: z.array(FieldPathSchema).max(TEMPLATE_MAX_FIELDS).default([]),
  failurePolicy: BatchFailurePolicySchema.default('cancel-dependents'),
  // The size limit is checked with the DAG (a 400 naming `body.tasks`).
  tasks: z.array(TemplateTaskSchema).min(1),
};

export const CreateTemplateBodySchema = z
  .object({
    ...templateFields,
    /** Visible to every organisation; needs the `template:admin` permission. */
    global: z.boolean().default(false),
  })
  .strict();
export type CreateTemplateBody = z.infer<typeof CreateTemplateBodySchema>;

/** Any of the create body's fields but `global`; those left out keep their value. `description`/`category`: null clears. */
export const UpdateTemplateBodySchema = z
  .object({
    name: templateFields.name.optional(),
    description: z.string().max(2000).nullable().optional(),
    category: z.string().trim().min(1).max(100).nullable().optional(),
    tags: templateFields.tags.unwrap().optional(),
    isActive: z.boolean().optional(),
    requiredFields: templateFields.requiredFields.unwrap().optional(),
    optionalFields: templateFields.optionalFields.unwrap().optional(),
    failurePolicy: BatchFailurePolicySchema.optional(),
    tasks: templateFields.tasks.optional(),
  })
  .strict()
  .refine((body) => Object.keys(body).length > 0, 'must change at least one field');
export type UpdateTemplateBody = z.infer<typeof UpdateTemplateBodySchema>;

export const TemplateSchema = z.object({
  id: z.uuid(),
  /** Null for a global template. */
  orgId: z.string().nullable(),
  global: z.boolean(),
  name: z.string(),
  description: z.string().nullable(),
  category: z.string().nullable(),
  tags: z.array(z.string()),
  isActive: z.boolean(),
  requiredFields: z.array(z.string()),
  optionalFields: z.array(z.string()),
  failurePolicy: BatchFailurePolicySchema,
  tasks: z.array(TemplateTaskSchema),
  createdBy: z.string(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export type Template = z.infer<typeof TemplateSchema>;

export const ListTemplatesQuerySchema = z.object({
  page: z.coerce.number().int().min(1).max(INT4_MAX).default(1),
  limit: z.coerce.number().int().min(1).max(100).default(50),
  category: z.string().trim().min(1).max(100).optional(),
  tag: z.string().trim().min(1).max(50).optional(),
  isActive: z
    .enum(['true', 'false'])
    .transform((value) => value === 'true')
    .optional(),
});
export type ListTemplatesQuery = z.infer<typeof ListTemplatesQuerySchema>;

export const TemplateListSchema = z.object({
  items: z.array(TemplateSchema),
  page: z.number().int(),
  limit: z.number().int(),
  total: z.number().int(),
});
export type TemplateList = z.infer<typeof TemplateListSchema>;

export const ExecuteTemplateBodySchema = z
  .object({
    targetId: task.targetId,
    targetType: task.targetType.default('Server'),
    nodeId: task.nodeId,
    /** The batch's name; defaults to the template's. */
    name: z.string().trim().min(1).max(200).optional(),
    /** `<task>.payload.<path>` (deep-merged into the default payload), `<task>.timeoutSeconds`, … → value. */
    overrides: z
      .record(FieldPathSchema, z.unknown())
      .superRefine(refuseUnstorableJson(TASK_JSON_MAX_DEPTH))
      .refine((value) => Object.keys(value).length <= TEMPLATE_MAX_FIELDS, {
        message: `holds at most ${TEMPLATE_MAX_FIELDS} paths`,
      })
      .default({}),
  })
  .strict();
export type ExecuteTemplateBody = z.infer<typeof ExecuteTemplateBodySchema>;
