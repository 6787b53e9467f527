/** Nick and room names share one charset and length: the rules live here, once. */

const NAME_PATTERN = /^[A-Za-z0-9_-]{1,32}$/;

/** The prefix of the nicks the server gives to connections that have not chosen one. */
export const GUEST_PREFIX = 'guest-';

export const isValidName = (name: string): boolean => NAME_PATTERN.test(name);

/** A nick a client may claim: a valid name outside the reserved `guest-` space. */
export const isClaimableNick = (nick: string): boolean => isValidName(nick) && !nick.startsWith(GUEST_PREFIX);

/** Chat text must not forge lines for text-dialect members. */
export const isValidChatText = (text: string): boolean => !/[\r\n]/.test(text);

export const guestNick = (connectionId: number): string => `${GUEST_PREFIX}${connectionId}`;
