import { readSettings } from '../config.js';
import { rotateAndSave } from '../identity/enrollment.js';
import {
  EXIT,
  LOCATION_OPTIONS,
  locationSettings,
  messageOf,
  parseCommandArgs,
  type CliIo,
} from './cli-io.js';

export const ROTATE_USAGE =
  'usage: npm run agent:rotate-credentials -- [--data-dir DIR] [--credentials-file FILE] [--url CONTROL_PLANE_URL]\n' +
  '  --data-dir (or AGENT_DATA_DIR), --credentials-file (or AGENT_CREDENTIALS_FILE): where the credentials are\n' +
  '  --url: another control plane URL than the one stored at enrollment';

/**
 * `npm run agent:rotate-credentials`: a new broker password for this node, authenticated with the
 * current one, written over the credentials file. The agent may keep running: its connection stays
 * up, and it logs in with the new password at its next reconnect.
 */
export async function rotateCredentialsCommand(
  argv: string[],
  env: Record<string, string | undefined>,
  io: CliIo,
): Promise<number> {
  const parsed = parseCommandArgs(argv, { url: { type: 'string' }, ...LOCATION_OPTIONS }, ROTATE_USAGE, io);
  if ('exit' in parsed) return parsed.exit;
  const { values } = parsed;
  let credentialsFile;
  try {
    ({ credentialsFile } = readSettings({
      ...env,
      ENROLLMENT_TOKEN: undefined,
      ...locationSettings(values, env),
    }));
  } catch (error) {
    io.err(messageOf(error));
    return EXIT.usage;
  }
  try {
    const rotated = await rotateAndSave({
      credentialsFile,
      ...(values.url === undefined ? {} : { controlPlaneUrl: values.url }),
    });
    io.out(
      `rotated the broker password of node ${rotated.nodeId} (user ${rotated.broker.username}); ` +
        `written to ${credentialsFile}. A running agent uses it from its next reconnect.`,
    );
    return EXIT.ok;
  } catch (error) {
    io.err(`rotation failed: ${messageOf(error)}`);
    return EXIT.failed;
  }
}
