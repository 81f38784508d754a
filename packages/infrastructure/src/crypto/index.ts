export * from './argon2-password-hasher.js';
export * from './bounded-password-hasher.js';
export * from './tokens.js';
export * from './service-keys.js';
export * from './backoff.js';
export * from './keyed-lock.js';
export * from './system.js';
