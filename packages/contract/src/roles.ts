import { z } from 'zod';

/**
 * The roles of the POS, the most powerful first. The domain declares the same list (it takes no
 * zod); the HTTP package checks at compile time that the two are equal.
 */
export const roles = ['admin', 'manager', 'chef', 'expeditor', 'patron'] as const;

export type Role = (typeof roles)[number];

/** A role in a body, a query or a response; an unknown one is refused naming the five. */
export const role = z.enum(roles, { error: `must be one of ${roles.join(', ')}` }).meta({ id: 'Role' });
