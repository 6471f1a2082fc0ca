import { hostname } from 'node:os';
import agentPackage from '../../package.json' with { type: 'json' };
import { readSettings } from '../config.js';
import { credentialsFileExists } from '../identity/credentials-file.js';
import { enrollAndSave } from '../identity/enrollment.js';
import {
  EXIT,
  LOCATION_OPTIONS,
  locationSettings,
  messageOf,
  parseCommandArgs,
  type CliIo,
} from './cli-io.js';

export const ENROLL_USAGE =
  'usage: npm run agent:enroll -- --token TOKEN --url CONTROL_PLANE_URL [--data-dir DIR] [--credentials-file FILE] [--force]\n' +
  '  --token (or ENROLLMENT_TOKEN): the one-time token from POST /api/v1/nodes/enrollments\n' +
  '  --url (or CONTROL_PLANE_URL): the control plane, e.g. https://control-plane.example.com\n' +
  '  --data-dir (or AGENT_DATA_DIR): the agent data directory; the credentials go to DIR/credentials.json\n' +
  '  --credentials-file (or AGENT_CREDENTIALS_FILE): elsewhere than in the data directory\n' +
  '  --force: replace an existing credentials file';

/**
 * `npm run agent:enroll`: exchanges an enrollment token for this node's credentials and writes the
 * credentials file (0600, directory 0700) where the agent will read it, resolving paths from the
 * same variables as the agent. The token may come from ENROLLMENT_TOKEN so that it stays out of
 * the shell history and the process list.
 */
export async function enrollCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
): Promise<number> {
  const parsed = parseCommandArgs(
    argv,
    {
      token: { type: 'string' },
      url: { type: 'string' },
      force: { type: 'boolean', default: false },
      ...LOCATION_OPTIONS,
    },
    ENROLL_USAGE,
    io,
  );
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  const token = values.token ?? env['ENROLLMENT_TOKEN'];
  const url = values.url ?? env['CONTROL_PLANE_URL'];
  if (!token || !url) {
    io.err(`${!token ? '--token' : '--url'} is required\n${ENROLL_USAGE}`);
    return EXIT.usage;
  }
  let settings;
  try {
    settings = readSettings({
      ...env,
      ENROLLMENT_TOKEN: token,
      CONTROL_PLANE_URL: url,
      ...locationSettings(values, env),
    });
  } catch (error) {
    io.err(messageOf(error));
    return EXIT.usage;
  }
  const file = settings.credentialsFile;
  if (credentialsFileExists(file) && !values.force) {
    io.err(`${file} exists: this agent is enrolled already. Pass --force to replace its credentials.`);
    return EXIT.failed;
  }
  try {
    const credentials = await enrollAndSave({
      controlPlaneUrl: url,
      token,
      credentialsFile: file,
      agentVersion: agentPackage.version,
      hostname: hostname(),
    });
    io.out(
      `enrolled node ${credentials.nodeId} of organisation ${credentials.orgId} ` +
        `(broker user ${credentials.broker.username}); credentials written to ${file}\n` +
        `start the agent with AGENT_DATA_DIR=${settings.dataDir}` +
        (values['credentials-file'] || env['AGENT_CREDENTIALS_FILE']
          ? ` AGENT_CREDENTIALS_FILE=${file}`
          : ''),
    );
    return EXIT.ok;
  } catch (error) {
    io.err(`enrollment failed: ${messageOf(error)}`);
    return EXIT.failed;
  }
}
