import { DomainError } from '../../domain/errors.js';
import type { Actor } from '../actor.js';

/** Creating, changing or deleting a global template (visible to every organisation). */
export const TEMPLATE_ADMIN_PERMISSION = 'template:admin';

/** Refuses (403) a change of a global template by a caller without `template:admin`. */
export function assertMayChangeTemplate(actor: Actor, global: boolean): void {
  if (global && !actor.permissions.has(TEMPLATE_ADMIN_PERMISSION)) {
    throw new DomainError(
      'forbidden',
      `changing a global template needs the "${TEMPLATE_ADMIN_PERMISSION}" permission`,
    );
  }
}
