/**
 * The Hub across threads and processes: `RemoteHub` turns hub calls into messages,
 * `HubRelay` applies them to the one authority (a `LocalHub`, or a `RedisHub` across servers) and routes pushes back.
 * Each model supplies only the channel (a MessagePort, IPC, a blocking call); the
 * messages are plain data, so they survive structured clone and JSON alike.
 */
import { type ErrorCode, ProtocolError, type Push } from '@echoplex/protocol';
import { type Hub, type HubMember, type HubResult, type RoomMembers, SharedPush } from './hub.js';

/** A hub call from a client (a worker, a child) to the authority. `call` numbers the reply. */
export type HubCall =
  | { readonly op: 'attach'; readonly id: number }
  | { readonly op: 'detach'; readonly id: number }
  | { readonly op: 'nick'; readonly id: number; readonly nick: string; readonly call: number }
  | { readonly op: 'join'; readonly id: number; readonly room: string; readonly call: number }
  | { readonly op: 'leave'; readonly id: number; readonly call: number }
  | { readonly op: 'say'; readonly id: number; readonly text: string }
  | { readonly op: 'who'; readonly id: number; readonly call: number }
  | { readonly op: 'members'; readonly room: string; readonly call: number }
  | { readonly op: 'post'; readonly room: string; readonly nick: string; readonly text: string };

/** A result as plain data: errors travel as their code and message. */
export type WireResult<T> =
  | { readonly ok: true; readonly value: T }
  | { readonly ok: false; readonly code: ErrorCode; readonly message: string };

/** What the authority sends back: a call's result, one push for several members of that client, or whether chat may go now. */
export type HubEvent =
  | { readonly op: 'result'; readonly call: number; readonly result: WireResult<string | RoomMembers> }
  | { readonly op: 'push'; readonly to: readonly number[]; readonly push: Push }
  /** Several pushes for that client's members, in order: a turn's broadcasts cross once per client. */
  | { readonly op: 'pushes'; readonly pushes: readonly { readonly to: readonly number[]; readonly push: Push }[] }
  | { readonly op: 'availability'; readonly unavailable: { readonly code: ErrorCode; readonly message: string } | null };

const toWire = <T>(result: HubResult<T>): WireResult<T> =>
  result.ok ? result : { ok: false, code: result.error.code, message: result.error.message };

const fromWire = <T>(result: WireResult<T>): HubResult<T> =>
  result.ok ? result : { ok: false, error: new ProtocolError(result.code, result.message) };

/**
 * A worker or child sends the hub calls of one turn in one message, but no more than this
 * many bytes of them: the pushes they become reach another worker or child as one event,
 * whose whole output waits for one write, and over --max-outbound (1 MiB by default) that
 * would cut, as SLOW_CONSUMER, a member that reads everything as fast as it comes.
 */
export const HUB_BATCH_BYTES = 64 * 1024;

/** What a call weighs against HUB_BATCH_BYTES: its text, or a few bytes. */
export const hubCallBytes = (call: HubCall): number => (call.op === 'say' || call.op === 'post' ? call.text.length : 0) + 32;

const pushBytes = (push: Push): number => push.room.length + push.nick.length + (push.kind === 'MSG' ? push.text.length : 0) + 16;

/** At most what one member gets from an event's pushes: a model's relay sends a worker or child the events of one turn in one message, up to HUB_BATCH_BYTES of this. */
export function hubEventMemberBytes(event: HubEvent): number {
  if (event.op === 'push') return pushBytes(event.push);
  if (event.op === 'pushes') return event.pushes.reduce((sum, { push }) => sum + pushBytes(push), 0);
  return 0;
}

/** About the output an event's pushes become (bytes times members), so a relay can bound the pushes in flight to a worker; 0 for results and availability. */
export function hubEventBytes(event: HubEvent): number {
  if (event.op === 'push') return pushBytes(event.push) * event.to.length;
  if (event.op === 'pushes') return event.pushes.reduce((sum, { to, push }) => sum + pushBytes(push) * to.length, 0);
  return 0;
}

/**
 * Push bytes (hubEventBytes) sent to one worker or thread and not yet taken, over which its pool
 * stops reading every socket, and reads again once each is under half. A room's pushes come as
 * fast as its members anywhere send; a worker slower than that would queue them without bound.
 */
export const PUSH_WINDOW = 1024 * 1024;

