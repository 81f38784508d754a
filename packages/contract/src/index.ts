export * from './text.js';
export * from './roles.js';
export * from './errors.js';
export * from './users.js';
export * from './sessions.js';
export * from './oauth.js';
export * from './health.js';
export * from './endpoints.js';
