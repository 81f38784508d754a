import { mkdir } from 'node:fs/promises';
import { resolve } from 'node:path';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { PGlite } from '@electric-sql/pglite';
import { PGLiteSocketServer } from '@electric-sql/pglite-socket';

export interface EmbeddedPostgresOptions {
  /** Where the database keeps its files (created when missing); `null` keeps it in memory. */
  readonly dataDir: string | null;
}

export interface EmbeddedPostgres {
  /** A `postgres://` URL for `pg`, on 127.0.0.1 and a port the OS chose. */
  readonly connectionString: string;
  /** The `max` to give the (one) pool: the embedded database serves one connection at a time. */
  readonly poolMax: number;
  /** Closes the socket server, then the database, so its data directory can be opened again. */
  stop(): Promise<void>;
}

/**
 * PGlite is a single PostgreSQL backend. pglite-socket queues each protocol message of every
 * connection onto it, so the messages of two busy connections interleave: the Parse/Bind/Execute
 * of one parameterised query can be split by another's, and session settings (the search path)
 * are shared. Hence one pooled connection in use at a time (`poolMax`).
 */
const poolMax = 1;

/**
 * The socket server still accepts a few connections: pg's pool destroys a connection whenever a
 * query on it fails and opens the next one at once, before the server has seen the old one
 * close. With a limit of 1 that next connection would be refused. Only one of them is ever in use.
 */
const socketConnections = 8;

/**
 * Starts PostgreSQL in-process (PGlite, WebAssembly) and serves it over the wire protocol, so the
 * service talks to it through the same `pg` code as to a real server: what `pnpm start` uses when
 * no `DATABASE_URL` is set. Data persist in `dataDir`; one process at a time may open it.
 * End your pools before `stop()`: the server drops its connection when it stops.
 *
 * @example
 * const embedded = await startEmbeddedPostgres({ dataDir: './.data/pos-auth' });
 * const pool = createPool(embedded.connectionString, { max: embedded.poolMax });
 * await migrate(pool);
 * // ... at shutdown:
 * await pool.end();
 * await embedded.stop();
 */
export const startEmbeddedPostgres = async ({ dataDir }: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> => {
  let directory: string | undefined;
  if (dataDir !== null) {
    directory = resolve(dataDir);
    await mkdir(directory, { recursive: true });
  }
  const db = await PGlite.create(directory);
  // Port 0: the OS picks a free port when the server listens; no race with a probe-then-bind.
  const server = new PGLiteSocketServer({ db, host: '127.0.0.1', port: 0, maxConnections: socketConnections });
  try {
    await server.start();
  } catch (error) {
    await db.close();
    throw error;
  }

  let stopped: Promise<void> | undefined;
  return {
    connectionString: `postgres://postgres@${server.getServerConn()}/postgres`,
    poolMax,
    stop() {
      stopped ??= (async () => {
        await server.stop();
        // stop() detaches the connection without awaiting its cleanup, which may roll back an
        // open transaction on the database: let that run before the database closes.
        await nextTurn();
        await db.close();
      })();
      return stopped;
    },
  };
};