/** Whether a pool's reading is held, from whether it was and the most push bytes one worker has in flight: over PUSH_WINDOW holds, under half releases. */
export function pushWindowHolds(held: boolean, mostInFlight: number): boolean {
  return held ? mostInFlight >= PUSH_WINDOW / 2 : mostInFlight > PUSH_WINDOW;
}

/** The client side: a Hub whose authority is at the other end of `send`. Feed it every `HubEvent` through `receive`. */
export class RemoteHub implements Hub {
  private nextCall = 1;
  private readonly calls = new Map<number, (result: WireResult<string | RoomMembers>) => void>();
  private readonly connections = new Map<number, HubMember>();
  private down: ProtocolError | undefined;

  constructor(private readonly send: (call: HubCall) => void) {}

  attach(member: HubMember): void {
    this.connections.set(member.id, member);
    this.send({ op: 'attach', id: member.id });
  }

  detach(id: number): void {
    if (this.connections.delete(id)) this.send({ op: 'detach', id });
  }

  setNick(id: number, nick: string, done: (result: HubResult<string>) => void): void {
    const call = this.expect((result) => done(fromWire(result as WireResult<string>)));
    this.send({ op: 'nick', id, nick, call });
  }

  join(id: number, room: string, done: (result: HubResult<string>) => void): void {
    const call = this.expect((result) => done(fromWire(result as WireResult<string>)));
    this.send({ op: 'join', id, room, call });
  }

  leave(id: number, done: (result: HubResult<string>) => void): void {
    const call = this.expect((result) => done(fromWire(result as WireResult<string>)));
    this.send({ op: 'leave', id, call });
  }

  say(id: number, text: string): void {
    this.send({ op: 'say', id, text });
  }

  who(id: number, done: (result: HubResult<RoomMembers>) => void): void {
    const call = this.expect((result) => done(fromWire(result as WireResult<RoomMembers>)));
    this.send({ op: 'who', id, call });
  }

  members(room: string, done: (result: HubResult<RoomMembers>) => void): void {
    const call = this.expect((result) => done(fromWire(result as WireResult<RoomMembers>)));
    this.send({ op: 'members', room, call });
  }

  post(room: string, nick: string, text: string): void {
    this.send({ op: 'post', room, nick, text });
  }

  /** As the authority last said (a RedisHub whose Redis is away), so SAY and HTTP posts are refused here. */
  unavailable(): ProtocolError | undefined {
    return this.down;
  }

  /** An event from the authority. */
  receive(event: HubEvent): void {
    if (event.op === 'result') {
      const done = this.calls.get(event.call);
      this.calls.delete(event.call);
      done?.(event.result);
      return;
    }
    if (event.op === 'availability') {
      this.down = event.unavailable === null ? undefined : new ProtocolError(event.unavailable.code, event.unavailable.message);
      return;
    }
    // One SharedPush per push that crossed: its bytes are encoded once here, for every member of this client.
    if (event.op === 'pushes') {
      for (const { to, push } of event.pushes) this.deliver(to, new SharedPush(push));
      return;
    }
    this.deliver(event.to, new SharedPush(event.push));
  }

  private deliver(to: readonly number[], push: SharedPush): void {
    for (const id of to) this.connections.get(id)?.deliver(push);
  }

  private expect(done: (result: WireResult<string | RoomMembers>) => void): number {
    const call = this.nextCall++;
    this.calls.set(call, done);
    return call;
  }
}

/** One client's channel to the authority: the members it attached, and the pushes waiting to go to it. */
export class HubChannel {
  readonly memberIds = new Set<number>();
  /** Pushes gathered while one call is applied, so a broadcast crosses once per channel, not once per member. */
  readonly outbox = new Map<SharedPush, number[]>();
  /** The availability this client was last told (the message of UNAVAILABLE, or null: chat may go). */
  toldUnavailable: string | null = null;

  constructor(readonly send: (event: HubEvent) => void) {}
}

/** The authority side: applies calls from any number of channels to one hub. */
export class HubRelay {
  private readonly dirty = new Set<HubChannel>();
  private handling = false;
  /** Applying several calls at once: a result first sends the pushes gathered before it, so order holds. */
  private batching = false;
  private flushQueued = false;
  /** Channels disconnected: an asynchronous hub may still answer or push to their members; that goes nowhere. */
  private readonly gone = new WeakSet<HubChannel>();
  private readonly channels = new Set<HubChannel>();

  constructor(private readonly hub: Hub) {}

  /** A new client (a worker started, a child forked); told at once if the hub is away, so its first SAY or post is refused too. */
  connect(send: (event: HubEvent) => void): HubChannel {
    const channel = new HubChannel(send);
    this.channels.add(channel);
    this.tellAvailability(channel);
    return channel;
  }

