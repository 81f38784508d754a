import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig, parseAuthClients } from './config.js';

describe('configuration', () => {
  it('has the documented defaults', () => {
    expect(loadConfig({ INIT_CWD: '/srv/pos-auth' }, { runByRoot: false })).toEqual({
      port: 3000,
      host: '0.0.0.0',
      databaseUrl: null,
      dataDir: '/srv/pos-auth/.data',
      authClients: [],
      accessTokenFormat: 'opaque',
      accessTokenTtlSeconds: 1800,
      accessTokenAudience: 'pos-api',
      accessTokenSigningKeys: null,
      refreshTokenTtlSeconds: 1209600,
      sessionMaxAgeSeconds: 2592000,
      refreshReuseGraceSeconds: 10,
      loginFailureLimit: 5,
      rateLimitIpPerMinute: 600,
      issuer: 'http://localhost:3000',
      corsOrigins: [],
      logLevel: 'info',
      trustProxy: false,
      eventLogIntegrity: true,
      metricsPort: null,
      metricsToken: null,
    });
  });

  it('keeps the embedded database in /var/lib/pos-auth by default when run by root (the postgres user must reach it)', () => {
    expect(loadConfig({ INIT_CWD: '/root/pos-auth' }, { runByRoot: true }).dataDir).toBe('/var/lib/pos-auth');
    expect(loadConfig({ INIT_CWD: '/root/pos-auth', DATA_DIR: 'here' }, { runByRoot: true }).dataDir).toBe('/root/pos-auth/here');
  });

  it('takes 0 to switch the reuse grace and the per-IP limit off, and the issuer without a trailing slash', () => {
    expect(loadConfig({ REFRESH_REUSE_GRACE: '0', RATE_LIMIT_IP_PER_MINUTE: '0', ISSUER: 'https://auth.pos.example/' })).toMatchObject({
      refreshReuseGraceSeconds: 0,
      rateLimitIpPerMinute: 0,
      issuer: 'https://auth.pos.example',
    });
    expect(loadConfig({ PORT: '8080' }).issuer).toBe('http://localhost:8080');
  });

  it('reads every variable', () => {
    const config = loadConfig({
      PORT: '8080',
      DATABASE_URL: 'postgres://pos:pw@db:5432/pos',
      DATA_DIR: '/var/lib/pos-auth',
      AUTH_CLIENTS: 'panel:s3cret,terminal:t0ken',
      ACCESS_TOKEN_TTL: '1',
      CORS_ORIGINS: 'https://admin.example.com, http://localhost:5173',
      METRICS_PORT: '9464',
      METRICS_TOKEN: 'a-scraper-token-of-32-characters',
    });
    expect(config).toMatchObject({
      port: 8080,
      databaseUrl: 'postgres://pos:pw@db:5432/pos',
      dataDir: '/var/lib/pos-auth',
      accessTokenTtlSeconds: 1,
      corsOrigins: ['https://admin.example.com', 'http://localhost:5173'],
      metricsPort: 9464,
      metricsToken: 'a-scraper-token-of-32-characters',
    });
    expect(config.authClients).toEqual([
      { clientId: 'panel', clientSecret: 's3cret' },
      { clientId: 'terminal', clientSecret: 't0ken' },
    ]);
  });

  it('makes JWT access tokens short-lived unless ACCESS_TOKEN_TTL says otherwise', () => {
    expect(loadConfig({ ACCESS_TOKEN_FORMAT: 'jwt' }).accessTokenTtlSeconds).toBe(300);
    expect(loadConfig({ ACCESS_TOKEN_FORMAT: 'jwt', ACCESS_TOKEN_TTL: '900' }).accessTokenTtlSeconds).toBe(900);
    expect(loadConfig({ ACCESS_TOKEN_FORMAT: 'opaque' }).accessTokenTtlSeconds).toBe(1800);
    expect(loadConfig({ ACCESS_TOKEN_FORMAT: 'jwt', ACCESS_TOKEN_AUDIENCE: 'https://orders.pos.example' })).toMatchObject({
      accessTokenFormat: 'jwt',
      accessTokenAudience: 'https://orders.pos.example',
    });
  });

  it('splits each AUTH_CLIENTS pair at its first colon and percent-decodes both parts', () => {
    expect(parseAuthClients('a%3Ab:c:d%2Ce%25, plain:secret')).toEqual([
      { clientId: 'a:b', clientSecret: 'c:d,e%' },
      { clientId: 'plain', clientSecret: 'secret' },
    ]);
  });

  it.each([
    [{ ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
    [{ ACCESS_TOKEN_TTL: '1.5' }, 'ACCESS_TOKEN_TTL'],
    [{ ACCESS_TOKEN_TTL: 'soon' }, 'ACCESS_TOKEN_TTL'],
    [{ PORT: '70000' }, 'PORT'],
    [{ PORT: 'http' }, 'PORT'],
    [{ DATABASE_URL: 'mysql://x' }, 'DATABASE_URL'],
    [{ CORS_ORIGINS: 'https://admin.example.com/path' }, 'CORS_ORIGINS'],
    [{ AUTH_CLIENTS: 'no-colon-here' }, 'AUTH_CLIENTS: entry 1'],
    [{ AUTH_CLIENTS: 'ok:fine,bad%ZZ:secret' }, 'AUTH_CLIENTS'],
    [{ LOG_LEVEL: 'loud' }, 'LOG_LEVEL'],
    [{ EVENT_LOG_INTEGRITY: 'off' }, 'EVENT_LOG_INTEGRITY'],
    [{ SESSION_MAX_AGE: '0' }, 'SESSION_MAX_AGE'],
    [{ REFRESH_REUSE_GRACE: '-1' }, 'REFRESH_REUSE_GRACE'],
    [{ LOGIN_FAILURE_LIMIT: '0' }, 'LOGIN_FAILURE_LIMIT'],
    [{ RATE_LIMIT_IP_PER_MINUTE: 'lots' }, 'RATE_LIMIT_IP_PER_MINUTE'],
    [{ ISSUER: 'ftp://auth.example' }, 'ISSUER'],
    [{ ACCESS_TOKEN_FORMAT: 'JWT' }, 'ACCESS_TOKEN_FORMAT'],
    [{ ACCESS_TOKEN_AUDIENCE: 'pos api' }, 'ACCESS_TOKEN_AUDIENCE'],
    [{ ACCESS_TOKEN_FORMAT: 'jwt', ACCESS_TOKEN_TTL: '0' }, 'ACCESS_TOKEN_TTL'],
    [{ METRICS_PORT: '3000' }, 'METRICS_PORT: must differ from PORT'],
    [{ PORT: '8080', METRICS_PORT: '8080' }, 'METRICS_PORT: must differ from PORT'],
    [{ METRICS_PORT: '65536' }, 'METRICS_PORT'],
    [{ METRICS_TOKEN: 'short' }, 'METRICS_TOKEN'],
  ])('refuses %j with a message naming the variable', (env, name) => {
    expect(() => loadConfig(env)).toThrow(ConfigError);
    expect(() => loadConfig(env)).toThrow(name);
  });

  it('never echoes a secret from a malformed AUTH_CLIENTS entry', () => {
    expect(() => loadConfig({ AUTH_CLIENTS: 'supersecretvalue' })).toThrow(/^(?!.*supersecretvalue)/s);
  });
});
