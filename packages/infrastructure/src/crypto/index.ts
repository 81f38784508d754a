export * from './argon2-password-hasher.js';
export * from './tokens.js';
export * from './service-keys.js';
export * from './backoff.js';
export * from './system.js';
export * from './signing-keys.js';
export * from './jose-access-token-signer.js';
