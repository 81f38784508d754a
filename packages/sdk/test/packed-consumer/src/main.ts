// Runs the package against a pos-auth server: node dist/main.js <pos-auth URL> <client id> <client secret>.
import { useThePackage } from './client.js';
import { ordersService } from './resource-server.js';

const [baseUrl, clientId, clientSecret] = process.argv.slice(2) as [string, string, string];

const used = await useThePackage(baseUrl, clientId, clientSecret);
const { app, refusals } = ordersService(baseUrl, clientId, clientSecret);
const server = app.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const orders = `http://127.0.0.1:${(server.address() as { port: number }).port}/orders`;
const allowed = await fetch(orders, { headers: { Authorization: `Bearer ${used.accessToken}` } });
const allowedBody: unknown = await allowed.json();
await used.auth.logout();
const afterLogout = await fetch(orders, { headers: { Authorization: `Bearer ${used.accessToken}` } });
server.close();

const { auth: _auth, accessToken: _token, ...report } = used;
console.log(JSON.stringify({ ...report, orders: { status: allowed.status, body: allowedBody }, afterLogout: afterLogout.status, refusals }));
