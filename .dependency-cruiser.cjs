/**
 * The architecture, enforced: dependencies point inward only (http → infrastructure → domain),
 * the domain does no I/O and has no runtime dependencies, the HTTP contract (zod schemas) stands
 * alone so that both edges may load it, and the SDK takes nothing but types from the server.
 * `pnpm depcheck` (part of `pnpm test`) fails on any violation.
 */
const packages = (...names) => `^packages/(${names.join('|')})/`;

module.exports = {
  forbidden: [
    {
      name: 'domain-is-pure',
      comment: 'The domain imports only itself: no other package, no npm module, no Node built-in.',
      severity: 'error',
      from: { path: packages('domain') },
      to: { pathNot: packages('domain') },
    },
    {
      name: 'contract-stands-alone',
      comment:
        'The contract is loaded at run time by the server (http) and by browsers (sdk): it imports only itself and zod, nothing of ours, no Node built-in.',
      severity: 'error',
      from: { path: packages('contract') },
      to: { pathNot: [packages('contract'), '(^|/)node_modules/zod/'] },
    },
    {
      name: 'infrastructure-points-inward',
      comment: 'The adapters know the domain, not the edges nor the HTTP contract the edges speak.',
      severity: 'error',
      from: { path: packages('infrastructure') },
      to: { path: packages('http', 'sdk', 'contract') },
    },
    {
      name: 'http-points-inward',
      severity: 'error',
      from: { path: packages('http') },
      to: { path: packages('sdk') },
    },
    {
      name: 'sdk-takes-only-types-from-the-server',
      comment: 'The SDK runs in browsers: it may import the contract at run time, the server packages for types only.',
      severity: 'error',
      from: { path: packages('sdk'), pathNot: '\\.test\\.ts$' },
      to: { path: packages('domain', 'infrastructure', 'http'), dependencyTypesNot: ['type-only'] },
    },
    {
      name: 'sdk-needs-no-node',
      severity: 'error',
      from: { path: packages('sdk'), pathNot: '\\.test\\.ts$' },
      to: { dependencyTypes: ['core'] },
    },
    {
      name: 'no-circular',
      severity: 'error',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    // dist/ is compiled from the sources that are checked.
    exclude: { path: '(^|/)(node_modules|dist)/' },
    tsConfig: { fileName: 'tsconfig.json' },
    tsPreCompilationDeps: true,
    combinedDependencies: false,
    // '@pos-auth/source' first: the workspace packages resolve to their sources, which are what
    // the rules are about (without it, an import of a package whose dist/ is absent or stale
    // would not be followed, and its violations would pass).
    enhancedResolveOptions: {
      exportsFields: ['exports'],
      conditionNames: ['@pos-auth/source', 'import', 'require', 'node', 'default', 'types'],
    },
  },
};
