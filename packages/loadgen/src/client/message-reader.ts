/** Turns the bytes a server sends into typed messages, for either dialect, so the client is dialect-blind. */
import { decodeBinaryMessage, FrameDecoder, LineDecoder, ProtocolError, parseTextMessage, type ServerMessage } from '@echoplex/protocol';

export type ClientDialect = 'binary' | 'text';

export interface MessageReader {
  push(chunk: Uint8Array): void;
  /** The next message, `undefined` when more bytes are needed; throws `ProtocolError` on garbage. */
  next(): ServerMessage | undefined;
}

class BinaryReader implements MessageReader {
  private readonly decoder: FrameDecoder;
  constructor(maxFrame: number) {
    this.decoder = new FrameDecoder(maxFrame);
  }
  push(chunk: Uint8Array): void {
    this.decoder.push(chunk);
  }
  next(): ServerMessage | undefined {
    const frame = this.decoder.next();
    if (frame === undefined) return undefined;
    if (frame instanceof ProtocolError) throw frame;
    return decodeBinaryMessage(frame);
  }
}

class TextReader implements MessageReader {
  private readonly decoder: LineDecoder;
  constructor(maxLine: number) {
    this.decoder = new LineDecoder(maxLine);
  }
  push(chunk: Uint8Array): void {
    this.decoder.push(chunk);
  }
  next(): ServerMessage | undefined {
    // Empty lines carry nothing; the count bound keeps a flood of them from spinning forever.
    for (let skipped = 0; skipped < 1_000_000; skipped++) {
      const line = this.decoder.next();
      if (line === undefined) return undefined;
      if (line instanceof ProtocolError) throw line;
      if (line.length > 0) return parseTextMessage(line.toString('utf8'));
    }
    return undefined;
  }
}

export function createMessageReader(dialect: ClientDialect, maxMessage: number): MessageReader {
  return dialect === 'binary' ? new BinaryReader(maxMessage) : new TextReader(maxMessage);
}
