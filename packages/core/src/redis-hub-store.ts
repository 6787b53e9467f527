/**
 * What the Redis hub keeps in Redis, and the scripts that change it atomically: nick claims
 * (SET NX with a lease), room membership with leases (for WHO, and so a dead server's members
 * expire), the room channels (sharded pub/sub), and the counter that numbers the servers.
 * Times are Redis's own (TIME inside the scripts), so servers on machines whose clocks
 * disagree still agree on when a lease ends. One standalone Redis: the scripts name keys they
 * compute, which Redis Cluster would refuse.
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';

/** Redis's clock in milliseconds, inside a script. */
const NOW = `local clock = redis.call('TIME')
local now = tonumber(clock[1]) * 1000 + math.floor(tonumber(clock[2]) / 1000)`;

/**
 * Claims a nick (KEYS[1]) for its owner, frees the old one (KEYS[2]) if the owner holds it, and
 * renames the member in its room (KEYS[3]) and in the lease index (KEYS[4]). 0: taken.
 */
const CLAIM_NICK = `${NOW}
if not redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return 0 end
if ARGV[3] == '1' and redis.call('GET', KEYS[2]) == ARGV[1] then redis.call('DEL', KEYS[2]) end
if ARGV[4] ~= '' then
  local expiry = now + tonumber(ARGV[2])
  redis.call('ZREM', KEYS[3], ARGV[5])
  redis.call('ZADD', KEYS[3], expiry, ARGV[6])
  redis.call('ZREM', KEYS[4], ARGV[4] .. ' ' .. ARGV[5])
  redis.call('ZADD', KEYS[4], expiry, ARGV[4] .. ' ' .. ARGV[6])
end
return 1`;

/** Moves a nick from its room (KEYS[1], LEFT there) to another (KEYS[2], JOINED there); KEYS[3] is the lease index. */
const JOIN = `${NOW}
local nick, old, new, node = ARGV[1], ARGV[2], ARGV[3], ARGV[7]
if old ~= '' then
  if redis.call('ZREM', KEYS[1], nick) == 1 then redis.call('SPUBLISH', ARGV[5], node .. ' L ' .. nick) end
  redis.call('ZREM', KEYS[3], old .. ' ' .. nick)
end
local expiry = now + tonumber(ARGV[4])
redis.call('ZADD', KEYS[2], expiry, nick)
redis.call('ZADD', KEYS[3], expiry, new .. ' ' .. nick)
redis.call('SPUBLISH', ARGV[6], node .. ' J ' .. nick)
return 1`;

/** Takes a nick out of its room (KEYS[1], LEFT there if it was in) and frees its claim (KEYS[3]) if the owner holds it. */
const RELEASE = `
local nick, room, owner = ARGV[1], ARGV[2], ARGV[5]
if room ~= '' then
  if redis.call('ZREM', KEYS[1], nick) == 1 then redis.call('SPUBLISH', ARGV[3], ARGV[4] .. ' L ' .. nick) end
  redis.call('ZREM', KEYS[2], room .. ' ' .. nick)
end
if owner ~= '' and redis.call('GET', KEYS[3]) == owner then redis.call('DEL', KEYS[3]) end
return 1`;

/**
 * Renews (or, after Redis lost them, restores) a server's leases: per member, its nick claim
 * and its room membership. KEYS[1] numbers servers, KEYS[2] is the lease index, then per member
 * its nick key and room key. Returns the nicks another owner holds now.
 */
const ANNOUNCE = `${NOW}
local lease = tonumber(ARGV[1])
if (tonumber(redis.call('GET', KEYS[1])) or 0) < tonumber(ARGV[2]) then redis.call('SET', KEYS[1], ARGV[2]) end
local lost = {}
local expiry = now + lease
for i = 0, (#KEYS - 2) / 2 - 1 do
  local nickKey, roomKey = KEYS[3 + 2 * i], KEYS[4 + 2 * i]
  local nick, owner, claimed, room = ARGV[3 + 4 * i], ARGV[4 + 4 * i], ARGV[5 + 4 * i], ARGV[6 + 4 * i]
  local held = true
  if claimed == '1' then
    local value = redis.call('GET', nickKey)
    if value == owner then redis.call('PEXPIRE', nickKey, lease)
    elseif not value then redis.call('SET', nickKey, owner, 'PX', lease)
    else held = false; lost[#lost + 1] = nick end
  end
  if held and room ~= '' then
    redis.call('ZADD', roomKey, expiry, nick)
    redis.call('ZADD', KEYS[2], expiry, room .. ' ' .. nick)
  end
end
return lost`;

/** Removes memberships whose lease ended (a dead server's) and sends their LEFT, from no node in particular. */
const REAP = `${NOW}
local expired = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now, 'LIMIT', 0, tonumber(ARGV[3]))
for _, entry in ipairs(expired) do
  local space = string.find(entry, ' ', 1, true)
  local room, nick = string.sub(entry, 1, space - 1), string.sub(entry, space + 1)
  redis.call('ZREM', KEYS[1], entry)
  local roomKey = ARGV[1] .. room
  local score = redis.call('ZSCORE', roomKey, nick)
  if score and tonumber(score) <= now then
    redis.call('ZREM', roomKey, nick)
    redis.call('SPUBLISH', ARGV[2] .. room, '- L ' .. nick)
  end
end
return #expired`;

