export type { AppRouter } from './trpc/router.js';
export { appRouter } from './trpc/router.js';
export { createApp, type AppOptions } from './rest/app.js';
export { createAuthDeps, createRuntime, openDatabase, seedClients } from './composition.js';
export { loadConfig, parseAuthClients, ConfigError, type Config, type ClientSeed } from './config.js';
export { createLogger } from './logger.js';
export { rotateKeysCommand, type RotateKeysOptions } from './keys-command.js';
export { jwksMetadata } from './rest/jwks.routes.js';
export { startServer, type RunningServer } from './server.js';
