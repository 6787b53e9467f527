/**
 * The Hub across servers (`--hub redis://HOST:PORT[/DB]`): every server naming one Redis
 * shares its rooms and nicks, as socket.io's Redis adapter does. A room is a sharded pub/sub
 * channel; a message carries its server's node id, so a server delivers its own members'
 * messages locally (in order, at once) and skips them when Redis echoes them back. Nicks and
 * room memberships are leases this server renews, so a dead server's members expire; when
 * Redis comes back (even empty) the server announces them again. While Redis is away, chat
 * gets UNAVAILABLE and nothing else stops.
 */
import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import { guestNick, ProtocolError, type Push } from '@echoplex/protocol';
import { Redis } from 'ioredis';
import { type Hub, type HubMember, type HubResult, type RoomMembers, SharedPush } from './hub.js';
import { ListenError } from './listener.js';
import type { Logger } from './logger.js';
import type { HubCounters } from './metrics.js';
import { type AnnouncedMember, RedisHubStore } from './redis-hub-store.js';

export interface RedisHubOptions {
  /** `redis://[user:password@]HOST:PORT[/DB]`. */
  readonly url: string;
  readonly logger?: Logger;
  /** How long a nick or a membership outlives a server that stopped renewing it (default 10 s; the contract allows 15). */
  readonly leaseMs?: number;
  /** How long `open` waits for Redis before giving up (default 10 s). */
  readonly startTimeoutMs?: number;
}

/** Redis could not be reached at start: the flags were fine, the machine said no (exit 1). */
export class HubUnreachableError extends ListenError {}

interface Member {
  readonly connection: HubMember;
  nick: string;
  /** The nick is claimed in Redis (a guest's is unique by its id and needs no claim). */
  claimed: boolean;
  room: string | undefined;
  /** A nick or room change is on its way to Redis: renewals skip the member until it lands. */
  changing: boolean;
  /** Calls queued behind one still waiting for Redis, so each member's calls apply in order. */
  readonly waiting: (() => Promise<void> | undefined)[];
  busy: boolean;
}

/** Connection ids of one server: the Nth server to use a Redis numbers its connections from (N - 1) * this, so guest nicks never collide. */
export const CONNECTION_IDS_PER_SERVER = 1_000_000_000;
/** A call to Redis that takes longer fails as UNAVAILABLE. */
const COMMAND_TIMEOUT_MS = 2000;
const DEFAULT_LEASE_MS = 10_000;

const ok = <T>(value: T): HubResult<T> => ({ ok: true, value });
const failed = (error: ProtocolError): HubResult<never> => ({ ok: false, error });
const notInRoom = (): HubResult<never> => failed(new ProtocolError('NOT_IN_ROOM', 'join a room first'));

/** `redis://HOST:PORT/DB` without credentials: what INFO and logs may show. */
export function publicHubName(url: string): string {
  const parsed = new URL(url);
  parsed.username = '';
  parsed.password = '';
  return parsed.toString().replace(/\/$/, '');
}

export class RedisHub implements Hub {
  /** This server among all those on the Redis: host, pid and a random tag. */
  readonly node = `${hostname().replace(/\s/g, '')}/${process.pid}/${randomBytes(3).toString('hex')}`;
  private readonly nodePrefix = `${this.node} `;
  /** The URL without credentials. */
  readonly name: string;
  private readonly commands: Redis;
  private readonly subscriber: Redis;
  private readonly store: RedisHubStore;
  private readonly leaseMs: number;
  private readonly logger: Logger | undefined;
  private readonly byId = new Map<number, Member>();
  private readonly localNicks = new Map<string, Member>();
  private readonly localRooms = new Map<string, Set<Member>>();
  private readonly subscriptions = new Map<string, { refs: number; ready: Promise<unknown> }>();
  /** Members gone while Redis could not hear it: released once it can. */
  private readonly pendingReleases: AnnouncedMember[] = [];
  private serverNumber = 0;
  private ready = false;
  private announcing = false;
  private closed = false;
  private lastError: Error | undefined;
  private roundTrips = 0;
  private failures = 0;
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly availabilityListeners: (() => void)[] = [];
  private becameReady: () => void = () => undefined;
  private readonly firstReady = new Promise<void>((resolve) => {
    this.becameReady = resolve;
  });

