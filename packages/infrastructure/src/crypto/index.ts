export * from './argon2-password-hasher.js';
export * from './tokens.js';
export * from './system.js';
