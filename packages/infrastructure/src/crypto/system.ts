import { randomUUID } from 'node:crypto';
import type { Clock, IdGenerator } from '@pos-auth/domain';

/** The wall clock, to the millisecond. */
export const systemClock: Clock = { now: () => new Date() };

/** Random UUID v4 identifiers for users and sessions. */
export const randomUuidGenerator: IdGenerator = { newId: () => randomUUID() };
