/**
 * A connection's coroutine: it serves one connection the textbook way (a loop of
 * recv -> Session -> sendall), as blocking's handler thread does, with `await` where that
 * one blocks. While it awaits, the loop runs every other connection's coroutine.
 */
import { HandlerConnection, SocketError, SocketTimeout } from '@echoplex/core';
import type { CoroutineSocket } from './coroutine-socket.js';
import type { Coroutines } from './coroutines.js';

/** What one recv asks for: a whole queue's worth, so a backlog drains in one call. */
const RECV_BYTES = 64 * 1024;

/** One connection, start to finish. */
export async function handle(socket: CoroutineSocket, id: number, busy: boolean, coroutines: Coroutines): Promise<void> {
  const connection = new HandlerConnection(socket, { ...coroutines.sessionOptions, id, busy });
  const { session } = connection;
  coroutines.started(session, busy);
  try {
    while (!session.isClosed) {
      // An upload waiting for the disk: not reading lets the socket's queue fill and pause it.
      await connection.readable();
      socket.settimeout(connection.timeout());
      let bytes: Buffer;
      try {
        bytes = await socket.recv(RECV_BYTES);
      } catch (error) {
        if (!(error instanceof SocketTimeout)) throw error;
        session.timeout();
        continue;
      }
      if (bytes.length === 0) {
        session.end();
        await connection.closed();
        break;
      }
      await socket.sendall(connection.receive(bytes));
    }
  } catch (error) {
    if (!(error instanceof SocketError)) throw error;
    session.abort();
  } finally {
    if (!session.isClosed) session.abort();
    socket.close();
    coroutines.finished(session);
  }
}
