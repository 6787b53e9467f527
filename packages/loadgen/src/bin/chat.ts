#!/usr/bin/env node
/**
 * `echoplex-chat`: a terminal chat against any model. Lines are handled one at a time, in the
 * order typed or piped; pushes show as they arrive; `bye` or `/quit` (or the end of the input)
 * leaves with exit 0. A prompt and line editing only when both ends are a terminal.
 */
import readline from 'node:readline';
import { parseArgs } from 'node:util';
import { CHAT_COMMANDS_HELP, formatPush, readTypedLine, type TypedLine } from '../chat/chat-lines.js';
import { EchoplexClient } from '../client/echoplex-client.js';
import { EchoplexError } from '../client/echoplex-error.js';
import { downloadFile, listFiles, uploadFile } from '../files/file-transfer.js';
import { formatTarget, parseTarget, type Target } from '../target.js';

const USAGE = `Usage: echoplex-chat [TARGET] [--nick NAME] [--room ROOM] [--text]

TARGET is tcp://HOST:PORT, HOST:PORT or unix:/PATH (default tcp://127.0.0.1:7000; --target TARGET works too).
  --nick NAME    take this nick first
  --room ROOM    join this room first
  --text         speak the text dialect instead of binary frames
  -h, --help     this text

${CHAT_COMMANDS_HELP}

Input may be piped: each line is handled in order, and the client leaves at the end of it.
Exit codes: 0 left, 1 the server closed the connection, 2 bad flags, 3 could not connect.`;

/** How long `bye` waits for the server's BYE and close before closing anyway. */
const QUIT_WAIT_MS = 2000;

interface ChatFlags {
  readonly target: Target;
  readonly nick: string | undefined;
  readonly room: string | undefined;
  readonly text: boolean;
}

function readFlags(argv: readonly string[]): ChatFlags | undefined {
  const { values, positionals } = parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: true,
    options: {
      target: { type: 'string' },
      nick: { type: 'string' },
      room: { type: 'string' },
      text: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help) return undefined;
  if (positionals.length > 1) throw new Error(`one target at most, got ${positionals.join(' ')}`);
  if (positionals.length === 1 && values.target !== undefined) throw new Error('give the target once: positional or --target');
  const target = parseTarget(values.target ?? positionals[0] ?? 'tcp://127.0.0.1:7000');
  return { target, nick: values.nick, room: values.room, text: values.text };
}

const messageOf = (error: unknown): string => (error instanceof EchoplexError || error instanceof Error ? error.message : String(error));

/** A file command's failure, with what to do when the server serves no files at all. */
const fileFailure = (command: string, error: unknown): Error => {
  const unserved = error instanceof EchoplexError && error.code === 'UNKNOWN_COMMAND' && !error.message.includes('--files');
  const hint = unserved ? ' (this server serves no files: it runs without --files)' : '';
  return new Error(`${command}: ${messageOf(error)}${hint}`);
};

