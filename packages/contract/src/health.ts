import { z } from 'zod';

/** `GET /health/live`: the process runs. */
export const liveness = z.object({ status: z.literal('live') }).meta({ id: 'Liveness' });

/** `GET /health/ready`: the database is reachable and migrated. */
export const readiness = z.object({ status: z.literal('ready') }).meta({ id: 'Readiness' });
