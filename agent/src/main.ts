import { hostname } from 'node:os';
import { pino } from 'pino';
import agentPackage from '../package.json' with { type: 'json' };
import { startAgent } from './agent.js';
import { buildConfig, readSettings, type AgentConfig } from './config.js';
import { credentialsAtStart } from './identity/credentials-at-start.js';
import { createLogger } from './logger.js';

/** Composition root: configuration (and enrollment at first start), logger, agent, signals. */
let config: AgentConfig;
try {
  const settings = readSettings(process.env);
  const credentials = await credentialsAtStart(settings, {
    logger: pino({ level: settings.env.LOG_LEVEL }),
    agentVersion: agentPackage.version,
    hostname: hostname(),
  });
  config = buildConfig(settings, credentials);
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