async function main(argv: readonly string[]): Promise<number> {
  let flags: ChatFlags | undefined;
  try {
    flags = readFlags(argv);
  } catch (error) {
    process.stderr.write(`echoplex-chat: ${messageOf(error)}\nRun echoplex-chat --help for the flags.\n`);
    return 2;
  }
  if (flags === undefined) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
  // Created before anything is awaited: the iterator buffers every line from here on, so piped input is never lost.
  const rl = readline.createInterface({ input: process.stdin, output: interactive ? process.stdout : undefined, terminal: interactive });
  const lines = rl[Symbol.asyncIterator]();
  let prompting = interactive;
  rl.on('close', () => {
    prompting = false;
  });
  rl.on('SIGINT', () => rl.close());

  let client: EchoplexClient;
  try {
    client = await EchoplexClient.connect(flags.target, { dialect: flags.text ? 'text' : 'binary' });
  } catch (error) {
    rl.close();
    process.stderr.write(`echoplex-chat: cannot connect to ${formatTarget(flags.target)}: ${messageOf(error)}\n`);
    return 3;
  }

  const target = flags.target;
  const show = (line: string): void => {
    if (!prompting) {
      process.stdout.write(`${line}\n`);
      return;
    }
    // Print above the prompt without losing what the person is typing.
    readline.clearLine(process.stdout, 0);
    readline.cursorTo(process.stdout, 0);
    process.stdout.write(`${line}\n`);
    rl.prompt(true);
  };
  client.onPush((push) => show(formatPush(push)));
  client.onNotice((reply) => show(reply.kind === 'ERR' ? `! ${reply.error.toString()}` : `! ${reply.kind}`));
  let leaving = false;
  let serverClosed = false;
  void client.closed.then(() => {
    if (leaving) return;
    serverClosed = true;
    show('* the server closed the connection');
    rl.close();
  });

  const attempt = async (action: () => Promise<string | undefined>): Promise<void> => {
    try {
      const said = await action();
      if (said !== undefined) show(said);
    } catch (error) {
      show(`! ${messageOf(error)}`);
    }
  };
  const transfer = (command: string, action: () => Promise<string>): Promise<void> =>
    attempt(async () => {
      try {
        return await action();
      } catch (error) {
        throw fileFailure(command, error);
      }
    });
  const leave = async (): Promise<void> => {
    leaving = true;
    const gone = client.quit().catch(() => undefined);
    await Promise.race([gone, new Promise((resolve) => setTimeout(resolve, QUIT_WAIT_MS).unref())]);
    client.close();
  };
  const handle = (typed: TypedLine): Promise<void> => {
    switch (typed.kind) {
      case 'nothing':
      case 'bye':
        return Promise.resolve();
      case 'help':
        show(CHAT_COMMANDS_HELP);
        return Promise.resolve();
      case 'refused':
        show(`! ${typed.reason}`);
        return Promise.resolve();
      case 'say':
        return attempt(async () => {
          await client.say(typed.text);
          return undefined;
        });
      case 'join':
        return attempt(async () => `* joined ${await client.join(typed.room)}`);
      case 'nick':
        return attempt(async () => `* you are ${await client.nick(typed.nick)}`);
      case 'who':
        return attempt(async () => {
          const who = await client.who();
          return `* ${who.room}: ${who.nicks.join(' ')}`;
        });
      case 'leave':
        return attempt(async () => `* left ${await client.leave()}`);
      // Each transfer has a connection of its own (see file-transfer.ts): pushes keep showing meanwhile.
      case 'ls':
        return transfer('/ls', async () => {
          const files = await listFiles(target);
          if (files.length === 0) return '* no files';
          const width = Math.max(...files.map((file) => file.name.length));
          return [`* ${files.length} file(s):`, ...files.map((file) => `  ${file.name.padEnd(width)}  ${file.size} bytes`)].join('\n');
        });
      case 'get':
        return transfer(`/get ${typed.name}`, async () => {
          const saved = await downloadFile(target, typed.name);
          return `* saved ${saved.name} (${saved.size} bytes) as ${saved.path}`;
        });
      case 'put':
        return transfer(`/put ${typed.path}`, async () => {
          const sent = await uploadFile(target, typed.path);
          return `* sent ${sent.name} (${sent.size} bytes)`;
        });
    }
  };

  if (flags.nick !== undefined) await handle({ kind: 'nick', nick: flags.nick });
  if (flags.room !== undefined) await handle({ kind: 'join', room: flags.room });
  if (prompting) {
    rl.setPrompt('> ');
    rl.prompt();
  }
  // One line at a time: a SAY is taken by the server before the next line is read, so order holds.
  for (let next = await lines.next(); next.done !== true && !serverClosed; next = await lines.next()) {
    const typed = readTypedLine(next.value);
    if (typed.kind === 'bye') break;
    await handle(typed);
    if (prompting) rl.prompt();
  }
  rl.close();
  if (serverClosed) return 1;
  await leave();
  show('* bye');
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => {
    // stdin may still be open (a terminal, a pipe not yet closed): leaving means leaving now.
    process.exit(code);
  },
  (error: unknown) => {
    process.stderr.write(`echoplex-chat: ${messageOf(error)}\n`);
    process.exit(1);
  },
);
