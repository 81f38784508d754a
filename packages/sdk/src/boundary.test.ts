import { readFileSync, readdirSync } from 'node:fs';
import type { inferRouterInputs, inferRouterOutputs } from '@trpc/server';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type {
  AppRouter,
  ChangePasswordInput,
  ListUsersQuery,
  LogoutOptions,
  PosAuthRole,
  PosAuthSession,
  PosAuthUser,
  RegisterInput,
  UserChanges,
} from './index.js';

/**
 * The SDK runs in browsers with `fetch` only, and never loads the server: what it imports at
 * run time is its own files, `@trpc/client`, the HTTP contract (`@pos-auth/contract`, zod
 * schemas that read every answer) and, for resource servers (`@pos-auth/sdk/express`), `jose`;
 * the server's packages and `express` only as types (erased); no Node built-ins or Node-only
 * globals. Test files are exempt.
 */
const sourceDir = new URL('./', import.meta.url);
const sources = readdirSync(sourceDir, { recursive: true, encoding: 'utf8' })
  .filter((file) => file.endsWith('.ts') && !file.endsWith('.test.ts'))
  .map((file) => ({ file, text: readFileSync(new URL(file, sourceDir), 'utf8') }));

/** What each entry point may import at run time besides the SDK's own files. */
const allowedRuntimeImports = (file: string): readonly string[] =>
  file === 'express.ts' || file.startsWith('express/') ? ['jose'] : ['@trpc/client', '@pos-auth/contract'];

/** `import … from 'x'` and `export … from 'x'`, with whether the whole statement is type-only. */
const importsOf = (text: string) =>
  [...text.matchAll(/^\s*(import|export)\s+(type\s+)?(?:[^;]*?\sfrom\s+)?'([^']+)'/gmu)].map((match) => ({
    specifier: match[3]!,
    typeOnly: match[2] !== undefined,
  }));

describe('the SDK boundary', () => {
  it('has the sources it should', () => {
    expect(sources.map((source) => source.file).sort()).toEqual([
      'audit-client.ts',
      'credentials.ts',
      'errors.ts',
      'express.ts',
      'express/introspection.ts',
      'express/refusal.ts',
      'express/require-auth.ts',
      'express/verifier.ts',
      'index.ts',
      'replies.ts',
      'rest-client.ts',
      'session.ts',
      'tab-turns.ts',
      'token-storage.ts',
      'trpc-client.ts',
    ]);
  });

  it.each(sources)('$file imports at run time only SDK files and what its entry point allows', ({ file, text }) => {
    const runtime = importsOf(text)
      .filter((item) => !item.typeOnly)
      .map((item) => item.specifier)
      .filter((specifier) => !specifier.startsWith('./') && !specifier.startsWith('../'));
    expect(runtime.filter((specifier) => !allowedRuntimeImports(file).includes(specifier))).toEqual([]);
  });

  it('keeps the resource-server middleware out of the browser entry point', () => {
    const main = sources.find((source) => source.file === 'index.ts')!;
    expect(importsOf(main.text).map((item) => item.specifier).filter((specifier) => specifier.startsWith('./express'))).toEqual([]);
  });

  it.each(sources)('$file uses no Node built-in or Node-only global', ({ text }) => {
    expect(text).not.toMatch(/\bBuffer\b|\bprocess\.|\brequire\(|\b__dirname\b|\bsetImmediate\b|['"]node:/u);
  });

  it('detects what it forbids', () => {
    expect(importsOf(`import { x } from '@pos-auth/http';\nexport type { Y } from '@pos-auth/domain';`)).toEqual([
      { specifier: '@pos-auth/http', typeOnly: false },
      { specifier: '@pos-auth/domain', typeOnly: true },
    ]);
  });
});

describe("the SDK's types and the server's router", () => {
  it('agree on the user resource and the roles', () => {
    type RouterUser = inferRouterOutputs<AppRouter>['users']['me'];
    expectTypeOf<RouterUser>().toExtend<PosAuthUser>();
    expectTypeOf<RouterUser['role']>().toEqualTypeOf<PosAuthRole>();
    expectTypeOf<NonNullable<inferRouterInputs<AppRouter>['users']['register']['role']>>().toEqualTypeOf<PosAuthRole>();
    expectTypeOf<RegisterInput>().toExtend<inferRouterInputs<AppRouter>['users']['register']>();
  });

  it('agree on the inputs of the account and session calls, and on what they answer', () => {
    type Inputs = inferRouterInputs<AppRouter>;
    type Outputs = inferRouterOutputs<AppRouter>;
    expectTypeOf<ListUsersQuery>().toExtend<Inputs['users']['list']>();
    expectTypeOf<UserChanges & { userId: string }>().toExtend<Inputs['users']['update']>();
    expectTypeOf<ChangePasswordInput>().toExtend<Inputs['users']['changePassword']>();
    expectTypeOf<LogoutOptions>().toExtend<Inputs['auth']['logout']>();
    expectTypeOf<Outputs['users']['list']['items'][number]>().toExtend<PosAuthUser>();
    expectTypeOf<PosAuthUser>().toExtend<Outputs['users']['list']['items'][number]>();
    expectTypeOf<Outputs['sessions']['list'][number]>().toExtend<PosAuthSession>();
  });
});