  /** The hub became (un)available (a RedisHub's Redis went away or came back): every client is told. */
  availabilityChanged(): void {
    for (const channel of this.channels) this.tellAvailability(channel);
  }

  /** Applies one call from a channel; results and pushes are sent before it returns. */
  handle(channel: HubChannel, call: HubCall): void {
    this.tellAvailability(channel);
    this.handling = true;
    try {
      this.apply(channel, call);
    } finally {
      this.handling = false;
    }
    this.flush();
  }

  /** Applies the calls a client sent in one turn, in order; their pushes cross together, one event per client. */
  handleAll(channel: HubChannel, calls: readonly HubCall[]): void {
    this.tellAvailability(channel);
    this.handling = true;
    this.batching = true;
    try {
      for (const call of calls) this.apply(channel, call);
    } finally {
      this.handling = false;
      this.batching = false;
    }
    this.flush();
  }

  private apply(channel: HubChannel, call: HubCall): void {
    const reply = (callId: number) => (result: HubResult<string | RoomMembers>) => {
      if (this.batching) this.flush();
      if (!this.gone.has(channel)) channel.send({ op: 'result', call: callId, result: toWire(result) });
    };
    switch (call.op) {
      case 'attach':
        if (channel.memberIds.has(call.id)) break;
        channel.memberIds.add(call.id);
        this.hub.attach({ id: call.id, deliver: (push) => this.enqueue(channel, call.id, push) });
        break;
      case 'detach':
        if (channel.memberIds.delete(call.id)) this.hub.detach(call.id);
        break;
      case 'nick':
        if (this.known(channel, call.id, call.call)) this.hub.setNick(call.id, call.nick, reply(call.call));
        break;
      case 'join':
        if (this.known(channel, call.id, call.call)) this.hub.join(call.id, call.room, reply(call.call));
        break;
      case 'leave':
        if (this.known(channel, call.id, call.call)) this.hub.leave(call.id, reply(call.call));
        break;
      case 'say':
        if (channel.memberIds.has(call.id)) this.hub.say(call.id, call.text);
        break;
      case 'who':
        if (this.known(channel, call.id, call.call)) this.hub.who(call.id, reply(call.call));
        break;
      case 'members':
        this.hub.members(call.room, reply(call.call));
        break;
      case 'post':
        this.hub.post(call.room, call.nick, call.text);
        break;
    }
  }

  /** The channel is gone (its worker or child died): its members leave their rooms and free their nicks. */
  disconnect(channel: HubChannel): void {
    this.gone.add(channel);
    this.channels.delete(channel);
    for (const id of channel.memberIds) this.hub.detach(id);
    channel.memberIds.clear();
    channel.outbox.clear();
    this.dirty.delete(channel);
    this.flush();
  }

  private tellAvailability(channel: HubChannel): void {
    const error = this.hub.unavailable();
    const message = error === undefined ? null : error.message;
    if (message === channel.toldUnavailable) return;
    channel.toldUnavailable = message;
    channel.send({ op: 'availability', unavailable: error === undefined ? null : { code: error.code, message: error.message } });
  }

  private known(channel: HubChannel, id: number, callId: number): boolean {
    if (channel.memberIds.has(id)) return true;
    if (this.batching) this.flush();
    channel.send({ op: 'result', call: callId, result: { ok: false, code: 'BAD_ARGUMENT', message: `connection ${id} is not attached` } });
    return false;
  }

  private enqueue(channel: HubChannel, id: number, push: SharedPush): void {
    if (!channel.memberIds.has(id)) return;
    const to = channel.outbox.get(push);
    if (to === undefined) channel.outbox.set(push, [id]);
    else to.push(id);
    this.dirty.add(channel);
    // A hub across servers also pushes between calls (messages from other servers): those cross once per turn.
    if (!this.handling && !this.flushQueued) {
      this.flushQueued = true;
      queueMicrotask(() => {
        this.flushQueued = false;
        this.flush();
      });
    }
  }

  private flush(): void {
    for (const channel of this.dirty) {
      if (channel.outbox.size === 1) for (const [shared, to] of channel.outbox) channel.send({ op: 'push', to, push: shared.push });
      else if (channel.outbox.size > 1) {
        channel.send({ op: 'pushes', pushes: Array.from(channel.outbox, ([shared, to]) => ({ to, push: shared.push })) });
      }
      channel.outbox.clear();
    }
    this.dirty.clear();
  }
}
