import type { z } from 'zod';
import { describeFieldErrors, fieldErrors } from '../input.js';
import { invalidRequest } from './errors.js';

/** Parses a request body with zod; a mismatch is a 400 listing every field that is wrong. */
export const parseBody = <T extends z.ZodType>(schema: T, body: unknown): z.infer<T> => {
  const parsed = schema.safeParse(body);
  if (!parsed.success) {
    const errors = fieldErrors(parsed.error, '(body)');
    throw invalidRequest(describeFieldErrors(errors), errors);
  }
  return parsed.data;
};
