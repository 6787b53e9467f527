/** SocketSessions over real sockets: what one loop turn queues for a connection (pushes, then a reply) leaves in one write, in order. */
import { once } from 'node:events';
import net, { type Server, type Socket } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { LocalHub, ServerStats, type ServerView } from '../src/index.js';
import { SocketSessions } from '../src/node.js';

const view: ServerView = {
  info: (done) => done({ model: 'test', pid: 1, threads: 1, processes: 1, connections: 0, uptimeSeconds: 0, protocol: 1 }),
  metrics: (done) => done('# metrics\n'),
};

/** A text client that collects lines. */
class LineClient {
  private text = '';
  private readonly waiters: (() => void)[] = [];

  constructor(readonly socket: Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => {
      this.text += chunk;
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /** Resolves with the first `count` lines received, and forgets them. */
  async lines(count: number): Promise<string[]> {
    const deadline = Date.now() + 5000;
    while (this.text.split('\n').length - 1 < count) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${count} lines, have ${JSON.stringify(this.text)}`);
      await new Promise<void>((wake) => {
        this.waiters.push(wake);
        setTimeout(wake, 100);
      });
    }
    const all = this.text.split('\n');
    this.text = all.slice(count).join('\n');
    return all.slice(0, count);
  }
}

let server: Server | undefined;
const clients: Socket[] = [];
afterEach(async () => {
  for (const client of clients.splice(0)) client.destroy();
  if (server !== undefined) {
    server.close();
    await once(server, 'close');
    server = undefined;
  }
});

/** A listening SocketSessions, and the server side of every socket it serves, in accept order. */
async function listen(): Promise<{ hub: LocalHub; accepted: Socket[]; connect: () => Promise<LineClient> }> {
  const hub = new LocalHub();
  const limits = { maxFrame: 1 << 16, maxLine: 1024, idleTimeoutMs: 0, maxOutbound: 1 << 20 };
  const sessions = new SocketSessions({ limits, hub, server: view, stats: new ServerStats(), servedBy: 'test' });
  const accepted: Socket[] = [];
  let nextId = 1;
  const listening = net.createServer((socket) => {
    accepted.push(socket);
    sessions.serve(socket, nextId++, false);
  });
  server = listening;
  listening.listen(0, '127.0.0.1');
  await once(listening, 'listening');
  const { port } = listening.address() as net.AddressInfo;
  const connect = async (): Promise<LineClient> => {
    const socket = net.connect(port, '127.0.0.1');
    clients.push(socket);
    await once(socket, 'connect');
    return new LineClient(socket);
  };
  return { hub, accepted, connect };
}

describe('SocketSessions', () => {
  it("leaves a publisher's SAYs of one read in one write to each member, in the order sent, the same bytes for both", async () => {
    const { accepted, connect } = await listen();
    const publisher = await connect();
    publisher.socket.write('JOIN lobby\n');
    expect(await publisher.lines(1)).toEqual(['OK JOIN lobby']);
    const members = [await connect(), await connect()];
    for (const member of members) {
      member.socket.write('JOIN lobby\n');
      expect(await member.lines(1)).toEqual(['OK JOIN lobby']);
    }
    expect(await publisher.lines(2)).toEqual(['JOINED lobby guest-2', 'JOINED lobby guest-3']);
    expect(await (members[0] as LineClient).lines(1)).toEqual(['JOINED lobby guest-3']);

    const writes = accepted.slice(1).map((socket) => vi.spyOn(socket, 'write'));
    publisher.socket.write('SAY one\nSAY two\nSAY three\n');
    for (const member of members) {
      expect(await member.lines(3)).toEqual(['MSG lobby guest-1 one', 'MSG lobby guest-1 two', 'MSG lobby guest-1 three']);
    }
    const [first, second] = writes.map((write) => {
      expect(write).toHaveBeenCalledTimes(1);
      return write.mock.calls[0]?.[0];
    });
    // Joined once for the room: the second member is written the very buffer the first was.
    expect(second).toBe(first);
  });

  it('sends a reply made in the same turn as pushes after them, in the same write', async () => {
    const { hub, accepted, connect } = await listen();
    const member = await connect();
    member.socket.write('JOIN lobby\n');
    expect(await member.lines(1)).toEqual(['OK JOIN lobby']);

    const memberSide = accepted[0] as Socket;
    const write = vi.spyOn(memberSide, 'write');
    // In one turn: two pushes (as an HTTP post would make), then the member's own request is read.
    hub.post('lobby', 'http', 'first');
    hub.post('lobby', 'http', 'second');
    memberSide.emit('data', Buffer.from('PING after\n'));
    expect(write).not.toHaveBeenCalled();
    expect(await member.lines(3)).toEqual(['MSG lobby http first', 'MSG lobby http second', 'PONG after']);
    expect(write).toHaveBeenCalledTimes(1);

    // Nothing waiting: a reply goes at once.
    memberSide.emit('data', Buffer.from('PING alone\n'));
    expect(write).toHaveBeenCalledTimes(2);
    expect(await member.lines(1)).toEqual(['PONG alone']);
  });
});
