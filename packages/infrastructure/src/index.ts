export * from './postgres/pool.js';
export * from './postgres/unavailable.js';
export * from './postgres/migrate.js';
export * from './postgres/event-store.js';
export * from './postgres/projections.js';
export * from './postgres/read-models.js';
export * from './embedded/embedded-postgres.js';
export * from './crypto/index.js';
