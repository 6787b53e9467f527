// A server in another process, with one member in one room: the test SIGKILLs it to see a server die without a word.
// argv: redis URL, lease in ms, nick, room. Uses the built core, as a model's main does.
import { RedisHub } from '../dist/server.js';

const [url, leaseMs, nick, room] = process.argv.slice(2);
const hub = await RedisHub.open({ url, leaseMs: Number(leaseMs) });
const id = hub.firstConnectionId;
hub.attach({ id, deliver: () => undefined });
hub.setNick(id, nick, (named) => {
  if (!named.ok) throw new Error(named.error.toString());
  hub.join(id, room, (joined) => {
    if (!joined.ok) throw new Error(joined.error.toString());
    process.send('ready');
  });
});
