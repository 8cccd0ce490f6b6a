/**
 * typed-emitter's interface, for typing our EventEmitter subclasses. Its
 * typings are CommonJS, so from ESM the interface sits under `.default`.
 */
import type TE from 'typed-emitter';

/** An EventEmitter whose `on`/`emit` are typed by the event map `E`. */
export type TypedEmitter<E extends TE.EventMap> = TE.default<E>;
/** An event map: event name → listener signature. */
export type EventMap = TE.EventMap;
