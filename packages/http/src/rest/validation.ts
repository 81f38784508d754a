import type { FieldError } from '@pos-auth/domain';
import type { z } from 'zod';
import { invalidRequest } from './errors.js';

export const fieldErrors = (error: z.ZodError): FieldError[] =>
  error.issues.map((issue) => ({
    path: issue.path.map(String).join('.') || '(body)',
    message: issue.code === 'invalid_type' && issue.input === undefined ? 'is required' : issue.message,
  }));

/** Parses a request body with zod; a mismatch is a 400 listing every field that is wrong. */
export const parseBody = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> => {
  const parsed = schema.safeParse(body, { reportInput: true });
  if (!parsed.success) throw invalidRequest(describe(parsed.error), fieldErrors(parsed.error));
  return parsed.data;
};

const describe = (error: z.ZodError): string =>
  fieldErrors(error)
    .map((field) => `${field.path} ${field.message}`)
    .join('; ');
