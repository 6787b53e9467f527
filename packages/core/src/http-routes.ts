/** The HTTP dialect's routes: which paths exist, which methods each allows, and the names they carry in metrics. */

export type HttpRoute =
  | { readonly name: 'STATUS' | 'ECHO' | 'PING' | 'WORK' | 'INFO' | 'METRICS'; readonly allow: readonly string[] }
  | { readonly name: 'ROOM_POST' | 'ROOM_GET'; readonly allow: readonly string[]; readonly room: string }
  | { readonly name: 'FILES'; readonly allow: readonly string[] }
  | { readonly name: 'FILE'; readonly allow: readonly string[]; readonly file: string };

const GET = ['GET', 'HEAD'] as const;
const POST = ['POST'] as const;
const FILE_METHODS = ['GET', 'HEAD', 'PUT'] as const;

/** Where the file service lives: `/files/` lists, `/files/<name>` is one file. */
export const FILES_PREFIX = '/files/';

/** Whether a request's body streams to the file store instead of being read whole (`PUT /files/<name>`). */
export const streamsToFile = (method: string, path: string): boolean =>
  method === 'PUT' && path.startsWith(FILES_PREFIX) && path.length > FILES_PREFIX.length;

const FIXED_ROUTES: Readonly<Record<string, HttpRoute>> = {
  '/': { name: 'STATUS', allow: GET },
  '/echo': { name: 'ECHO', allow: POST },
  '/ping': { name: 'PING', allow: GET },
  '/work': { name: 'WORK', allow: POST },
  '/info': { name: 'INFO', allow: GET },
  '/metrics': { name: 'METRICS', allow: GET },
};

/** The route for a decoded path, or `undefined` (404). The room name is not validated here. */
export function matchRoute(path: string): HttpRoute | undefined {
  const fixed = FIXED_ROUTES[path];
  if (fixed !== undefined) return fixed;
  // Everything after the prefix is the name, slashes and dots included, so that `..%2fx` is a bad name (400), not a miss.
  if (path === FILES_PREFIX) return { name: 'FILES', allow: GET };
  if (path.startsWith(FILES_PREFIX)) return { name: 'FILE', allow: FILE_METHODS, file: path.slice(FILES_PREFIX.length) };
  const parts = path.split('/');
  // ['', 'rooms', room] or ['', 'rooms', room, 'messages']
  if (parts[0] !== '' || parts[1] !== 'rooms' || parts[2] === undefined) return undefined;
  if (parts.length === 3) return { name: 'ROOM_GET', allow: GET, room: parts[2] };
  if (parts.length === 4 && parts[3] === 'messages') return { name: 'ROOM_POST', allow: POST, room: parts[2] };
  return undefined;
}
