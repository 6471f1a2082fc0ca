import { pino } from 'pino';
import { startAgent } from './agent.js';
import { loadConfig } from './config.js';
import { createLogger } from './logger.js';

/** Composition root: configuration, logger, agent, signals. */
let config;
try {
  config = loadConfig(process.env);
} catch (error) {
  pino().fatal({ err: error }, 'cannot start the agent');
  process.exit(1);
}
const logger = createLogger(config);
const agent = startAgent(config, logger);

let stopping = false;
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.on(signal, () => {
    if (stopping) {
      logger.warn({ signal }, 'second signal: exiting now');
      process.exit(1);
    }
    stopping = true;
    logger.info({ signal }, 'signal received');
    agent.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  });
}
