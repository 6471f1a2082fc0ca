import { processIo } from './cli-io.js';
import { enrollCommand } from './enroll-command.js';

process.exitCode = await enrollCommand(process.argv.slice(2), process.env, processIo);
