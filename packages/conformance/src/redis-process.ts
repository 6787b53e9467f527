/**
 * A real redis-server for tests of the hub across servers: started on a free port with no
 * persistence, so a restart comes back empty, and stopped (or killed) by the test that owns it.
 * A machine without redis-server fails the test with what to install; nothing is mocked.
 */
import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';

const REDIS_SERVER = '/usr/bin/redis-server';

/** A port nobody listens on now (the kernel's pick, released at once). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

/** The major version of the installed redis-server (7 for sharded pub/sub). */
export function redisServerVersion(): string {
  return execFileSync(REDIS_SERVER, ['--version'], { encoding: 'utf8' }).match(/v=(\S+)/)?.[1] ?? 'unknown';
}

/** Whether something answers PING on this port. */
function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.createConnection({ host: '127.0.0.1', port });
    const done = (answered: boolean) => {
      socket.destroy();
      resolve(answered);
    };
    socket.setTimeout(500, () => done(false));
    socket.once('error', () => done(false));
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.once('data', (chunk) => done(chunk.toString().startsWith('+PONG')));
  });
}

/** Every redis-server this process started and that still runs: none outlives the test process. */
const liveRedis = new Set<ChildProcess>();
process.on('exit', () => {
  for (const child of liveRedis) child.kill('SIGKILL');
});

export class RedisProcess {
  private child: ChildProcess | undefined;

  private constructor(readonly port: number) {}

  /** `redis://127.0.0.1:PORT`. */
  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Starts redis-server on a free port and waits until it answers PING (5 s). */
  static async start(): Promise<RedisProcess> {
    if (!existsSync(REDIS_SERVER)) {
      throw new Error(`${REDIS_SERVER} is missing: the hub tests need a real Redis 7 (apt-get install redis-server)`);
    }
    const redis = new RedisProcess(await freePort());
    await redis.restart();
    return redis;
  }

  /** (Re)starts it on the same port, empty. */
  async restart(): Promise<void> {
    const child = spawn(
      REDIS_SERVER,
      ['--port', String(this.port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--protected-mode', 'no'],
      { stdio: 'ignore' },
    );
    this.child = child;
    liveRedis.add(child);
    child.once('exit', () => liveRedis.delete(child));
    const deadline = Date.now() + 5000;
    while (!(await answersPing(this.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited with ${child.exitCode} on port ${this.port}`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${this.port} within 5 s`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
  }

  /** Sends one command (inline, so its arguments hold no spaces) and resolves with Redis's reply line. */
  command(...words: readonly string[]): Promise<string> {
    return new Promise((resolve, reject) => {
      const socket = net.createConnection({ host: '127.0.0.1', port: this.port });
      socket.setTimeout(2000, () => socket.destroy(new Error(`redis-server on ${this.port} did not answer ${words[0]}`)));
      socket.once('error', reject);
      socket.once('connect', () => socket.write(`${words.join(' ')}\r\n`));
      socket.once('data', (chunk) => {
        socket.destroy();
        resolve(chunk.toString('latin1').trimEnd());
      });
    });
  }

  /** SIGKILL (Redis "dies"), and waits for the exit. */
  async kill(): Promise<void> {
    const child = this.child;
    this.child = undefined;
    if (child === undefined || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** For afterAll. */
  async stop(): Promise<void> {
    await this.kill();
  }
}
