import { requireFrom, versionOf } from './workspace.js';

/** argon2id at explicit parameters; the libraries' other defaults (32-byte output, 16-byte salt, v=0x13) agree. */
export interface Argon2idParams {
  /** KiB. */
  readonly memoryCost: number;
  readonly timeCost: number;
  readonly parallelism: number;
}

/** What the benchmarks need of an argon2 library: hash to a PHC string, verify one. */
export interface Argon2Library {
  readonly name: string;
  readonly version: string;
  hash(password: string): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** The part of `@node-rs/argon2`'s API used here (its types are not reachable from bench/). */
interface NodeRsArgon2 {
  hash(password: string, options: { memoryCost: number; timeCost: number; parallelism: number; algorithm: number }): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** The part of `argon2`'s (node-argon2) API used here. */
interface NodeArgon2 {
  readonly argon2id: number;
  hash(password: string, options: { memoryCost: number; timeCost: number; parallelism: number; type: number }): Promise<string>;
  verify(phc: string, password: string): Promise<boolean>;
}

/** `Algorithm.Argon2id` of `@node-rs/argon2` (a const enum, so it has no run-time value to import). */
const nodeRsArgon2id = 2;

/** `@node-rs/argon2`, exactly as packages/infrastructure resolves it (the service's hasher). */
export const loadNodeRsArgon2 = (params: Argon2idParams): Argon2Library => {
  const lib = requireFrom('infrastructure')('@node-rs/argon2') as NodeRsArgon2;
  const options = { ...params, algorithm: nodeRsArgon2id };
  return {
    name: '@node-rs/argon2',
    version: versionOf('infrastructure', '@node-rs/argon2'),
    hash: (password) => lib.hash(password, options),
    verify: (phc, password) => lib.verify(phc, password),
  };
};

/** `argon2` (node-argon2, C reference implementation), a devDependency of packages/infrastructure. */
export const loadNodeArgon2 = (params: Argon2idParams): Argon2Library => {
  const lib = requireFrom('infrastructure')('argon2') as NodeArgon2;
  const options = { ...params, type: lib.argon2id };
  return {
    name: 'argon2',
    version: versionOf('infrastructure', 'argon2'),
    hash: (password) => lib.hash(password, options),
    verify: (phc, password) => lib.verify(phc, password),
  };
};

/** The PHC prefix both libraries must produce for `params`, e.g. `$argon2id$v=19$m=19456,t=2,p=1$`. */
export const expectedPhcPrefix = (params: Argon2idParams): string =>
  `$argon2id$v=19$m=${params.memoryCost},t=${params.timeCost},p=${params.parallelism}$`;
