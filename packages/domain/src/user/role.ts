export const roles = ['admin', 'manager', 'chef', 'expeditor', 'patron'] as const;
export type Role = (typeof roles)[number];

/** Self-registered accounts get this role; any other needs an admin. */
export const defaultRole: Role = 'patron';

export const isRole = (value: unknown): value is Role => roles.includes(value as Role);