  /** Connects and waits until Redis answers (up to `startTimeoutMs`), or throws `HubUnreachableError` naming the URL. */
  static async open(options: RedisHubOptions): Promise<RedisHub> {
    const hub = new RedisHub(options);
    const timeoutMs = options.startTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), timeoutMs);
    });
    const started = await Promise.race([hub.firstReady.then(() => true), timedOut]);
    clearTimeout(timer);
    if (!started) {
      await hub.close();
      const why = hub.lastError === undefined ? '' : ` (${hub.lastError.message})`;
      throw new HubUnreachableError(`cannot reach the hub at ${hub.name} within ${timeoutMs / 1000} s${why}`);
    }
    return hub;
  }

  private constructor(options: RedisHubOptions) {
    const url = new URL(options.url);
    if (url.protocol !== 'redis:') throw new Error(`the hub must be a redis:// URL, got '${options.url}'`);
    this.name = publicHubName(options.url);
    this.leaseMs = options.leaseMs ?? DEFAULT_LEASE_MS;
    this.logger = options.logger;
    const database = Number(url.pathname.slice(1) || '0');
    const common = {
      commandTimeout: COMMAND_TIMEOUT_MS,
      connectTimeout: 2000,
      retryStrategy: (times: number) => Math.min(50 * times, 500),
      lazyConnect: false,
    };
    // Calls fail at once while Redis is away, and are never resent after it returns: a
    // session has already been told UNAVAILABLE.
    this.commands = new Redis(options.url, {
      ...common,
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      enableAutoPipelining: true,
    });
    // Subscriptions wait for a reconnection, and ioredis subscribes again to every channel.
    this.subscriber = new Redis(options.url, { ...common, maxRetriesPerRequest: null });
    this.store = new RedisHubStore(this.commands, database, this.leaseMs);
    for (const connection of [this.commands, this.subscriber]) {
      connection.on('error', (error: Error) => {
        this.lastError = error;
      });
      connection.on('close', () => this.lost());
      connection.on('ready', () => void this.reconnected());
    }
    this.subscriber.on('smessage', (channel: string, payload: string) => this.receive(channel, payload));
  }

  /** The first connection id this server may give: unique across every server on this Redis. */
  get firstConnectionId(): number {
    return (this.serverNumber - 1) * CONNECTION_IDS_PER_SERVER + 1;
  }

  get counters(): HubCounters {
    return { roundTrips: this.roundTrips, failures: this.failures, available: this.ready };
  }

  get roomCount(): number {
    return this.localRooms.size;
  }

  /** Called when Redis goes away or comes back: a HubRelay passes it to its workers or children (`relay.availabilityChanged`). */
  onAvailabilityChange(listener: () => void): void {
    this.availabilityListeners.push(listener);
  }

  unavailable(): ProtocolError | undefined {
    return this.ready ? undefined : new ProtocolError('UNAVAILABLE', `the hub at ${this.name} cannot be reached; try again soon`);
  }

  attach(connection: HubMember): void {
    if (this.byId.has(connection.id)) throw new Error(`connection ${connection.id} attached twice`);
    const member: Member = {
      connection,
      nick: guestNick(connection.id),
      claimed: false,
      room: undefined,
      changing: false,
      waiting: [],
      busy: false,
    };
    this.byId.set(connection.id, member);
    this.localNicks.set(member.nick, member);
  }

  detach(id: number): void {
    const member = this.byId.get(id);
    if (member === undefined) return;
    this.run(member, () => {
      this.byId.delete(id);
      if (this.localNicks.get(member.nick) === member) this.localNicks.delete(member.nick);
      const gone = this.announced(member);
      if (member.room !== undefined) this.leaveLocally(member);
      if (!gone.claimed && gone.room === undefined) return undefined;
      if (!this.ready) {
        this.pendingReleases.push(gone);
        return undefined;
      }
      return this.call(this.store.release(this.node, gone)).then((done) => {
        if (done === undefined) this.pendingReleases.push(gone);
      });
    });
  }

  setNick(id: number, nick: string, done: (result: HubResult<string>) => void): void {
    const member = this.required(id);
    this.run(member, () => {
      if (member.nick === nick) return void done(ok(nick));
      if (this.localNicks.has(nick)) return void done(failed(new ProtocolError('NICK_TAKEN', `${nick} is taken`)));
      const down = this.unavailable();
      if (down !== undefined) return void done(failed(down));
      member.changing = true;
      const old = { nick: member.nick, claimed: member.claimed };
      return this.call(this.store.claimNick(this.owner(member), nick, old, member.room)).then((claimed) => {
        member.changing = false;
        if (claimed === undefined) return done(this.unreachable());
        if (!claimed.value) return done(failed(new ProtocolError('NICK_TAKEN', `${nick} is taken`)));
        if (this.localNicks.get(member.nick) === member) this.localNicks.delete(member.nick);
        member.nick = nick;
        member.claimed = true;
        this.localNicks.set(nick, member);
        done(ok(nick));
      });
    });
  }

  join(id: number, room: string, done: (result: HubResult<string>) => void): void {
    const member = this.required(id);
    this.run(member, () => {
      if (member.room === room) return void done(ok(room));
      const down = this.unavailable();
      if (down !== undefined) return void done(failed(down));
      member.changing = true;
      return this.joinThroughRedis(member, room).then((joined) => {
        member.changing = false;
        if (!joined) return done(this.unreachable());
        if (member.room !== undefined) this.leaveLocally(member);
        const members = this.localRooms.get(room) ?? new Set<Member>();
        this.localRooms.set(room, members);
        const push = new SharedPush({ kind: 'JOINED', room, nick: member.nick });
        for (const other of members) other.connection.deliver(push);
        members.add(member);
        member.room = room;
        done(ok(room));
      });
    });
  }

  leave(id: number, done: (result: HubResult<string>) => void): void {
    const member = this.required(id);
    this.run(member, () => {
      const room = member.room;
      if (room === undefined) return void done(notInRoom());
      const down = this.unavailable();
      if (down !== undefined) return void done(failed(down));
      member.changing = true;
      const leaving = { ...this.announced(member), claimed: false };
      return this.call(this.store.release(this.node, leaving)).then((left) => {
        member.changing = false;
        if (left === undefined) return done(this.unreachable());
        this.leaveLocally(member);
        done(ok(room));
      });
    });
  }

  say(id: number, text: string): void {
    const member = this.required(id);
    this.run(member, () => {
      if (member.room !== undefined) this.send(member.room, member.nick, text, member);
      return undefined;
    });
  }

  who(id: number, done: (result: HubResult<RoomMembers>) => void): void {
    const member = this.required(id);
    this.run(member, () => {
      const room = member.room;
      if (room === undefined) return void done(notInRoom());
      return this.roomMembers(room).then(done);
    });
  }

  members(room: string, done: (result: HubResult<RoomMembers>) => void): void {
    void this.roomMembers(room).then(done);
  }

  post(room: string, nick: string, text: string): void {
    this.send(room, nick, text, undefined);
  }

  /** Leaves Redis cleanly: members' releases finish (up to 1 s), then both connections quit. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    const deadline = Date.now() + 1000;
    while ([...this.byId.values()].some((member) => member.busy) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    this.ready = false;
    await Promise.all([this.commands.quit().catch(() => undefined), this.subscriber.quit().catch(() => undefined)]);
    this.commands.disconnect();
    this.subscriber.disconnect();
  }

  /** MSG to the room's members here (at once) and on every other server (through Redis). */
  private send(room: string, nick: string, text: string, sender: Member | undefined): void {
    const members = this.localRooms.get(room);
    if (members !== undefined) {
      const push = new SharedPush({ kind: 'MSG', room, nick, text });
      for (const member of members) if (member !== sender) member.connection.deliver(push);
    }
    if (this.ready) this.store.publish(room, `${this.nodePrefix}M ${nick} ${text}`).then(this.answered, this.failed);
  }

  private async roomMembers(room: string): Promise<HubResult<RoomMembers>> {
    const down = this.unavailable();
    if (down !== undefined) return failed(down);
    const nicks = await this.call(this.store.who(room));
    return nicks === undefined ? this.unreachable() : ok({ room, nicks: nicks.value });
  }

  /** Subscribes to the room's channel (so nothing sent after the JOIN is missed), then moves the member in Redis. */
  private async joinThroughRedis(member: Member, room: string): Promise<boolean> {
    const subscribed = await this.call(this.subscribe(room));
    const joined = subscribed !== undefined && (await this.call(this.store.join(this.node, member.nick, member.room, room))) !== undefined;
    if (!joined) this.unsubscribe(room);
    return joined;
  }

  private leaveLocally(member: Member): void {
    const room = member.room;
    if (room === undefined) return;
    member.room = undefined;
    const members = this.localRooms.get(room);
    if (members !== undefined) {
      members.delete(member);
      const push = new SharedPush({ kind: 'LEFT', room, nick: member.nick });
      for (const other of members) other.connection.deliver(push);
      if (members.size === 0) this.localRooms.delete(room);
    }
    this.unsubscribe(room);
  }

  private subscribe(room: string): Promise<unknown> {
    const existing = this.subscriptions.get(room);
    if (existing !== undefined) {
      existing.refs += 1;
      return existing.ready;
    }
    const ready = this.subscriber.ssubscribe(this.store.channel(room));
    this.subscriptions.set(room, { refs: 1, ready });
    return ready;
  }

  private unsubscribe(room: string): void {
    const subscription = this.subscriptions.get(room);
    if (subscription === undefined) return;
    subscription.refs -= 1;
    if (subscription.refs > 0) return;
    this.subscriptions.delete(room);
    this.subscriber.sunsubscribe(this.store.channel(room)).catch(() => undefined);
  }

  /** A message from a room's channel: `<node> M <nick> <text>`, `<node> J <nick>` or `<node> L <nick>`. */
  private receive(channel: string, payload: string): void {
    if (!channel.startsWith(this.store.channelPrefix)) return;
    // Our own messages, echoed back by Redis: already delivered here.
    if (payload.startsWith(this.nodePrefix)) return;
    const space = payload.indexOf(' ');
    if (space < 0) return;
    const room = channel.slice(this.store.channelPrefix.length);
    const members = this.localRooms.get(room);
    if (members === undefined) return;
    const rest = payload.slice(space + 3);
    let push: Push;
    switch (payload[space + 1]) {
      case 'M': {
        const end = rest.indexOf(' ');
        push = { kind: 'MSG', room, nick: rest.slice(0, end), text: rest.slice(end + 1) };
        break;
      }
      case 'J':
        push = { kind: 'JOINED', room, nick: rest };
        break;
      case 'L':
        push = { kind: 'LEFT', room, nick: rest };
        break;
      default:
        return;
    }
    const shared = new SharedPush(push);
    for (const member of members) member.connection.deliver(shared);
  }

  /** Runs a member's call now, or after the one it waits for: calls of one member apply in order. */
  private run(member: Member, call: () => Promise<void> | undefined): void {
    if (member.busy) {
      member.waiting.push(call);
      return;
    }
    const pending = call();
    if (pending !== undefined) this.waitFor(member, pending);
  }

  private waitFor(member: Member, pending: Promise<void>): void {
    member.busy = true;
    void pending.finally(() => {
      member.busy = false;
      while (!member.busy && member.waiting.length > 0) {
        const next = (member.waiting.shift() as () => Promise<void> | undefined)();
        if (next !== undefined) this.waitFor(member, next);
      }
    });
  }

  /** Counters for one-way calls (MSG published), without a promise of their own per message. */
  private readonly answered = (): void => {
    this.roundTrips += 1;
  };
  private readonly failed = (error: unknown): void => {
    this.failures += 1;
    this.logger?.debug({ err: error }, 'hub call failed');
  };

  /** One Redis call, counted: its answer, or undefined when it failed (Redis away, or too slow). */
  private async call<T>(pending: Promise<T>): Promise<{ readonly value: T } | undefined> {
    try {
      const value = await pending;
      this.roundTrips += 1;
      return { value };
    } catch (error) {
      this.failures += 1;
      this.logger?.debug({ err: error }, 'hub call failed');
      return undefined;
    }
  }

  private unreachable(): HubResult<never> {
    return failed(this.unavailable() ?? new ProtocolError('UNAVAILABLE', `the hub at ${this.name} did not answer in time`));
  }

  private required(id: number): Member {
    const member = this.byId.get(id);
    if (member === undefined) throw new Error(`connection ${id} is not attached to the hub`);
    return member;
  }

  private owner(member: Member): string {
    return `${this.node}#${member.connection.id}`;
  }

  private announced(member: Member): AnnouncedMember {
    return { nick: member.nick, owner: this.owner(member), claimed: member.claimed, room: member.room };
  }

  private lost(): void {
    if (!this.ready) return;
    this.ready = false;
    this.logger?.warn({ hub: this.name }, 'hub unavailable: chat gets UNAVAILABLE until Redis answers again');
    for (const listener of this.availabilityListeners) listener();
  }

  /** Either connection is back: once both are, release the members gone meanwhile and announce the others again. */
  private async reconnected(): Promise<void> {
    if (this.closed || this.ready || this.announcing) return;
    if (this.commands.status !== 'ready' || this.subscriber.status !== 'ready') return;
    this.announcing = true;
    const announced = await this.announceAfterConnecting();
    this.announcing = false;
    if (announced && this.commands.status === 'ready' && this.subscriber.status === 'ready') {
      this.ready = true;
      this.becameReady();
      for (const listener of this.availabilityListeners) listener();
      this.logger?.info({ hub: this.name, node: this.node, members: this.byId.size }, 'hub ready');
    } else if (!this.closed) {
      // Redis answered the connection but not the announcement (too slow, or gone again): try again shortly.
      setTimeout(() => void this.reconnected(), 200).unref();
    }
  }

  private async announceAfterConnecting(): Promise<boolean> {
    if (this.serverNumber === 0) {
      const number = await this.call(this.store.numberServer());
      if (number === undefined) return false;
      this.serverNumber = number.value;
      this.startTimers();
    }
    return this.announceAll();
  }

  private startTimers(): void {
    const renew = setInterval(() => {
      if (this.ready && !this.announcing) void this.announceAll();
    }, this.leaseMs / 3);
    const reap = setInterval(
      () => {
        if (this.ready) void this.call(this.store.reap());
      },
      Math.max(100, this.leaseMs / 5),
    );
    renew.unref();
    reap.unref();
    this.timers.push(renew, reap);
  }

  /** Renews (or restores) every lease this server holds; false if Redis did not answer. */
  private async announceAll(): Promise<boolean> {
    while (this.pendingReleases.length > 0) {
      const gone = this.pendingReleases[0] as AnnouncedMember;
      if ((await this.call(this.store.release(this.node, gone))) === undefined) return false;
      this.pendingReleases.shift();
    }
    const members = [...this.byId.values()].filter((member) => !member.changing && (member.claimed || member.room !== undefined));
    const lost = await this.call(
      this.store.announce(
        this.serverNumber,
        members.map((member) => this.announced(member)),
      ),
    );
    if (lost === undefined) return false;
    if (lost.value.length > 0) this.logger?.warn({ nicks: lost.value }, 'nicks claimed by another server while Redis was away');
    return true;
  }
}
