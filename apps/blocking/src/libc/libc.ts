/**
 * The few libc calls a blocking socket needs, bound with koffi (an FFI), because Node has no
 * blocking socket API: poll(2) to wait in the kernel, recv(2)/send(2) on a connection's fd,
 * ioctl(2) for the kernel's unsent bytes, and an eventfd(2) to be woken by.
 */
import koffi from 'koffi';

const lib = koffi.load('libc.so.6');

type PollFn = (fds: Uint8Array, count: number, timeoutMs: number) => number;
type TransferFn = (fd: number, bytes: Uint8Array, length: number, flags: number) => number;
type IoctlIntFn = (fd: number, request: number, out: Int32Array) => number;
type EventFdFn = (initial: number, flags: number) => number;
type ReadWriteFn = (fd: number, bytes: Uint8Array, length: number) => number;
type CloseFn = (fd: number) => number;

const poll = lib.func('int poll(void *fds, unsigned long nfds, int timeout)') as PollFn;
const recv = lib.func('long recv(int fd, void *buf, size_t len, int flags)') as TransferFn;
const send = lib.func('long send(int fd, const void *buf, size_t len, int flags)') as TransferFn;
// ioctl is variadic; on x86-64 and arm64 Linux one pointer argument passes the same way either way.
const ioctlInt = lib.func('int ioctl(int fd, unsigned long request, void *out)') as IoctlIntFn;
const eventfd = lib.func('int eventfd(unsigned int initval, int flags)') as EventFdFn;
const read = lib.func('long read(int fd, void *buf, size_t len)') as ReadWriteFn;
const write = lib.func('long write(int fd, const void *buf, size_t len)') as ReadWriteFn;
const close = lib.func('int close(int fd)') as CloseFn;

export const POLLIN = 0x1;
export const POLLOUT = 0x4;
export const POLLERR = 0x8;
export const POLLHUP = 0x10;
export const POLLNVAL = 0x20;
const MSG_DONTWAIT = 0x40;
const MSG_NOSIGNAL = 0x4000;
/** SIOCOUTQ (= TIOCOUTQ): bytes in a TCP socket's send queue, not yet acknowledged by the peer. */
const SIOCOUTQ = 0x5411;
const EFD_NONBLOCK = 0o4000;
const EFD_CLOEXEC = 0o2000000;

export const Errno = { EINTR: 4, EAGAIN: 11, EPIPE: 32, ECONNRESET: 104 } as const;

/** A syscall's failure: what errno said. */
export class SyscallError extends Error {
  constructor(
    readonly call: string,
    readonly errno: number,
  ) {
    super(`${call} failed: errno ${errno}`);
  }
}

/**
 * Waits in poll(2) for up to two fds: returns each one's revents. `timeoutMs` undefined
 * waits forever; EINTR counts as a wake with nothing ready.
 */
export class Poller {
  /** Two struct pollfd { int fd; short events; short revents; }. */
  private readonly fds = new Uint8Array(16);
  private readonly pollfds = new DataView(this.fds.buffer);
  firstReady = 0;
  secondReady = 0;

  wait(first: number, firstEvents: number, second: number | undefined, secondEvents: number, timeoutMs: number | undefined): void {
    const view = this.pollfds;
    view.setInt32(0, first, true);
    view.setInt16(4, firstEvents, true);
    view.setInt16(6, 0, true);
    let count = 1;
    if (second !== undefined) {
      view.setInt32(8, second, true);
      view.setInt16(12, secondEvents, true);
      view.setInt16(14, 0, true);
      count = 2;
    }
    const timeout = timeoutMs === undefined ? -1 : Math.min(2 ** 31 - 1, Math.max(0, Math.ceil(timeoutMs)));
    const ready = poll(this.fds, count, timeout);
    if (ready < 0) {
      const errno = koffi.errno();
      if (errno !== Errno.EINTR) throw new SyscallError('poll', errno);
    }
    this.firstReady = ready > 0 ? view.getInt16(6, true) : 0;
    this.secondReady = ready > 0 && count === 2 ? view.getInt16(14, true) : 0;
  }
}

/** recv(2) without blocking: bytes read, 0 at EOF, or -errno (-EAGAIN: nothing to read now). */
export function recvNow(fd: number, into: Uint8Array): number {
  const count = recv(fd, into, into.length, MSG_DONTWAIT);
  return count >= 0 ? count : -koffi.errno();
}

/** send(2) without blocking and without SIGPIPE: bytes taken, or -errno (-EAGAIN: the send buffer is full). */
export function sendNow(fd: number, bytes: Uint8Array): number {
  const count = send(fd, bytes, bytes.length, MSG_DONTWAIT | MSG_NOSIGNAL);
  return count >= 0 ? count : -koffi.errno();
}

const outq = new Int32Array(1);

/** Bytes the kernel holds in the socket's send queue (Linux's SIOCOUTQ); 0 if it cannot say. */
export function unsentInKernel(fd: number): number {
  return ioctlInt(fd, SIOCOUTQ, outq) === 0 ? (outq[0] as number) : 0;
}

const counter = new BigUint64Array(1);
const counterBytes = new Uint8Array(counter.buffer);

/** An eventfd, non-blocking: what a handler thread polls beside its socket so the main thread can wake it. */
export function makeEventFd(): number {
  const fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (fd < 0) throw new SyscallError('eventfd', koffi.errno());
  return fd;
}

/** Adds one to the eventfd: its poller wakes (many rings before it looks cost one wake-up). */
export function ringEventFd(fd: number): void {
  counter[0] = 1n;
  write(fd, counterBytes, 8);
}

/** Resets the eventfd to zero (it was readable: rung at least once). */
export function drainEventFd(fd: number): void {
  read(fd, counterBytes, 8);
}

/** For fds libc made (the eventfds), never for a node:net socket's, which libuv owns. */
export function closeFd(fd: number): void {
  close(fd);
}
