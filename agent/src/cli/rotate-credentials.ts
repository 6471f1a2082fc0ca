import { processIo } from './cli-io.js';
import { rotateCredentialsCommand } from './rotate-credentials-command.js';

process.exitCode = await rotateCredentialsCommand(process.argv.slice(2), process.env, processIo);
