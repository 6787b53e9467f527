#!/usr/bin/env node
/** `echoplex-chat`: an interactive terminal chat against any model; pushes show as they arrive, `bye` leaves. */
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { formatPush, readTypedLine } from '../chat/chat-lines.js';
import { EchoplexClient } from '../client/echoplex-client.js';
import { EchoplexError } from '../client/echoplex-error.js';
import { parseTarget, type Target } from '../target.js';

const USAGE = `Usage: echoplex-chat [--target tcp://127.0.0.1:7000|unix:/path] [--nick NAME] [--room ROOM] [--text]

Type a line to say it to the room. Commands: /join ROOM, /nick NAME, /who, /leave, and bye to leave.`;

interface ChatFlags {
  readonly target: Target;
  readonly nick: string | undefined;
  readonly room: string | undefined;
  readonly text: boolean;
}

function readFlags(argv: readonly string[]): ChatFlags | undefined {
  const { values } = parseArgs({
    args: [...argv],
    strict: true,
    options: {
      target: { type: 'string', default: 'tcp://127.0.0.1:7000' },
      nick: { type: 'string' },
      room: { type: 'string' },
      text: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  return { target: parseTarget(values.target), nick: values.nick, room: values.room, text: values.text };
}

async function main(argv: readonly string[]): Promise<number> {
  let flags: ChatFlags | undefined;
  try {
    flags = readFlags(argv);
  } catch (error) {
    process.stderr.write(`echoplex-chat: ${error instanceof Error ? error.message : String(error)}\n${USAGE}\n`);
    return 2;
  }
  if (flags === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const client = await EchoplexClient.connect(flags.target, { dialect: flags.text ? 'text' : 'binary' });
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout, terminal: process.stdin.isTTY === true });
  const show = (line: string): void => {
    // Print above the prompt without losing what the person is typing.
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
    process.stdout.write(`${line}\n`);
    rl.prompt(true);
  };
  client.onPush((push) => show(formatPush(push)));
  client.onNotice((reply) => show(reply.kind === 'ERR' ? `! ${reply.error.toString()}` : `! ${reply.kind}`));
  const attempt = async (action: () => Promise<string | undefined>): Promise<void> => {
    try {
      const said = await action();
      if (said !== undefined) show(said);
    } catch (error) {
      show(`! ${error instanceof EchoplexError ? error.message : error instanceof Error ? error.message : String(error)}`);
    }
  };
  if (flags.nick !== undefined) {
    const nick = flags.nick;
    await attempt(async () => `* you are ${await client.nick(nick)}`);
  }
  if (flags.room !== undefined) {
    const room = flags.room;
    await attempt(async () => `* joined ${await client.join(room)}`);
  }
  rl.setPrompt('> ');
  rl.prompt();
  let leaving = false;
  const finished = new Promise<void>((resolve) => {
    client.closed.then(() => {
      if (!leaving) show('* the server closed the connection');
      rl.close();
      resolve();
    });
    rl.on('close', () => {
      if (!leaving) {
        leaving = true;
        client.quit().catch(() => client.close());
      }
      resolve();
    });
  });
  rl.on('line', (line) => {
    const typed = readTypedLine(line);
    switch (typed.kind) {
      case 'nothing':
        rl.prompt();
        return;
      case 'bye':
        leaving = true;
        void attempt(async () => {
          await client.quit();
          rl.close();
          return '* bye';
        });
        return;
      case 'say':
        void attempt(async () => {
          await client.say(typed.text);
          return undefined;
        }).then(() => rl.prompt());
        return;
      case 'join':
        void attempt(async () => `* joined ${await client.join(typed.room)}`);
        return;
      case 'nick':
        void attempt(async () => `* you are ${await client.nick(typed.nick)}`);
        return;
      case 'who':
        void attempt(async () => {
          const who = await client.who();
          return `* ${who.room}: ${who.nicks.join(' ')}`;
        });
        return;
      case 'leave':
        void attempt(async () => `* left ${await client.leave()}`);
        return;
    }
  });
  await finished;
  await Promise.race([client.closed, new Promise((resolve) => setTimeout(resolve, 2000).unref())]);
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`echoplex-chat: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);
