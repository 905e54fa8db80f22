/** The strace log reader of the tests that check what a program asks of the OS. */
import { describe, expect, it } from 'vitest';
import { straceCalls, straceEvents, syncsIn, writable } from './strace.js';

describe('strace logs', () => {
  it('reads the syncs: descriptors reused after a close, calls cut in two by another thread', () => {
    const log = [
      '10 openat(AT_FDCWD</w>, "/t/a", O_RDONLY|O_CLOEXEC) = 21</t/a>',
      '10 fsync(21</t/a>) = 0',
      '10 close(21</t/a>) = 0',
      '11 openat(AT_FDCWD</w>, "/t/b", O_RDWR|O_CREAT|O_CLOEXEC, 0644 <unfinished ...>',
      '10 openat(AT_FDCWD</w>, "/t/c", O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC, 0666) = 22</t/c>',
      '11 <... openat resumed>) = 21</t/b>',
      '12 fdatasync(21</t/b> <unfinished ...>',
      '10 fsync(22</t/c>) = 0',
      '12 <... fdatasync resumed>) = 0',
      '10 fsync(9</t/d>) = 0',
    ].join('\n');
    expect(syncsIn(log)).toEqual([
      { call: 'fsync', path: '/t/a', flags: 'O_RDONLY|O_CLOEXEC' },
      { call: 'fsync', path: '/t/c', flags: 'O_WRONLY|O_CREAT|O_EXCL|O_CLOEXEC' },
      { call: 'fdatasync', path: '/t/b', flags: 'O_RDWR|O_CREAT|O_CLOEXEC' },
      { call: 'fsync', path: '/t/d', flags: undefined },
    ]);
    expect(syncsIn(log).map((s) => writable(s.flags))).toEqual([false, true, true, false]);
  });

  it('joins a call cut in two by another thread at the place it ended', () => {
    const log = ['7 rename("/t/a.tmp", "/t/a" <unfinished ...>', '8 write(3<pipe:[1]>, "x", 1) = 1', '7 <... rename resumed>) = 0', 'not a call'].join('\n');
    expect(straceCalls(log)).toEqual(['write(3<pipe:[1]>, "x", 1) = 1', 'rename("/t/a.tmp", "/t/a") = 0']);
    // and where each began: the rename before the write, which it outlasted; and which thread made each
    expect(straceEvents(log)).toEqual([
      { tid: 8, call: 'write(3<pipe:[1]>, "x", 1) = 1', start: 1, end: 1 },
      { tid: 7, call: 'rename("/t/a.tmp", "/t/a") = 0', start: 0, end: 2 },
    ]);
  });
});
