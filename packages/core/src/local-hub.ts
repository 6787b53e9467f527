/** The in-process Hub: the one authority over rooms and nicks, used as is by single-loop servers and behind a relay by the others. */
import { guestNick, ProtocolError, type Push } from '@echoplex/protocol';
import { type Hub, type HubMember, type HubResult, type RoomMembers, SharedPush } from './hub.js';

interface Member {
  readonly connection: HubMember;
  nick: string;
  room: Set<Member> | undefined;
  roomName: string;
}

const ok = <T>(value: T): HubResult<T> => ({ ok: true, value });
const notInRoom = (): HubResult<never> => ({ ok: false, error: new ProtocolError('NOT_IN_ROOM', 'join a room first') });

export class LocalHub implements Hub {
  private readonly byId = new Map<number, Member>();
  private readonly nickOwners = new Map<string, Member>();
  private readonly rooms = new Map<string, Set<Member>>();

  get roomCount(): number {
    return this.rooms.size;
  }

  attach(connection: HubMember): void {
    if (this.byId.has(connection.id)) throw new Error(`connection ${connection.id} attached twice`);
    const member: Member = { connection, nick: guestNick(connection.id), room: undefined, roomName: '' };
    this.byId.set(connection.id, member);
    this.nickOwners.set(member.nick, member);
  }

  detach(id: number): void {
    const member = this.byId.get(id);
    if (member === undefined) return;
    this.leaveRoom(member);
    this.nickOwners.delete(member.nick);
    this.byId.delete(id);
  }

  setNick(id: number, nick: string, done: (result: HubResult<string>) => void): void {
    const member = this.required(id);
    const owner = this.nickOwners.get(nick);
    if (owner !== undefined && owner !== member) {
      done({ ok: false, error: new ProtocolError('NICK_TAKEN', `${nick} is taken`) });
      return;
    }
    this.nickOwners.delete(member.nick);
    member.nick = nick;
    this.nickOwners.set(nick, member);
    done(ok(nick));
  }

  join(id: number, room: string, done: (result: HubResult<string>) => void): void {
    const member = this.required(id);
    if (member.room !== undefined && member.roomName === room) {
      done(ok(room));
      return;
    }
    this.leaveRoom(member);
    let members = this.rooms.get(room);
    if (members === undefined) {
      members = new Set();
      this.rooms.set(room, members);
    }
    this.broadcast(members, { kind: 'JOINED', room, nick: member.nick });
    members.add(member);
    member.room = members;
    member.roomName = room;
    done(ok(room));
  }

  leave(id: number, done: (result: HubResult<string>) => void): void {
    const member = this.required(id);
    const room = member.roomName;
    if (!this.leaveRoom(member)) {
      done(notInRoom());
      return;
    }
    done(ok(room));
  }

  say(id: number, text: string): void {
    const member = this.required(id);
    if (member.room === undefined) return;
    this.broadcast(member.room, { kind: 'MSG', room: member.roomName, nick: member.nick, text }, member);
  }

  who(id: number, done: (result: HubResult<RoomMembers>) => void): void {
    const member = this.required(id);
    if (member.room === undefined) {
      done(notInRoom());
      return;
    }
    done(ok(this.roomMembers(member.roomName)));
  }

  members(room: string, done: (result: HubResult<RoomMembers>) => void): void {
    done(ok(this.roomMembers(room)));
  }

  post(room: string, nick: string, text: string): void {
    const members = this.rooms.get(room);
    if (members !== undefined) this.broadcast(members, { kind: 'MSG', room, nick, text });
  }

  /** In process, the hub is always there. */
  unavailable(): undefined {
    return undefined;
  }

  private roomMembers(room: string): RoomMembers {
    const nicks = [...(this.rooms.get(room) ?? [])].map((member) => member.nick);
    // Nicks are ASCII, so code-unit order is byte order.
    nicks.sort();
    return { room, nicks };
  }

  /** Returns whether the member was in a room. */
  private leaveRoom(member: Member): boolean {
    const members = member.room;
    if (members === undefined) return false;
    const room = member.roomName;
    members.delete(member);
    member.room = undefined;
    member.roomName = '';
    if (members.size === 0) this.rooms.delete(room);
    else this.broadcast(members, { kind: 'LEFT', room, nick: member.nick });
    return true;
  }

  /** One SharedPush for every member: its bytes are encoded once per dialect. */
  private broadcast(members: Set<Member>, push: Push, except?: Member): void {
    const shared = new SharedPush(push);
    for (const member of members) if (member !== except) member.connection.deliver(shared);
  }

  private required(id: number): Member {
    const member = this.byId.get(id);
    if (member === undefined) throw new Error(`connection ${id} is not attached to the hub`);
    return member;
  }
}
