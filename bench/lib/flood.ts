import autocannon from 'autocannon';
import { memoryOf } from './children.js';

/** What became of the flood's requests, by the answer a client can see. */
export interface FloodCounts {
  /** 400 invalid_grant: the password was checked (an argon2 verify against the dummy hash). */
  checked: number;
  /** 429 refused by the user name's back-off, unchecked. */
  perName429: number;
  /** 429 refused by the per-IP limit, before anything else. */
  perIp429: number;
  /** 503: password hashing saturated (or the database unreachable). */
  unavailable503: number;
  /** Any other status, and socket errors. */
  other: number;
}

const emptyCounts = (): FloodCounts => ({ checked: 0, perName429: 0, perIp429: 0, unavailable503: 0, other: 0 });

/** Which of the counts an answer of the flood belongs to (the two 429s differ in their description). */
export const floodOutcomeOf = (status: number, body: string): keyof FloodCounts => {
  if (status === 400 && body.includes('"invalid_grant"')) return 'checked';
  if (status === 429 && body.includes('this address')) return 'perIp429';
  if (status === 429 && body.includes('user name')) return 'perName429';
  if (status === 503) return 'unavailable503';
  return 'other';
};

export interface Flood {
  /** Starts counting into a fresh set of counts (the measured phase); returns the previous ones. */
  nextPhase(): FloodCounts;
  /** Stops the flood; resolves with the counts of the last phase. */
  stop(): Promise<FloodCounts>;
}

export interface FloodOptions {
  readonly url: string;
  readonly connections: number;
  /** Requests per second over all connections (autocannon's `overallRate`). */
  readonly overallRate: number;
  readonly basicAuth: string;
  /** `X-Forwarded-For` values, used in turn. */
  readonly ips: readonly string[];
  /** Unknown user names, used in turn. */
  readonly userNames: readonly string[];
}

/**
 * Wrong passwords for unknown user names, from a few forwarded addresses, at a fixed overall rate,
 * until stopped (autocannon, pipelining 1). Each request takes the next address and the next name.
 */
export const startFlood = (options: FloodOptions): Flood => {
  let counts = emptyCounts();
  let index = 0;
  const requests: autocannon.Request[] = [
    {
      method: 'POST',
      path: '/auth/token',
      headers: { 'content-type': 'application/json', authorization: options.basicAuth },
      setupRequest: (request) => {
        const i = index++;
        return {
          ...request,
          headers: { ...request.headers, 'x-forwarded-for': options.ips[i % options.ips.length] ?? '' },
          body: JSON.stringify({ grant_type: 'password', user_name: options.userNames[i % options.userNames.length], password: `wrong guess ${i}` }),
        };
      },
      onResponse: (status, body) => {
        counts[floodOutcomeOf(status, body)] += 1;
      },
    },
  ];
  let instance!: autocannon.Instance;
  const finished = new Promise<void>((resolve, reject) => {
    instance = autocannon(
      // Stopped by `stop()`; the duration is only a bound.
      { url: options.url, connections: options.connections, overallRate: options.overallRate, duration: 600, pipelining: 1, timeout: 10, requests },
      (error) => (error ? reject(error instanceof Error ? error : new Error(String(error))) : resolve()),
    );
  });
  instance.on('reqError', () => {
    counts.other += 1;
  });
  return {
    nextPhase: () => {
      const previous = counts;
      counts = emptyCounts();
      return previous;
    },
    stop: async () => {
      instance.stop();
      await finished;
      return counts;
    },
  };
};

/** Samples a process's RSS until stopped, which returns the largest sample in MiB (NaN without /proc). */
export const sampleRss = (pid: number, intervalMs = 200): { stop(): number } => {
  let peak = memoryOf(pid).rssMiB ?? Number.NaN;
  const timer = setInterval(() => {
    const { rssMiB } = memoryOf(pid);
    if (rssMiB !== null) peak = Number.isNaN(peak) ? rssMiB : Math.max(peak, rssMiB);
  }, intervalMs);
  return {
    stop: () => {
      clearInterval(timer);
      return peak;
    },
  };
};
