/**
 * With `ECHOPLEX_TEST_HUB=1`, one redis-server for the whole run, started here in vitest's own
 * process and stopped when the run ends, however its test workers ended; the workers get its URL.
 */
import { RedisProcess } from '../src/redis-process.js';
import { TEST_HUB_ENV } from '../src/server-process.js';

export default async function setup(): Promise<(() => Promise<void>) | undefined> {
  if (process.env[TEST_HUB_ENV] !== '1') return undefined;
  const redis = await RedisProcess.start();
  process.env[TEST_HUB_ENV] = redis.url;
  return () => redis.stop();
}
