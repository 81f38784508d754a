import { defineConfig, type UserConfig } from 'tsdown';

type Plugin = Extract<NonNullable<UserConfig['plugins']>, { name: string }>;

/**
 * Drops the names a declaration chunk imports but never uses, and imports left with none.
 * Rolldown keeps an external module's import in a `.d.ts` chunk after tree-shaking removed every
 * use of it: the router's type comes from `@pos-auth/http`, whose declarations import express for
 * functions the SDK never shows, and `dist/index.d.ts` would import express for nothing.
 */
const dropUnusedTypeImports: Plugin = {
  name: 'pos-auth:drop-unused-type-imports',
  renderChunk: (code, chunk) => {
    if (!chunk.fileName.endsWith('.d.ts')) return null;
    const used = (name: string, body: string) => new RegExp(`\\b${name.replaceAll('$', '\\$')}\\b`, 'u').test(body);
    return code.replace(/^import \{ ([^}]+) \} from ("[^"]+");\n/gmu, (statement, names: string, from: string) => {
      const rest = code.replace(statement, '');
      const kept = names.split(', ').filter((name) => used(name.split(' as ').at(-1)!, rest));
      return kept.length === 0 ? '' : `import { ${kept.join(', ')} } from ${from};\n`;
    });
  },
};

/**
 * The published build: ESM with bundled declarations, one file per entry (`.` and `./express`).
 * The workspace's own packages are bundled in, code and types alike (the contract's schemas, the
 * router's type), since a published package cannot depend on them; every other package stays an
 * import, for the package's dependencies to satisfy. The declarations are made from the
 * workspace packages' compiled ones (their `types`, not the `@pos-auth/source` condition), which
 * `tsc -b` writes before this build runs.
 */
export default defineConfig({
  entry: { index: 'src/index.ts', express: 'src/express.ts' },
  format: 'esm',
  platform: 'neutral',
  outDir: 'dist',
  clean: true,
  deps: {
    alwaysBundle: [/^@pos-auth\//u],
    neverBundle: [/^(?!@pos-auth\/)[@a-z]/u],
  },
  dts: { compilerOptions: { customConditions: [] } },
  plugins: [dropUnusedTypeImports],
  // Type generation is most of the build's time, which rolldown reports as slow plugins on a busy machine.
  checks: { pluginTimings: false },
});
