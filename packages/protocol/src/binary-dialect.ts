/** The binary dialect: requests and replies as frames. Both directions, for servers and clients. */
import { isUtf8 } from 'node:buffer';
import { isErrorCode, ProtocolError } from './errors.js';
import { encodeFrame, type Frame, FrameType } from './frame.js';
import { MAX_WORK_ITERATIONS, type Request, type ServerMessage } from './messages.js';

const utf8 = (body: Buffer, what: string): string | ProtocolError =>
  isUtf8(body) ? body.toString('utf8') : new ProtocolError('BAD_FRAME', `${what} is not valid UTF-8`);

/** Server side: a client's frame as a request, or the error to answer it with. */
export function decodeBinaryRequest(frame: Frame): Request | ProtocolError {
  const { body } = frame;
  switch (frame.type) {
    case FrameType.ECHO:
      return { command: 'ECHO', data: body };
    case FrameType.PING:
      return { command: 'PING', token: body };
    case FrameType.NICK: {
      const nick = utf8(body, 'nick');
      return typeof nick === 'string' ? { command: 'NICK', nick } : nick;
    }
    case FrameType.JOIN: {
      const room = utf8(body, 'room');
      return typeof room === 'string' ? { command: 'JOIN', room } : room;
    }
    case FrameType.LEAVE:
      return { command: 'LEAVE' };
    case FrameType.SAY: {
      const text = utf8(body, 'text');
      return typeof text === 'string' ? { command: 'SAY', text } : text;
    }
    case FrameType.WHO:
      return { command: 'WHO' };
    case FrameType.WORK: {
      if (body.length < 4) return new ProtocolError('BAD_ARGUMENT', 'WORK needs a u32 iteration count');
      const iterations = body.readUInt32BE(0);
      if (iterations < 1 || iterations > MAX_WORK_ITERATIONS) {
        return new ProtocolError('BAD_ARGUMENT', `WORK iterations must be 1..${MAX_WORK_ITERATIONS}, got ${iterations}`);
      }
      return { command: 'WORK', iterations, data: body.subarray(4) };
    }
    case FrameType.INFO:
      return { command: 'INFO' };
    case FrameType.QUIT:
      return { command: 'QUIT' };
    case FrameType.LIST:
      return { command: 'LIST' };
    case FrameType.GET: {
      const name = utf8(body, 'file name');
      return typeof name === 'string' ? { command: 'GET', name } : name;
    }
    case FrameType.PUT:
      return decodeBinaryPut(body);
    default:
      return new ProtocolError('UNKNOWN_COMMAND', `type 0x${frame.type.toString(16).padStart(2, '0')}`);
  }
}

/** `u32 BE name length | name | the file's bytes`: the whole file in one frame. */
function decodeBinaryPut(body: Buffer): Request | ProtocolError {
  if (body.length < 4) return new ProtocolError('BAD_ARGUMENT', 'PUT needs a u32 name length');
  const nameLength = body.readUInt32BE(0);
  if (nameLength > body.length - 4) return new ProtocolError('BAD_ARGUMENT', `PUT name length ${nameLength} runs past the frame`);
  const name = utf8(body.subarray(4, 4 + nameLength), 'file name');
  if (typeof name !== 'string') return name;
  const data = body.subarray(4 + nameLength);
  return { command: 'PUT', name, size: data.length, data };
}

const text = (value: string): Buffer => Buffer.from(value, 'utf8');

/** Server side: one reply or push as a frame. */
export function encodeBinaryMessage(message: ServerMessage): Buffer {
  switch (message.kind) {
    case 'ECHO':
      return encodeFrame(FrameType.ECHO_REPLY, message.data);
    case 'PONG':
      return encodeFrame(FrameType.PONG, message.token);
    case 'NICK':
      return encodeFrame(FrameType.NICK_OK, text(message.nick));
    case 'JOIN':
      return encodeFrame(FrameType.JOIN_OK, text(message.room));
    case 'LEAVE':
      return encodeFrame(FrameType.LEAVE_OK, text(message.room));
    case 'WHO':
      return encodeFrame(FrameType.WHO_REPLY, text([message.room, ...message.nicks].join(' ')));
    case 'WORK':
      return encodeFrame(FrameType.WORK_RESULT, message.digest);
    case 'INFO':
      return encodeFrame(FrameType.INFO_REPLY, text(message.json));
    case 'BYE':
      return encodeFrame(FrameType.BYE);
    case 'ERR':
      return encodeFrame(FrameType.ERR, text(message.error.toString()));
    case 'MSG':
      return encodeFrame(FrameType.MSG, text(`${message.room} ${message.nick} ${message.text}`));
    case 'JOINED':
      return encodeFrame(FrameType.JOINED, text(`${message.room} ${message.nick}`));
    case 'LEFT':
      return encodeFrame(FrameType.LEFT, text(`${message.room} ${message.nick}`));
  }
}

