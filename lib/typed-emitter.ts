/**
 * typed-emitter's interface, for typing our EventEmitter subclasses
 * (`class Message extends (EventEmitter as unknown as …)<E>`).
 *
 * typed-emitter's typings are CommonJS with a default-exported interface.
 * A default import reaches it differently under `nodenext`/`node16` (the
 * whole module, so `.default`) and `bundler` (the interface itself), and
 * the classes lost `on`/`emit` under one or the other. A namespace import
 * has the interface at `.default` under every resolution;
 * test/package/consumer.test.ts checks all three.
 */
import type * as TE from 'typed-emitter';

/**
 * An EventEmitter whose methods are typed by the event map `E` (event name
 * → listener signature): `on('close', (err: Error) => …)` on an emitter
 * whose `close` listener takes no argument is a compile error, and so is
 * `emit('error')` without the error. Declare `E` as a `type` alias, not an
 * `interface` (an interface has no implicit index signature).
 *
 * @typeParam E - the event map.
 */
export type TypedEmitter<E extends TE.EventMap> = TE.default<E>;
