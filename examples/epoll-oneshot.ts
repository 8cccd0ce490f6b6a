/**
 * epoll-oneshot — the course's EPOLLONESHOT demo (chapter 6): one socket
 * pair, one epoll object, and the same unread data watched three ways.
 *
 * What it teaches: what each epoll mode reports for data that is left
 * unread. Level-triggered, poll() reports the fd on every call while data
 * is waiting. Edge-triggered (EPOLLET), it reports it once per arrival:
 * the second poll() finds nothing although the data is still there, and
 * only MORE data brings a new event. One-shot (EPOLLONESHOT), it reports
 * it once and then disarms the fd altogether — not even new data wakes
 * it — until the program re-arms it with `modify()`. That is how a server
 * that hands a ready connection to one of several worker threads makes
 * sure no second thread is woken for the same connection while the first
 * is still reading it.
 *
 * Run:    node-selectors epoll-oneshot
 * Exit:   0 (it prints what each poll() returned).
 */

import { EPOLLET, EPOLLIN, EPOLLONESHOT, select, socketpair } from '../lib/index.js';
import { epollEventNames } from './common/raw-loop.js';
import { runMain, type ProgramSpec } from './common/program.js';

function main(): number {
  for (const [mode, flags] of [
    ['level-triggered', 0],
    ['edge-triggered (EPOLLET)', EPOLLET],
    ['one-shot (EPOLLONESHOT)', EPOLLONESHOT],
  ] as const) {
    const [writer, reader] = socketpair();
    const ep = select.epoll();
    try {
      console.log(`${mode}:`);
      ep.register(reader, EPOLLIN | flags);
      const show = (what: string): void => {
        const ready = ep.poll(0); // timeout 0: just look
        const text = ready.map(([fd, ev]) => `fd ${fd} ${epollEventNames(ev)}`).join(', ');
        console.log(`  ${what.padEnd(36)} poll() -> ${ready.length === 0 ? 'nothing' : text}`);
      };
      writer.send(Buffer.from('hello'));
      show('5 bytes arrive, none read:');
      show('poll again, still unread:');
      writer.send(Buffer.from('world'));
      show('5 more bytes arrive:');
      if (flags === EPOLLONESHOT) {
        ep.modify(reader, EPOLLIN | EPOLLONESHOT);
        show('modify() re-arms it:');
      }
    } finally {
      ep.close();
      writer.close();
      reader.close();
    }
  }
  return 0;
}

const spec: ProgramSpec = {
  name: 'epoll-oneshot',
  usage: '',
  summary: 'The course, chapter 6: unread data under level-triggered, EPOLLET and EPOLLONESHOT epoll',
  positionals: { min: 0, max: 0 },
  main,
};

export default spec;
runMain(spec, import.meta.url);
