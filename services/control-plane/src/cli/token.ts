import { parseArgs } from 'node:util';
import { SignJWT } from 'jose';
import { DEV_JWT_SECRET } from '../config.js';

/**
 * Prints a development bearer token signed like the control plane expects (HS256 with JWT_SECRET):
 *   npm run token -- --org ORG --sub USER --permissions task:read,task:write [--secret S] [--expires 12h]
 */
const USAGE =
  'usage: npm run token -- --org ORG --sub USER [--permissions task:read,task:write,task:trigger,task:reschedule,task:read-events,node:read,node:admin,admin:dead-letters,template:admin] [--secret S] [--expires 12h]';
const ALL_PERMISSIONS =
  'task:read,task:write,task:trigger,task:reschedule,task:read-events,node:read,node:admin,admin:dead-letters,template:admin';

function fail(message: string): never {
  console.error(`${message}\n${USAGE}`);
  process.exit(2);
}

let values;
try {
  ({ values } = parseArgs({
    options: {
      org: { type: 'string' },
      sub: { type: 'string' },
      permissions: { type: 'string', default: ALL_PERMISSIONS },
      secret: { type: 'string' },
      expires: { type: 'string', default: '12h' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  }));
} catch (error) {
  fail(error instanceof Error ? error.message : String(error));
}

if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
if (!values.org) fail('--org is required');
if (!values.sub) fail('--sub is required');

const permissions = values.permissions
  .split(',')
  .map((permission) => permission.trim())
  .filter((permission) => permission.length > 0);

let secret = values.secret ?? process.env['JWT_SECRET'];
if (!secret) {
  secret = DEV_JWT_SECRET;
  console.error(
    `warning: signing with the development secret "${DEV_JWT_SECRET}"; only a control plane without JWT_SECRET accepts it`,
  );
}

try {
  const token = await new SignJWT({ org_id: values.org, permissions })
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(values.sub)
    .setIssuedAt()
    .setExpirationTime(values.expires)
    .sign(new TextEncoder().encode(secret));
  console.log(token);
} catch (error) {
  fail(`could not sign the token: ${error instanceof Error ? error.message : String(error)}`);
}
