import { z } from 'zod';

/**
 * The one rule for text that arrives from outside, in REST bodies, token-endpoint parameters,
 * Basic credentials and tRPC inputs alike. PostgreSQL refuses U+0000 in text and jsonb, and a lone
 * surrogate has no UTF-8 form (jsonb refuses its `\ud800` escape; a hasher would read it as
 * U+FFFD, so two different passwords would hash alike): both are refused at the edge, as a 400
 * naming the field, before they reach a use case.
 */
const unpairedSurrogate = /\p{Cs}/u;
const controlCharacter = /\p{Cc}/u;

const problemOf = (value: string, allowControlCharacters: boolean): string | null => {
  if (value.includes('\u0000')) return 'must not contain U+0000';
  if (unpairedSurrogate.test(value)) return 'must not contain unpaired surrogates';
  if (!allowControlCharacters && controlCharacter.test(value)) return 'must not contain control characters';
  return null;
};

const textRule = (allowControlCharacters: boolean) =>
  z.string({ error: (issue) => (issue.input === undefined ? 'is required' : 'must be a string') }).superRefine((value, context) => {
    const problem = problemOf(value, allowControlCharacters);
    if (problem !== null) context.addIssue({ code: 'custom', message: problem });
  });

/**
 * A text field: a string without U+0000, unpaired surrogates or any other control character
 * (C0, DEL, C1). User names, display names, emails, grant types, scopes, tokens, client ids.
 *
 * @example
 * z.object({ user_name: text(), email: text().nullish() })
 */
export const text = () => textRule(false);

/**
 * A secret (a password, a client secret): any character but U+0000 and unpaired surrogates.
 * Secrets are hashed or digested, never stored or shown, so control characters do no harm there,
 * and a passphrase may hold what its owner typed.
 *
 * @example
 * z.object({ password: secret() })
 */
export const secret = () => textRule(true);
