/** Variables that would change what the child talks to if inherited from the parent's shell. */
const NOT_INHERITED = [
  'DATABASE_URL',
  'AMQP_URL',
  'PORT',
  'HOST',
  'JWT_SECRET',
  'JWKS_URL',
  'JWT_ISSUER',
  'JWT_AUDIENCE',
  'TOPOLOGY_PREFIX',
  'NODE_ID',
  'ORG_ID',
  'MAX_CONCURRENCY',
  'LABELS',
  'MIGRATE_ON_START',
  'REQUIRE_AGENT_ENROLLMENT',
  'BROKER_MANAGEMENT_URL',
  'COMMAND_SIGNING_KEYS',
  'COMMAND_SIGNING_KEYS_FILE',
  'COMMAND_SIGNING_KEY_ID',
  'ENROLLMENT_TOKEN',
  'CONTROL_PLANE_URL',
  'AGENT_DATA_DIR',
  'AGENT_CREDENTIALS_FILE',
];

/** The parent's environment without the variables that say what to talk to and as whom. */
export function inheritedEnvironment(): Record<string, string | undefined> {
  return Object.fromEntries(Object.entries(process.env).filter(([key]) => !NOT_INHERITED.includes(key)));
}