/** The members of a room (KEYS[1]) whose lease runs. */
const WHO = `${NOW}
return redis.call('ZRANGEBYSCORE', KEYS[1], '(' .. now, '+inf')`;

/** A script sent by its SHA1, and whole the first time Redis does not know it (after a restart too). */
class Script {
  private readonly sha: string;

  constructor(private readonly source: string) {
    this.sha = createHash('sha1').update(source).digest('hex');
  }

  async run(redis: Redis, keys: readonly string[], args: readonly (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (error) {
      if (!(error instanceof Error) || !error.message.startsWith('NOSCRIPT')) throw error;
      return await redis.eval(this.source, keys.length, ...keys, ...args);
    }
  }
}

const SCRIPTS = {
  claimNick: new Script(CLAIM_NICK),
  join: new Script(JOIN),
  release: new Script(RELEASE),
  announce: new Script(ANNOUNCE),
  reap: new Script(REAP),
  who: new Script(WHO),
};

/** One member as a server announces it: its nick (claimed in Redis unless a guest's), the owner tag, its room. */
export interface AnnouncedMember {
  readonly nick: string;
  readonly owner: string;
  readonly claimed: boolean;
  readonly room: string | undefined;
}

/** Announced at most this many members per script call, so one call never holds Redis long. */
const ANNOUNCE_BATCH = 200;
/** Expired memberships removed per reap. */
const REAP_BATCH = 500;

/** The hub's data in one Redis database; channels carry the database number, since pub/sub ignores databases. */
export class RedisHubStore {
  private readonly keyPrefix = 'echoplex:';
  readonly channelPrefix: string;

  constructor(
    private readonly redis: Redis,
    database: number,
    private readonly leaseMs: number,
  ) {
    this.channelPrefix = `echoplex:${database}:room:`;
  }

  channel(room: string): string {
    return this.channelPrefix + room;
  }

  /** This server's number, 1 for the first server ever to use this Redis (since it was last emptied). */
  async numberServer(): Promise<number> {
    return this.redis.incr(this.seqKey);
  }

  /** True when the nick was free and is now the owner's; the old nick is freed and the room renamed in the same step. */
  async claimNick(owner: string, nick: string, old: { nick: string; claimed: boolean }, room: string | undefined): Promise<boolean> {
    const keys = [this.nickKey(nick), this.nickKey(old.nick), this.roomKey(room ?? ''), this.indexKey];
    const args = [owner, this.leaseMs, old.claimed ? '1' : '0', room ?? '', old.nick, nick];
    return (await SCRIPTS.claimNick.run(this.redis, keys, args)) === 1;
  }

  async join(node: string, nick: string, from: string | undefined, to: string): Promise<void> {
    const keys = [this.roomKey(from ?? ''), this.roomKey(to), this.indexKey];
    const args = [nick, from ?? '', to, this.leaseMs, this.channel(from ?? ''), this.channel(to), node];
    await SCRIPTS.join.run(this.redis, keys, args);
  }

  /** Leaves the room (if any) and frees the nick (if claimed by this owner). */
  async release(node: string, member: AnnouncedMember): Promise<void> {
    const room = member.room ?? '';
    const keys = [this.roomKey(room), this.indexKey, this.nickKey(member.nick)];
    const args = [member.nick, room, this.channel(room), node, member.claimed ? member.owner : ''];
    await SCRIPTS.release.run(this.redis, keys, args);
  }

  /** Renews or restores every lease of these members; returns the nicks now held by someone else. */
  async announce(serverNumber: number, members: readonly AnnouncedMember[]): Promise<string[]> {
    const lost: string[] = [];
    for (let start = 0; start === 0 || start < members.length; start += ANNOUNCE_BATCH) {
      const batch = members.slice(start, start + ANNOUNCE_BATCH);
      const keys = [this.seqKey, this.indexKey];
      const args: (string | number)[] = [this.leaseMs, serverNumber];
      for (const member of batch) {
        keys.push(this.nickKey(member.nick), this.roomKey(member.room ?? ''));
        args.push(member.nick, member.owner, member.claimed ? '1' : '0', member.room ?? '');
      }
      lost.push(...((await SCRIPTS.announce.run(this.redis, keys, args)) as string[]));
    }
    return lost;
  }

  /** Removes expired memberships (sending their LEFT); returns how many expired. */
  async reap(): Promise<number> {
    return (await SCRIPTS.reap.run(this.redis, [this.indexKey], [this.roomKey(''), this.channelPrefix, REAP_BATCH])) as number;
  }

  /** The room's members, sorted by byte value. */
  async who(room: string): Promise<string[]> {
    const nicks = (await SCRIPTS.who.run(this.redis, [this.roomKey(room)], [])) as string[];
    // Nicks are ASCII, so code-unit order is byte order.
    return nicks.sort();
  }

  /** A message for the room's members on other servers (the hot path: no wrapping promise). */
  publish(room: string, payload: string): Promise<unknown> {
    return this.redis.spublish(this.channelPrefix + room, payload);
  }

  private get seqKey(): string {
    return `${this.keyPrefix}servers`;
  }

  private get indexKey(): string {
    return `${this.keyPrefix}memberships`;
  }

  private nickKey(nick: string): string {
    return `${this.keyPrefix}nick:${nick}`;
  }

  private roomKey(room: string): string {
    return `${this.keyPrefix}room:${room}`;
  }
}
