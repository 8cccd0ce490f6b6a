// A libc table whose calls can be scripted to fail with a chosen errno, for
// the error paths the kernel will not produce on demand.
import { libc, type Libc } from '../../lib/sys/libc.js';

export interface Scripted {
  sys: Libc;
  /** Calls seen, by function name. */
  calls: Map<string, number>;
  /** Make the next calls of `fn` matching `when` fail with `errno` (`times` times). */
  fail(fn: keyof Libc, errno: number, when?: (...args: any[]) => boolean, times?: number): void;
}

export function scripted(): Scripted {
  const real = libc();
  const calls = new Map<string, number>();
  const rules: Array<{ fn: string; errno: number; when: (...args: any[]) => boolean; times: number }> = [];
  let lastErrno: number | null = null;
  const sys = new Proxy(real, {
    get(target, prop: string) {
      const value = (target as any)[prop];
      if (prop === 'errno') return () => (lastErrno !== null ? lastErrno : real.errno());
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        calls.set(prop, (calls.get(prop) ?? 0) + 1);
        const rule = rules.find((r) => r.fn === prop && r.times > 0 && r.when(...args));
        if (rule) {
          rule.times--;
          lastErrno = rule.errno;
          return -1;
        }
        lastErrno = null;
        return value(...args);
      };
    },
  }) as Libc;
  return {
    sys,
    calls,
    fail(fn, errno, when = () => true, times = 1) {
      rules.push({ fn, errno, when, times });
    },
  };
}
