import { execFile } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startProcess, stopProcess } from './process.js';

const run = promisify(execFile);
const readmeUrl = new URL('../../../../README.md', import.meta.url);

/** The README's shell blocks of one section, in order. */
const shellBlocks = (markdown: string, heading: string): string[] => {
  const section = markdown.split(/^## /m).find((part) => part.startsWith(heading));
  if (section === undefined) throw new Error(`README.md has no section "## ${heading}"`);
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!);
};

/**
 * The README's curl commands, run by bash against the real server process started as the
 * README's first command starts it (its AUTH_CLIENTS): only the port differs.
 */
describe('the README', () => {
  let markdown: string;
  let server: Awaited<ReturnType<typeof startProcess>>;
  let dataDir: string;

  beforeAll(async () => {
    markdown = await readFile(readmeUrl, 'utf8');
    const start = markdown.match(/^npm i -g pnpm@12\.4\.2 && pnpm install && AUTH_CLIENTS='([^']+)' pnpm start$/m);
    expect(start, 'the README opens with the install-and-start command').not.toBeNull();
    dataDir = await mkdtemp(path.join(tmpdir(), 'pos-auth-readme-'));
    server = await startProcess({ DATA_DIR: dataDir, AUTH_CLIENTS: start![1]! });
  });
  afterAll(async () => {
    if (server) await stopProcess(server.child);
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
  });

  it('opens with the two commands, the second being what CI runs', async () => {
    const lines = markdown.split('\n').filter((line) => line.startsWith('npm i -g pnpm@12.4.2'));
    expect(lines).toEqual([
      expect.stringMatching(/pnpm install && AUTH_CLIENTS='[^']+' pnpm start$/),
      'npm i -g pnpm@12.4.2 && pnpm install && pnpm test',
    ]);
    const ci = await readFile(new URL('../../../../.ci/run', import.meta.url), 'utf8');
    expect(ci).toContain('\nnpm i -g pnpm@12.4.2 && pnpm install && pnpm test\n');
  });

  it('shows the seed flow as curl commands that work verbatim', async () => {
    const blocks = shellBlocks(markdown, 'The seed flow with curl');
    expect(blocks).toHaveLength(3);
    const outputs: string[] = [];
    for (const block of blocks) {
      const script = block.replaceAll('http://localhost:3000', server.url);
      const { stdout } = await run('bash', ['-euo', 'pipefail', '-c', script], { timeout: 20_000 });
      outputs.push(stdout);
    }
    const statuses = outputs.join('\n').match(/HTTP\/1\.1 \d{3}/g);
    // register, log in, then /users/me and a refresh
    expect(statuses).toEqual(['HTTP/1.1 201', 'HTTP/1.1 201', 'HTTP/1.1 200', 'HTTP/1.1 201']);
    expect(outputs[1]).toMatch(/"token_type":"Bearer"/);
    expect(outputs[2]).toMatch(/"user_name":"admin","email":null,"name":null,"role":"admin"/);
  });
});
