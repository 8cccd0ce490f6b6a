/**
 * The typed view of Node's EventEmitter that our emitter classes extend
 * (`class Message extends (EventEmitter as unknown as …)<E>`).
 *
 * Declared here rather than taken from the `typed-emitter` package: that
 * package's typings are CommonJS with a default-exported interface, which
 * ESM code reaches under `nodenext`/`node16` but not under `bundler`
 * resolution, where our classes then lost `on`/`emit` altogether. This file
 * has no imports, so it resolves the same way for every consumer.
 */

// `any[]`, not `unknown[]`: listener maps such as `(err: Error) => void`
// must be assignable (parameters are checked contravariantly).
type Listener = (...args: any[]) => void;

/**
 * An EventEmitter whose methods are typed by the event map `E` (event name
 * → listener signature): `on('close', (err: Error) => …)` on an emitter
 * whose `close` listener takes no argument is a compile error, and so is
 * `emit('error')` without the error. Declare `E` as a `type` alias, not an
 * `interface` (an interface has no implicit index signature).
 *
 * @typeParam E - the event map.
 */
export interface TypedEmitter<E extends Record<string, Listener>> {
  /** Alias of {@link TypedEmitter.on}. */
  addListener<K extends keyof E>(event: K, listener: E[K]): this;
  /** Call `listener` every time `event` is emitted. */
  on<K extends keyof E>(event: K, listener: E[K]): this;
  /** Call `listener` the next time `event` is emitted, then remove it. */
  once<K extends keyof E>(event: K, listener: E[K]): this;
  /** Like {@link TypedEmitter.on}, but before the listeners already added. */
  prependListener<K extends keyof E>(event: K, listener: E[K]): this;
  /** Like {@link TypedEmitter.once}, but before the listeners already added. */
  prependOnceListener<K extends keyof E>(event: K, listener: E[K]): this;

  /** Alias of {@link TypedEmitter.removeListener}. */
  off<K extends keyof E>(event: K, listener: E[K]): this;
  /** Remove every listener of `event`, or of every event. */
  removeAllListeners<K extends keyof E>(event?: K): this;
  /** Remove one registration of `listener` for `event`. */
  removeListener<K extends keyof E>(event: K, listener: E[K]): this;

  /** Call the listeners of `event` with `args`; true if there were any. */
  emit<K extends keyof E>(event: K, ...args: Parameters<E[K]>): boolean;
  /** The events that have listeners (any name or symbol Node holds, hence the wider type). */
  eventNames(): Array<keyof E | string | symbol>;
  /** The listeners of `event`, `once` wrappers included. */
  rawListeners<K extends keyof E>(event: K): Array<E[K]>;
  /** The listeners of `event`. */
  listeners<K extends keyof E>(event: K): Array<E[K]>;
  /** How many listeners `event` has. */
  listenerCount<K extends keyof E>(event: K): number;

  /** The listener count above which Node warns of a possible leak. */
  getMaxListeners(): number;
  /** Set that count (0: unlimited). */
  setMaxListeners(maxListeners: number): this;
}