/** Client side: one request as a frame. */
export function encodeBinaryRequest(request: Request): Buffer {
  switch (request.command) {
    case 'ECHO':
      return encodeFrame(FrameType.ECHO, request.data);
    case 'PING':
      return encodeFrame(FrameType.PING, request.token);
    case 'NICK':
      return encodeFrame(FrameType.NICK, text(request.nick));
    case 'JOIN':
      return encodeFrame(FrameType.JOIN, text(request.room));
    case 'LEAVE':
      return encodeFrame(FrameType.LEAVE);
    case 'SAY':
      return encodeFrame(FrameType.SAY, text(request.text));
    case 'WHO':
      return encodeFrame(FrameType.WHO);
    case 'WORK': {
      const body = Buffer.allocUnsafe(4 + request.data.length);
      body.writeUInt32BE(request.iterations, 0);
      body.set(request.data, 4);
      return encodeFrame(FrameType.WORK, body);
    }
    case 'INFO':
      return encodeFrame(FrameType.INFO);
    case 'QUIT':
      return encodeFrame(FrameType.QUIT);
    case 'LIST':
      return encodeFrame(FrameType.LIST);
    case 'GET':
      return encodeFrame(FrameType.GET, text(request.name));
    case 'PUT': {
      const name = text(request.name);
      const data = request.data ?? new Uint8Array(0);
      const body = Buffer.allocUnsafe(4 + name.length + data.length);
      body.writeUInt32BE(name.length, 0);
      body.set(name, 4);
      body.set(data, 4 + name.length);
      return encodeFrame(FrameType.PUT, body);
    }
  }
}

/** Splits `first rest…` at the first space: `[first, rest]`, rest `''` when absent. */
export function splitFirst(value: string): [string, string] {
  const space = value.indexOf(' ');
  return space === -1 ? [value, ''] : [value.slice(0, space), value.slice(space + 1)];
}

/** Parses an ERR body (`CODE message`) back into the error it carries. */
export function parseErrorBody(body: string): ProtocolError {
  const [code, message] = splitFirst(body);
  if (!isErrorCode(code)) throw new ProtocolError('BAD_FRAME', `unknown error code in ERR: ${code}`);
  return new ProtocolError(code, message);
}

/** Client side: a server's frame as a reply or push. Throws `ProtocolError` on a malformed one. */
export function decodeBinaryMessage(frame: Frame): ServerMessage {
  const body = frame.body;
  const str = (): string => body.toString('utf8');
  switch (frame.type) {
    case FrameType.ECHO_REPLY:
      return { kind: 'ECHO', data: Buffer.from(body) };
    case FrameType.PONG:
      return { kind: 'PONG', token: Buffer.from(body) };
    case FrameType.NICK_OK:
      return { kind: 'NICK', nick: str() };
    case FrameType.JOIN_OK:
      return { kind: 'JOIN', room: str() };
    case FrameType.LEAVE_OK:
      return { kind: 'LEAVE', room: str() };
    case FrameType.WHO_REPLY: {
      const [room = '', ...nicks] = str().split(' ');
      return { kind: 'WHO', room, nicks };
    }
    case FrameType.WORK_RESULT:
      return { kind: 'WORK', digest: Buffer.from(body) };
    case FrameType.INFO_REPLY:
      return { kind: 'INFO', json: str() };
    case FrameType.BYE:
      return { kind: 'BYE' };
    case FrameType.ERR:
      return { kind: 'ERR', error: parseErrorBody(str()) };
    case FrameType.MSG: {
      const [room, rest] = splitFirst(str());
      const [nick, text] = splitFirst(rest);
      return { kind: 'MSG', room, nick, text };
    }
    case FrameType.JOINED:
    case FrameType.LEFT: {
      const [room, nick] = splitFirst(str());
      return { kind: frame.type === FrameType.JOINED ? 'JOINED' : 'LEFT', room, nick };
    }
    default:
      throw new ProtocolError('BAD_FRAME', `unknown server frame type 0x${frame.type.toString(16)}`);
  }
}
