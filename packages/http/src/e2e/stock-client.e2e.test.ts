import * as oauth from 'oauth4webapi';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { startTestServer, type TestServer } from '../testing.js';
import { password, signUp } from './accounts.js';

/**
 * A stock OAuth 2.0 client library, not our own requests, against the real server: `oauth4webapi`
 * discovers the metadata (RFC 8414), logs in with the password grant through its generic token
 * endpoint request, refreshes, introspects (RFC 7662) and revokes (RFC 7009), validating every
 * answer as it would against any authorization server.
 */
describe('oauth4webapi against pos-auth', () => {
  let server: TestServer;
  let as: oauth.AuthorizationServer;
  const client: oauth.Client = { client_id: 'admin-panel' };
  // The library speaks only HTTPS unless told otherwise: the test server listens on plain loopback HTTP.
  const insecure = { [oauth.allowInsecureRequests]: true } as const;

  beforeAll(async () => {
    server = await startTestServer(inject('testDatabase'));
    await signUp(server.url, 'stock-admin');
    const issuer = new URL(server.url);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...insecure }));
  });
  afterAll(async () => {
    await server?.close();
  });

  const basic = () => oauth.ClientSecretBasic(server.client.clientSecret);
  const post = () => oauth.ClientSecretPost(server.client.clientSecret);

  const passwordGrant = async () =>
    oauth.processGenericTokenEndpointResponse(
      as,
      client,
      await oauth.genericTokenEndpointRequest(as, client, basic(), 'password', { username: 'stock-admin', password }, insecure),
    );
  const introspection = async (token: string) =>
    oauth.processIntrospectionResponse(as, client, await oauth.introspectionRequest(as, client, post(), token, insecure));

  it('discovers the endpoints', () => {
    expect(as).toMatchObject({
      issuer: server.url,
      token_endpoint: `${server.url}/oauth/token`,
      revocation_endpoint: `${server.url}/oauth/revoke`,
      introspection_endpoint: `${server.url}/oauth/introspect`,
      grant_types_supported: expect.arrayContaining(['password', 'refresh_token']),
    });
  });

  it('logs in, refreshes, introspects and revokes', async () => {
    const login = await passwordGrant();
    expect(login).toMatchObject({ token_type: 'bearer', expires_in: 1800, refresh_token: expect.any(String) });

    const refreshed = await oauth.processRefreshTokenResponse(
      as,
      client,
      await oauth.refreshTokenGrantRequest(as, client, post(), login.refresh_token!, insecure),
    );
    expect(refreshed.refresh_token).not.toBe(login.refresh_token);

    expect(await introspection(refreshed.access_token)).toMatchObject({ active: true, token_type: 'Bearer', client_id: 'admin-panel', username: 'stock-admin' });
    expect(await introspection(refreshed.refresh_token!)).toMatchObject({ active: true, token_type: 'refresh_token' });
    expect(await introspection(login.refresh_token!)).toEqual({ active: false });

    await oauth.processRevocationResponse(await oauth.revocationRequest(as, client, basic(), refreshed.refresh_token!, { additionalParameters: { token_type_hint: 'refresh_token' }, ...insecure }));
    // The whole session ended: its access token too.
    expect(await introspection(refreshed.access_token)).toEqual({ active: false });
    const refusal = await oauth
      .refreshTokenGrantRequest(as, client, post(), refreshed.refresh_token!, insecure)
      .then((response) => oauth.processRefreshTokenResponse(as, client, response))
      .then(
        () => null,
        (error: unknown) => error,
      );
    expect(refusal).toBeInstanceOf(oauth.ResponseBodyError);
    expect(refusal).toMatchObject({ status: 400, error: 'invalid_grant' });

    // An unknown token revokes as quietly as a known one.
    await expect(oauth.processRevocationResponse(await oauth.revocationRequest(as, client, post(), 'never-issued', insecure))).resolves.toBeUndefined();
  });

  it('gets the Basic challenge and the OAuth error of a wrong client secret', async () => {
    const response = await oauth.introspectionRequest(as, client, oauth.ClientSecretBasic('wrong secret'), 'whatever', insecure);
    const refusal = await oauth.processIntrospectionResponse(as, client, response).then(
      () => null,
      (error: unknown) => error,
    );
    // The library reads the challenge first; the body behind it is RFC 6749's invalid_client.
    expect(refusal).toBeInstanceOf(oauth.WWWAuthenticateChallengeError);
    expect(refusal).toMatchObject({ status: 401, cause: [{ scheme: 'basic', parameters: { realm: 'pos-auth' } }] });
    expect(await (refusal as oauth.WWWAuthenticateChallengeError).response.json()).toMatchObject({ error: 'invalid_client' });
  });
});
