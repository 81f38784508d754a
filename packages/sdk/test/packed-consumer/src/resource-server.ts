// What a resource server (the POS API's orders service) does with @pos-auth/sdk/express.
import express from 'express';
import { requireAuth, type AccessTokenRefusal, type PosAuthPrincipal } from '@pos-auth/sdk/express';

export const ordersService = (issuer: string, clientId: string, clientSecret: string) => {
  const app = express();
  const refusals: string[] = [];
  const onRefusal = (refusal: AccessTokenRefusal) => void refusals.push(refusal.reason);
  app.get(
    '/orders',
    requireAuth({ issuer, roles: ['admin', 'manager'], introspection: { clientId, clientSecret, cacheTtlSeconds: 0 }, onRefusal }),
    (req, res) => {
      const caller: PosAuthPrincipal = req.auth!;
      res.json({ userId: caller.userId, role: caller.role, verifiedBy: caller.verifiedBy });
    },
  );
  return { app, refusals };
};
