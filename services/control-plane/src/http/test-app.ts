import { pino } from 'pino';
import type { DataSource } from 'typeorm';
import { topology } from '@meridian/contracts/topology';
import type { AppDeps } from '../app/app-deps.js';
import { appSettingsFrom } from '../app-settings.js';
import { loadConfig } from '../config.js';
import { systemClock } from '../app/clock.js';
import { ephemeralKeyring } from '../security/command-keyring.js';
import { createAuthenticator } from './auth.js';
import { createApp, type HttpDeps } from './create-app.js';
import { TEST_SECRET } from './test-tokens.js';

/**
 * For unit tests: an app whose database refuses every use (requests must not reach it).
 * `appOverrides` replaces some of the use cases' dependencies (a broker management API).
 */
export function createTestApp(
  overrides: Partial<HttpDeps> = {},
  dataSource?: DataSource,
  appOverrides: Partial<AppDeps> = {},
) {
  const app: AppDeps = {
    dataSource:
      dataSource ??
      (new Proxy(
        {},
        {
          get() {
            throw new Error('unit tests have no database: connection refused at 10.0.0.5:5432');
          },
        },
      ) as DataSource),
    clock: systemClock,
    random: Math.random,
    topology: topology('unit'),
    logger: pino({ level: 'silent' }),
    keyring: ephemeralKeyring(),
    ...appSettingsFrom(loadConfig({ RETRY_JITTER_RATIO: '0' })),
    ...appOverrides,
  };
  return createApp({ app, auth: createAuthenticator({ secret: TEST_SECRET }), readiness: {}, ...overrides });
}
