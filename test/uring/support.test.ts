// Feature detection with a scripted binding table: each way io_uring can
// be refused gives ERR_URING_UNAVAILABLE with a reason that names it, and
// other setup failures stay SyscallErrors. Runs everywhere (no real ring
// is opened when the table is scripted).
import t from 'tap';
import { Ring, uringSupport } from '../../lib/uring/ring.js';
import type { UringSys } from '../../lib/sys/uring.js';
import { release } from 'node:os';

const [major, minor] = release().split('.').map((p) => parseInt(p, 10));
const modernKernel = major > 6 || (major === 6 && minor >= 1);

/** A table whose io_uring_setup fails with `errno`, or succeeds with fd 1000 and a probe of `ops` supported opcodes. */
function scripted(errno: number, ops = 64, features = 0xffff): UringSys & { closed: number[] } {
  const closed: number[] = [];
  let lastErrno = 0;
  return {
    closed,
    errno: () => lastErrno,
    io_uring_setup: (_entries, params) => {
      if (errno !== 0) { lastErrno = errno; return -1; }
      new DataView(params.buffer, params.byteOffset).setUint32(20, features, true);
      return 1000;
    },
    io_uring_enter: () => 0,
    io_uring_register: (_fd, _op, arg) => {
      const probe = arg as Uint8Array;
      probe[1] = ops;
      for (let op = 0; op < ops; op++) probe[16 + op * 8 + 2] = 1;
      return 0;
    },
    mmap: () => { lastErrno = 12; return 0xffffffffffffffffn; },
    munmap: () => 0,
    view: () => new ArrayBuffer(0),
    close: (fd) => { closed.push(fd); return 0; },
  };
}

t.test('each refusal is reported with its reason', { skip: modernKernel ? false : 'the kernel-version check answers first' }, async (t) => {
  const cases: Array<[number, RegExp]> = [
    [1, /EPERM \(blocked by kernel\.io_uring_disabled, a seccomp filter/],
    [38, /ENOSYS \(kernel built without io_uring/],
    [22, /EINVAL \(the kernel lacks IORING_SETUP_SINGLE_ISSUER or DEFER_TASKRUN\)/],
    [12, /io_uring_setup: ENOMEM/],
  ];
  for (const [errno, reason] of cases) {
    const s = uringSupport(scripted(errno));
    t.equal(s.ok, false);
    if (!s.ok) t.match(s.reason, reason);
  }
  const oldKernel = scripted(0, 34); // opcodes 0..33: SHUTDOWN (34, 5.11) is missing
  const s = uringSupport(oldKernel);
  t.equal(s.ok, false);
  if (!s.ok) t.match(s.reason, /lacks IORING_OP_SHUTDOWN/, 'the first missing opcode is named');
  t.same(oldKernel.closed, [1000], 'the test ring was closed');
  const noExtArg = uringSupport(scripted(0, 64, 0x2));
  if (!noExtArg.ok) t.match(noExtArg.reason, /IORING_FEAT_EXT_ARG/);
  else t.fail('a kernel without EXT_ARG passed');
  const good = uringSupport(scripted(0));
  t.equal(good.ok, true);
});

t.test('Ring.open: refusals are ERR_URING_UNAVAILABLE, other failures SyscallErrors', async (t) => {
  t.throws(() => Ring.open({ sys: scripted(1) }), { code: 'ERR_URING_UNAVAILABLE', message: /EPERM/ });
  t.throws(() => Ring.open({ sys: scripted(38) }), { code: 'ERR_URING_UNAVAILABLE', message: /ENOSYS/ });
  t.throws(() => Ring.open({ sys: scripted(22) }), { code: 'ERR_URING_UNAVAILABLE', message: /DEFER_TASKRUN/ });
  t.throws(() => Ring.open({ sys: scripted(24) }), { code: 'EMFILE', syscall: 'io_uring_setup' });
  const sys = scripted(0);
  t.throws(() => Ring.open({ sys }), { code: 'ENOMEM', syscall: 'mmap' }, 'a failed mapping');
  t.same(sys.closed, [1000], 'and the ring fd is closed');
});
