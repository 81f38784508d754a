import { auditRouter } from './audit.router.js';
import { authRouter } from './auth.router.js';
import { router } from './init.js';
import { sessionsRouter } from './sessions.router.js';
import { usersRouter } from './users.router.js';

/** Every procedure, by feature: `users.*`, `sessions.*`, `auth.*`, `audit.*`. */
export const appRouter = router({ users: usersRouter, sessions: sessionsRouter, auth: authRouter, audit: auditRouter });

/** The router's type: what `@pos-auth/sdk` builds its typed tRPC client on. */
export type AppRouter = typeof appRouter;
